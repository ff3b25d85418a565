"""One sample through many networks at once: forward pass, error, backprop.

Every array here is [rows, lanes]: one independent network (run) per lane.
Every innermost loop runs over lanes, so LLVM turns it into SIMD code; the
choices (activation, output, loss) branch outside those loops. The lane
count is read from the arrays at run time on purpose: a constant trip count
gets the loops fully unrolled into scalar code before the vectoriser runs
(numba leaves LLVM's SLP vectoriser off). Rows are passed as (array, row)
rather than as views, which would cost reference counting per call.

Every array of reals has the dtype of the parameters (float64 or float32),
and constants are made of that type (`one = real(1.0)`, real = the arrays'
scalar type), so that a float32 call computes in float32 throughout: a
float64 literal would widen every operation it meets.

Flat vector offsets (slide order): output unit k starts at k·(H+1), hidden
unit i at off_hid + i·(n_in+1); each unit's weights come first, θ last.
"""
import collections

import numpy as np

from ..options import ACTIVATIONS, LOSSES, OUTPUTS
from .config import jit, jit_inline
from .fastmath import exp_, log1p_

LANES = 128   # runs side by side in one block; measured best on AVX2 (lane loops
              # are short, so longer ones amortise their set-up; w and g still fit L1/L2)

SIGMOID, TANH, RELU = (ACTIVATIONS.index(a) for a in ("sigmoid", "tanh", "relu"))
SOFTMAX = OUTPUTS.index("softmax")
CROSS_ENTROPY = LOSSES.index("cross_entropy")

# A unit counts as dead when its slope a'(s) is below this on every input.
DEAD_SLOPE = 1e-6

Net = collections.namedtuple("Net", "n_in n_hidden n_out off_hid activation output loss")
# One sample's pass for every lane of a block: inputs, targets, s, h, z, δ
# (passed around as `buf`). s_max is max_k s_k^O, j_max its first argmax; order
# stands in for the sample order of passes where every lane takes sample q (never read).
Scratch = collections.namedtuple(
    "Scratch", "x t label s_hid h keep h_kept s_out z delta_out delta_hid s_max j_max u log_sum t_sum order")


@jit_inline
def scratch(net, L, real):
    """One sample's buffers for L lanes, reals of dtype `real`."""
    H, K = net.n_hidden, net.n_out
    return Scratch(np.empty((net.n_in, L), real), np.empty((K, L), real), np.empty(L, np.int64),
                   np.empty((H, L), real), np.empty((H, L), real), np.ones((H, L), real), np.empty((H, L), real),
                   np.empty((K, L), real), np.empty((K, L), real), np.empty((K, L), real), np.empty((H, L), real),
                   np.empty(L, real), np.empty(L, np.int64), np.empty(L, real), np.empty(L, real), np.empty(L, real),
                   np.empty((1, L), np.int64))


@jit_inline
def load_samples(X, T, labels, order, q, shared, buf):
    """Copy sample order[q, r] into lane r of buf.x, buf.t, buf.label; `shared`:
    every lane takes sample q (a broadcast instead of a gather; passes over every
    sample in order)."""
    L = buf.x.shape[1]
    if shared:
        p = q
        for m in range(X.shape[1]):
            buf.x[m, :] = X[p, m]
        for k in range(T.shape[1]):
            buf.t[k, :] = T[p, k]
        buf.label[:] = labels[p]
        return
    for m in range(X.shape[1]):
        for r in range(L):
            buf.x[m, r] = X[order[q, r], m]
    for k in range(T.shape[1]):
        for r in range(L):
            buf.t[k, r] = T[order[q, r], k]
    for r in range(L):
        buf.label[r] = labels[order[q, r]]


@jit_inline
def activate(activation, s, y, i):
    """y[i] = a(s[i]) across lanes."""
    L, real = s.shape[1], s.dtype.type
    one, two, zero = real(1.0), real(2.0), real(0.0)
    if activation == SIGMOID:
        for r in range(L):
            y[i, r] = one / (one + exp_(-s[i, r]))
    elif activation == TANH:
        for r in range(L):
            e = exp_(-two * abs(s[i, r]))
            y[i, r] = np.copysign((one - e) / (one + e), s[i, r])
    else:
        for r in range(L):
            y[i, r] = s[i, r] if s[i, r] > zero else zero


@jit_inline
def times_slope(activation, y, d, i):
    """d[i] *= a'(s[i]) across lanes, from y = a(s)."""
    L, real = y.shape[1], y.dtype.type
    one, zero = real(1.0), real(0.0)
    if activation == SIGMOID:
        for r in range(L):
            d[i, r] *= y[i, r] * (one - y[i, r])
    elif activation == TANH:
        for r in range(L):
            d[i, r] *= one - y[i, r] * y[i, r]
    else:
        for r in range(L):
            d[i, r] = d[i, r] if y[i, r] > zero else zero


@jit_inline
def affine(w, start, n, inputs, s, row, shared):
    """s[row] = w_start..w_start+n-1 · inputs − θ (θ = w_start+n), per lane;
    `shared`: every lane has the same inputs, read once as a scalar (a
    quarter faster: one load less per multiply-add)."""
    L = w.shape[1]
    for r in range(L):
        s[row, r] = -w[start + n, r]
    for m in range(n):
        if shared:
            x = inputs[m, 0]
            for r in range(L):
                s[row, r] += w[start + m, r] * x
        else:
            for r in range(L):
                s[row, r] += w[start + m, r] * inputs[m, r]


@jit_inline
def forward(net, w, buf, shared):
    """Hidden outputs buf.h (buf.h_kept after dropout factors buf.keep) and outputs
    buf.s_out; `shared`: all lanes see the same sample."""
    for i in range(net.n_hidden):
        affine(w, net.off_hid + i * (net.n_in + 1), net.n_in, buf.x, buf.s_hid, i, shared)
        activate(net.activation, buf.s_hid, buf.h, i)
        for r in range(buf.h.shape[1]):
            buf.h_kept[i, r] = buf.h[i, r] * buf.keep[i, r]
    for k in range(net.n_out):
        affine(w, k * (net.n_hidden + 1), net.n_hidden, buf.h_kept, buf.s_out, k, False)


@jit_inline
def softmax_outputs(net, buf):
    """z = softmax(s^O), with buf.s_max = max_k s_k (first argmax in buf.j_max)
    and buf.u = Σ over the other k of e^(s_k − max), kept for the error."""
    L, K, real = buf.z.shape[1], net.n_out, buf.z.dtype.type
    one, zero = real(1.0), real(0.0)
    for r in range(L):
        buf.s_max[r] = buf.s_out[0, r]
        buf.j_max[r] = 0
    for k in range(1, K):
        for r in range(L):
            if buf.s_out[k, r] > buf.s_max[r]:
                buf.s_max[r] = buf.s_out[k, r]
                buf.j_max[r] = k
    for r in range(L):
        buf.u[r] = zero
    for k in range(K):
        for r in range(L):
            buf.z[k, r] = exp_(buf.s_out[k, r] - buf.s_max[r])
            buf.u[r] += zero if k == buf.j_max[r] else buf.z[k, r]
    for k in range(K):
        for r in range(L):
            buf.z[k, r] /= one + buf.u[r]


@jit_inline
def sigmoid_outputs(net, buf):
    """z_k = σ(s_k) each, from e^−|s_k| (no overflow either side); buf.j_max = argmax."""
    L, real = buf.z.shape[1], buf.z.dtype.type
    one, zero = real(1.0), real(0.0)
    for r in range(L):
        buf.s_max[r] = buf.s_out[0, r]
        buf.j_max[r] = 0
    for k in range(net.n_out):
        for r in range(L):
            s = buf.s_out[k, r]
            if k > 0 and s > buf.s_max[r]:
                buf.s_max[r] = s
                buf.j_max[r] = k
            q = exp_(-abs(s))
            buf.z[k, r] = (one if s >= zero else q) / (one + q)


@jit_inline
def outputs(net, buf):
    if net.output == SOFTMAX:
        softmax_outputs(net, buf)
    else:
        sigmoid_outputs(net, buf)


@jit_inline
def add_error(net, buf, e, correct):
    """Add each lane's e_p to e and a hit to correct where argmax z = label.

    Cross-entropy takes log z from s^O, never the log of a rounded z:
    softmax log z_k = s_k − max − log(1 + u); sigmoid −log z_k = softplus(−s_k)
    = max(−s_k, 0) + log(1 + e^−|s_k|)."""
    L, real = buf.z.shape[1], buf.z.dtype.type
    half, zero = real(0.5), real(0.0)
    for r in range(L):   # hits are counted in float64 whatever the dtype: accuracies stay exact fractions
        correct[r] += 1.0 if buf.j_max[r] == buf.label[r] else 0.0
    if net.loss != CROSS_ENTROPY:
        for k in range(net.n_out):
            for r in range(L):
                d = buf.t[k, r] - buf.z[k, r]
                e[r] += half * (d * d)
    elif net.output == SOFTMAX:
        for r in range(L):
            buf.log_sum[r] = log1p_(buf.u[r])
        for k in range(net.n_out):
            for r in range(L):
                e[r] -= buf.t[k, r] * (buf.s_out[k, r] - buf.s_max[r] - buf.log_sum[r])
    else:
        for k in range(net.n_out):
            for r in range(L):
                s = buf.s_out[k, r]
                e[r] += buf.t[k, r] * (max(-s, zero) + log1p_(exp_(-abs(s))))


@jit_inline
def output_delta(net, buf, scale):
    """δ^O = ∂e_p/∂s^O (times scale: 1/batch for mean errors), exact for
    each output × loss pair (the slides print only the squared-error one)."""
    L, K, real = buf.z.shape[1], net.n_out, buf.z.dtype.type
    one, zero = real(1.0), real(0.0)
    softmax, cross_entropy = net.output == SOFTMAX, net.loss == CROSS_ENTROPY
    if softmax and not cross_entropy:
        # squared error through softmax: δ_k = z_k((z_k − t_k) − Σ_j (z_j − t_j) z_j)
        for r in range(L):
            buf.u[r] = zero
        for k in range(K):
            for r in range(L):
                buf.u[r] += (buf.z[k, r] - buf.t[k, r]) * buf.z[k, r]
    for r in range(L):
        buf.t_sum[r] = zero   # Σ_j t_j, for softmax + cross-entropy
    for k in range(K):
        for r in range(L):
            buf.t_sum[r] += buf.t[k, r]
    for k in range(K):
        for r in range(L):
            z, t = buf.z[k, r], buf.t[k, r]
            if softmax and cross_entropy:
                d = z * buf.t_sum[r] - t
            elif softmax:
                d = z * ((z - t) - buf.u[r])
            elif cross_entropy:
                d = -t * (one - z)
            else:
                d = (z - t) * z * (one - z)
            buf.delta_out[k, r] = d * scale


@jit_inline
def backward(net, w, buf, scale, shared, g):
    """Add ∂e_p/∂w (times scale) to the gradient g [P, lanes]: ∂s/∂w is the
    input, ∂s/∂θ is −1."""
    L = buf.z.shape[1]
    H, n_in = net.n_hidden, net.n_in
    output_delta(net, buf, scale)
    for i in range(H):
        for r in range(L):
            buf.delta_hid[i, r] = 0
    for k in range(net.n_out):
        start = k * (H + 1)
        for i in range(H):
            for r in range(L):
                buf.delta_hid[i, r] += buf.delta_out[k, r] * w[start + i, r]
                g[start + i, r] += buf.delta_out[k, r] * buf.h_kept[i, r]
        for r in range(L):
            g[start + H, r] -= buf.delta_out[k, r]
    for i in range(H):
        start = net.off_hid + i * (n_in + 1)
        for r in range(L):
            buf.delta_hid[i, r] *= buf.keep[i, r]
        times_slope(net.activation, buf.h, buf.delta_hid, i)
        for m in range(n_in):
            if shared:
                x = buf.x[m, 0]
                for r in range(L):
                    g[start + m, r] += buf.delta_hid[i, r] * x
            else:
                for r in range(L):
                    g[start + m, r] += buf.delta_hid[i, r] * buf.x[m, r]
        for r in range(L):
            g[start + n_in, r] -= buf.delta_hid[i, r]
