"""Samples through many networks at once: forward pass, error, backprop.

Every array here is [rows, lanes]: one independent network (run) per lane.
The hidden layer's products are taken a tile of TILE samples at a time (the
rest of a pass one sample at a time), so that each row of w and g is read
once per tile; every number is summed in the same order as one sample at a
time would, so the results have the same bits.
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
This module holds the network of one hidden layer; deep.py adds the layers
above the first for deeper ones.
"""

import collections

import numpy as np

from ..options import ACTIVATIONS, LOSSES, MAX_DEPTH, OUTPUTS
from .config import jit_inline
from .fastmath import exp_, log1p_

# The per-run pass (per_run.py, a block of one lane) takes up to CHUNK samples side by
# side in the vector instead; its buffers live in buf.deep, sized by per_run_room.
from .per_run_buffers import CHUNK, per_run_room

LANES = 128  # runs side by side in one block; measured best, against 64 and 256 (lane
# loops are short, so longer ones amortise their set-up; w and g fit L2)
# Samples whose hidden-layer products are taken together: each row of w and g
# is then read once per TILE samples instead of once per sample (with 128 lanes
# they live in L2), and each lane loop does TILE samples' work for one set-up.
# 4 measured faster than 8; tiling the output layer as well measured slower.
TILE = 4
DEEP_BLOCKS = 5  # blocks of buf.deep (deep.py)
INPUTS = 4  # inputs whose products hidden_sums adds while the sums stay in registers

SIGMOID, TANH, RELU = (ACTIVATIONS.index(a) for a in ("sigmoid", "tanh", "relu"))
SOFTMAX = OUTPUTS.index("softmax")
CROSS_ENTROPY = LOSSES.index("cross_entropy")

# A unit counts as dead when its slope a'(s) is below this on every input.
DEAD_SLOPE = 1e-6


# n_hidden and off_hid: the first hidden layer's width and offset (the one the tiled
# code below computes). depth: hidden layers D; n_units: ΣH, rows of keep and alive.
# widths (n_in, H_1, …, H_D, n_out), offsets[l] (where layer l's first unit starts;
# offsets[D+1] = 0, the output layer) and rows[l] (layer l's first unit among the
# ΣH hidden ones) are tuples padded to MAX_DEPTH + 2: numbers, not arrays, so a
# Net passed to a call carries no reference count.
Net = collections.namedtuple(
    "Net", "n_in n_hidden n_out off_hid activation output loss depth n_units widths offsets rows"
)


def make_net(widths, activation, output, loss):
    """The Net of layer widths (n_in, H_1, …, H_D, n_out) in the slides' order
    generalised (output layer first, then the hidden layers from the one nearest
    the output down to the first; each unit its weights, then θ), and the codes of
    activation, output and loss."""
    widths = [int(n) for n in widths]
    depth = len(widths) - 2
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"hidden: 1 to {MAX_DEPTH} layers, got {depth}")
    offsets = [0] * (MAX_DEPTH + 2)
    for l in range(depth, 0, -1):  # layer l starts where layer l + 1 ends
        offsets[l] = offsets[l + 1] + widths[l + 1] * (widths[l] + 1)
    rows = [0] * (MAX_DEPTH + 2)
    for l in range(2, depth + 2):
        rows[l] = rows[l - 1] + widths[l - 1]
    padded = tuple(widths) + (0,) * (MAX_DEPTH + 2 - len(widths))
    return Net(
        widths[0], widths[1], widths[-1], offsets[1], activation, output, loss,
        depth, rows[depth + 1], padded, tuple(offsets), tuple(rows),
    )  # fmt: skip


# Buffers for every lane of a block (passed around as `buf`): one sample's targets,
# h, z, δ^O; a tile's inputs x [TILE·n_in], hidden sums s_hid and δ^H [TILE·H]
# (sample t of the tile in rows t·n_in + m and t·H + i). s_max is max_k s_k^O,
# j_max its first argmax; order stands in for the sample order of passes where
# every lane takes sample q (never read). deep: the tile's sums, outputs, kept
# outputs, dropout factors and δ of every hidden layer (deep.py). held: which
# samples the per-run pass's input buffers hold (per_run.py).
Scratch = collections.namedtuple(
    "Scratch", "x t label s_hid h keep h_kept s_out z delta_out delta_hid s_max j_max u log_sum t_sum order deep held"
)


@jit_inline
def scratch(net, L, real):
    """The buffers of a tile (x, s_hid, delta_hid) and of one sample for L lanes, reals of dtype `real`.
    A block of one lane is the per-run pass's (per_run.py): then buf.deep, label and j_max
    are its buffers of CHUNK samples as well."""
    H, K = net.n_hidden, net.n_out
    room = max(DEEP_BLOCKS * TILE * net.n_units, per_run_room(net)) if L == 1 else DEEP_BLOCKS * TILE * net.n_units
    samples = CHUNK if L == 1 else L
    return Scratch(
        np.zeros((TILE * net.n_in, L), real),
        np.empty((K, L), real),
        np.empty(samples, np.int64),
        np.empty((TILE * H, L), real),
        np.empty((H, L), real),
        np.ones((H, L), real),
        np.empty((H, L), real),
        np.empty((K, L), real),
        np.empty((K, L), real),
        np.empty((K, L), real),
        np.zeros((TILE * H, L), real),
        np.empty(L, real),
        np.empty(samples, np.int32),  # j_max: 32 bits, or float32's softmax loop ran at half the vector width
        np.empty(L, real),
        np.empty(L, real),
        np.empty(L, real),
        np.empty((1, L), np.int64),
        np.zeros((room, L), real),
        np.full(5, -1, np.int64),
    )


@jit_inline
def load_inputs(X, order, q, shared, buf, t):
    """Copy the inputs of sample order[q, r] into lane r of tile slot t; `shared`:
    every lane takes sample q, kept once in column 0 (passes over every sample in order)."""
    L, row = buf.x.shape[1], t * X.shape[1]
    for m in range(X.shape[1]):
        if shared:
            buf.x[row + m, 0] = X[q, m]
        else:
            for r in range(L):
                buf.x[row + m, r] = X[order[q, r], m]


@jit_inline
def load_targets(T, labels, order, q, shared, buf, with_label):
    """Targets of sample order[q, r] into lane r (sample q in every lane if shared),
    their sum Σ_k t_k (for softmax + cross-entropy's δ) and, if asked, the label.
    Σt starts from the first target (0 + t_0, as a sum from zero) rather than from
    a zeroed row, and no slice is assigned: LLVM turned either into a call
    (memset, numba's slice setter), and numba keeps the reference counts of buf's
    arrays around a call, so every sample counted its 17 arrays up and down
    (atomic operations: 6 % of float64 and 12 % of float32 training on Ice Lake)."""
    L, K, zero = buf.t.shape[1], T.shape[1], buf.t.dtype.type(0.0)
    for k in range(K):
        for r in range(L):
            t = T[q, k] if shared else T[order[q, r], k]
            buf.t[k, r] = t
            buf.t_sum[r] = (zero if k == 0 else buf.t_sum[r]) + t
    if with_label:
        for r in range(L):
            buf.label[r] = labels[q] if shared else labels[order[q, r]]


@jit_inline
def clear_slots(net, buf, count):
    """Zero the inputs and δ^H of tile slots count..TILE−1 (past the last sample):
    they add 0·0 = +0 to every gradient, which leaves each sum's bits as they are."""
    for row in range(count * net.n_in, TILE * net.n_in):
        for r in range(buf.x.shape[1]):
            buf.x[row, r] = 0.0
    for row in range(count * net.n_hidden, TILE * net.n_hidden):
        for r in range(buf.delta_hid.shape[1]):
            buf.delta_hid[row, r] = 0.0


@jit_inline
def activate(activation, s, row, y, i):
    """y[i] = a(s[row]) across lanes."""
    L, real = s.shape[1], s.dtype.type
    one, two, zero = real(1.0), real(2.0), real(0.0)
    if activation == SIGMOID:
        for r in range(L):
            y[i, r] = one / (one + exp_(-s[row, r]))
    elif activation == TANH:
        for r in range(L):
            e = exp_(-two * abs(s[row, r]))
            y[i, r] = np.copysign((one - e) / (one + e), s[row, r])
    else:
        for r in range(L):
            y[i, r] = s[row, r] if s[row, r] > zero else zero


@jit_inline
def times_slope(activation, y, i, d, row):
    """d[row] *= a'(s[i]) across lanes, from y[i] = a(s[i])."""
    L, real = y.shape[1], y.dtype.type
    one, zero = real(1.0), real(0.0)
    if activation == SIGMOID:
        for r in range(L):
            d[row, r] *= y[i, r] * (one - y[i, r])
    elif activation == TANH:
        for r in range(L):
            d[row, r] *= one - y[i, r] * y[i, r]
    else:
        for r in range(L):
            d[row, r] = d[row, r] if y[i, r] > zero else zero


@jit_inline
def add_products(w, start, m, width, x, s, row, stride, shared):
    """s[row + t·stride] += w_m+j · x_t,m+j for j < width, t < TILE, per lane: the
    sums stay in registers across the `width` inputs (a constant at the call:
    LLVM unrolls both short loops inside the loop over lanes), one store each."""
    n = x.shape[0] // TILE
    if shared:
        for r in range(s.shape[1]):
            for t in range(TILE):
                s_t = s[row + t * stride, r]
                for j in range(width):
                    s_t += w[start + m + j, r] * x[t * n + m + j, 0]
                s[row + t * stride, r] = s_t
    else:
        for r in range(s.shape[1]):
            for t in range(TILE):
                s_t = s[row + t * stride, r]
                for j in range(width):
                    s_t += w[start + m + j, r] * x[t * n + m + j, r]
                s[row + t * stride, r] = s_t


@jit_inline
def hidden_sums(net, w, buf, shared):
    """s^H of the tile's samples, s[t·H + i] = w_i · x_t − θ_i per lane, each row
    of w read once for all TILE samples, inputs taken INPUTS at a time;
    `shared`: the inputs are the same in every lane, read as scalars."""
    n_in, H, L = net.n_in, net.n_hidden, w.shape[1]
    for i in range(H):
        start = net.off_hid + i * (n_in + 1)
        for r in range(L):
            for t in range(TILE):
                buf.s_hid[t * H + i, r] = -w[start + n_in, r]
        if shared:  # the full-batch passes that dominate training; the rest one input at a time
            whole = n_in - n_in % INPUTS
            for m in range(0, whole, INPUTS):
                add_products(w, start, m, INPUTS, buf.x, buf.s_hid, i, H, True)
            for m in range(whole, n_in):
                add_products(w, start, m, 1, buf.x, buf.s_hid, i, H, True)
        else:
            for m in range(n_in):
                add_products(w, start, m, 1, buf.x, buf.s_hid, i, H, False)


@jit_inline
def kept(buf, dropout):
    """The hidden outputs after dropout factors: buf.h itself without dropout (factors 1)."""
    return buf.h_kept if dropout else buf.h


@jit_inline
def output_sums(net, w, buf, t, dropout):
    """Hidden outputs buf.h of tile slot t (buf.h_kept after dropout factors
    buf.keep) and output sums buf.s_out = w_k · h_kept − θ_k."""
    H, L = net.n_hidden, w.shape[1]
    for i in range(H):
        activate(net.activation, buf.s_hid, t * H + i, buf.h, i)
        if dropout:
            for r in range(L):
                buf.h_kept[i, r] = buf.h[i, r] * buf.keep[i, r]
    output_layer_sums(net, w, buf, kept(buf, dropout))


@jit_inline
def output_layer_sums(net, w, buf, h_kept):
    """buf.s_out = w_k · h_kept − θ_k per lane."""
    H, L = net.n_hidden, w.shape[1]
    for k in range(net.n_out):
        start = k * (H + 1)
        for r in range(L):
            buf.s_out[k, r] = -w[start + H, r]
        for i in range(H):
            for r in range(L):
                buf.s_out[k, r] += w[start + i, r] * h_kept[i, r]


@jit_inline
def evaluated_error(net, w, buf, keep, e, correct):
    """Add e_p and the hit of the network as evaluated (hidden outputs times
    keep[r], not the training's dropout masks) to e and correct, from the
    hidden outputs buf.h of the sample just trained: the numbers a pass that
    measures E alone gives (its h_kept = h · keep, from the same h)."""
    for i in range(net.n_hidden):
        for r in range(w.shape[1]):
            buf.h_kept[i, r] = buf.h[i, r] * keep[r]
    output_layer_sums(net, w, buf, buf.h_kept)
    outputs(net, buf, False)
    add_error(net, buf, e, correct)


@jit_inline
def softmax_outputs(net, buf, probabilities):
    """z = softmax(s^O) if probabilities (else z is left as it was: E and the
    hits need only the numbers below), with buf.s_max = max_k s_k (first argmax
    in buf.j_max) and buf.u = Σ over the other k of e^(s_k − max), kept for the error."""
    L, K, real = buf.z.shape[1], net.n_out, buf.z.dtype.type
    one, zero = real(1.0), real(0.0)
    if K == 2:  # the lecture's: one exponential per lane, the larger output's e^0 = 1 taken as known
        for r in range(L):  # the same numbers as the loops below, NaN included
            s0, s1 = buf.s_out[0, r], buf.s_out[1, r]
            first = not s1 > s0
            s_max, s_other = (s0, s1) if first else (s1, s0)
            q = exp_(s_other - s_max)
            buf.s_max[r], buf.j_max[r], buf.u[r] = s_max, 0 if first else 1, q
            if probabilities:
                big, small = one / (one + q), q / (one + q)
                buf.z[0, r] = big if first else small
                buf.z[1, r] = small if first else big
        return
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
    if not probabilities:
        return
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
def outputs(net, buf, gradient):
    """z = a(s^O), as far as the pass needs it: a softmax's z only for the
    gradient (δ^O) or a squared error; cross-entropy takes E from s^O and u."""
    if net.output == SOFTMAX:
        softmax_outputs(net, buf, gradient or net.loss != CROSS_ENTROPY)
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
    for r in range(L):  # hits are counted in float64 whatever the dtype: accuracies stay exact fractions
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
def output_backward(net, w, buf, scale, t, dropout, g):
    """Add ∂e_p/∂w of the output layer (times scale) to g [P, lanes] and put
    δ^H of tile slot t in buf.delta_hid; ∂s/∂w is the input, ∂s/∂θ is −1."""
    L, H = buf.z.shape[1], net.n_hidden
    row = t * H
    h_kept = kept(buf, dropout)
    output_delta(net, buf, scale)
    for i in range(H):
        for r in range(L):
            buf.delta_hid[row + i, r] = 0
    for k in range(net.n_out):
        start = k * (H + 1)
        for i in range(H):
            for r in range(L):
                buf.delta_hid[row + i, r] += buf.delta_out[k, r] * w[start + i, r]
                g[start + i, r] += buf.delta_out[k, r] * h_kept[i, r]
        for r in range(L):
            g[start + H, r] -= buf.delta_out[k, r]
    for i in range(H):
        if dropout:
            for r in range(L):
                buf.delta_hid[row + i, r] *= buf.keep[i, r]
        times_slope(net.activation, buf.h, i, buf.delta_hid, row + i)


@jit_inline
def hidden_gradient(net, buf, shared, g):
    """Add the tile's ∂e_p/∂w of the hidden layer to g: g_mi += δ^H_i x_m sample
    after sample, kept in a register between them, so each sum has the bits
    that one pass per sample gives; each g row read and written once per tile."""
    n_in, H, L = net.n_in, net.n_hidden, g.shape[1]
    for i in range(H):
        start = net.off_hid + i * (n_in + 1)
        for m in range(n_in):
            if shared:
                for r in range(L):
                    g_m = g[start + m, r]
                    for t in range(TILE):
                        g_m += buf.delta_hid[t * H + i, r] * buf.x[t * n_in + m, 0]
                    g[start + m, r] = g_m
            else:
                for r in range(L):
                    g_m = g[start + m, r]
                    for t in range(TILE):
                        g_m += buf.delta_hid[t * H + i, r] * buf.x[t * n_in + m, r]
                    g[start + m, r] = g_m
        for r in range(L):
            g_theta = g[start + n_in, r]
            for t in range(TILE):
                g_theta -= buf.delta_hid[t * H + i, r]
            g[start + n_in, r] = g_theta
