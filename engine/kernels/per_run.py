"""Samples through one network: the pass of a block of one lane, with the
samples in the vector instead of the runs (issues 22 and 23).

The lane passes (train.py's run_pass, deep.py's deep_pass) keep one run per
lane: a call of fewer runs than a vector holds leaves lanes empty, and a wide
network reads each weight once per tile of TILE samples. This pass takes the
pass's samples CHUNK at a time, and every innermost loop runs over samples
(the sums, δ of the layer below), so each weight is read once per chunk;
the gradient, whose chains run over the samples, sums its rows in explicit
vectors (vector.add_outer), a row's inputs side by side. It has run_pass's
signature, for w [P, 1], any depth, every mode, dropout and reduction;
train_block calls it by address (address.py) when a block has one lane
(entry.train_blocks).

Bits: every sum is taken in the lane passes' order, so a run's numbers are
the same whichever pass trains it: a unit's sum from −θ, then the weights in
order; δ of a unit from zero over the units above in order; each gradient
entry and E sample after sample (E's terms within a sample over the outputs
in order). Config.py contracts no multiply-add, so each step rounds as there.
One difference cannot be kept: the lane passes add 0·x for the tile slots
past a pass's last sample, which turns a gradient entry of −0 (only a
flushed subnormal gives one) into +0. (θ's entry adds δ·(−1) where the lane
passes subtract δ: the same number, NaN where either is NaN.)

buf.deep [room, 1] (network.scratch with one lane) holds the buffers, laid
out by per_run_buffers.py for CHUNK samples and viewed per chunk as [rows, b]
arrays (C-contiguous, so that the sample loops vectorise): the outputs
y = a(s) of every hidden layer (unit i of layer l in row rows[l] + i), kept
outputs y·keep, dropout factors keep, δ, the inputs, the output layer's
numbers, and the gradient's padded rows with their inputs by sample. The
output helpers of network.py (softmax, δ^O, slopes) loop over the lanes of
[K, L] arrays; here they get [K, b] ones, so they loop over samples. A pass
over every sample in order (a full batch) finds its inputs and targets as
the last such pass left them, and loads them only when they changed
(buf.held: which arrays, first sample and count they are).

Which pass a call takes (training.auto_block_size): this one where a thread
has ALONE runs or fewer (24, train.py), for a queue's last ALONE runs, and
for networks of PER_RUN_PARAMS
(1,000) parameters or more whose passes take PER_RUN_SAMPLES (128) samples or
more; the lane passes otherwise. Measured on Intel Ice Lake, 64 runs a call
(docs/performance.md, "The per-run pass"): the digits networks with
mini-batches of 128 (760 to 37,810 parameters) train 1.1–3.7× faster here;
12-H-2 on 64 samples at a full batch (the lane passes read each input once for
every lane) or with mini-batches of 16 (vectors of 16 samples) mostly slower,
up to 3.6× for H = 3, about even at H = 100–200. An explicit block_size still decides.
"""

import numpy as np

from . import rng
from .borrow import matrix
from .config import jit, jit_inline
from .fastmath import exp_, log1p_
from .network import (
    CROSS_ENTROPY,
    DEAD_SLOPE,
    SOFTMAX,
    Scratch,
    activate,
    output_delta,
    outputs,
    times_slope,
)
from .optimizers import DROPOUT
from .per_run_buffers import (
    AT_D_OUT,
    AT_DELTA,
    AT_G,
    AT_KEEP,
    AT_KEPT,
    AT_KP,
    AT_LOG_SUM,
    AT_S_MAX,
    AT_S_OUT,
    AT_T,
    AT_T_SUM,
    AT_TERM,
    AT_U,
    AT_XC,
    AT_XP,
    AT_Y,
    AT_Z,
    CHUNK,
    entries_of,
    kept_at,
    layout,
    padded,
    sums_at,
    vector,
    view,
)
from .train import ERROR_AND_DEAD, GRADIENT
from .vector import ROWS, add_outer

GROUP = 4  # inputs (sums), units (δ below) per pass over a row: written out
# units (sums), inputs (δ below) per pass, written out: each row loaded is used by all BLOCK sums.
# A chunk's rows outgrow L1 (100 inputs × 128 samples: 100 KB in float64), so each was read from L2 once a unit.
BLOCK = 4


@jit_inline
def layer_sums(w, off, fan_in, units, x, x_row, y, y_row):
    """y[y_row + i] = w_i · x − θ_i per sample for the units of the layer whose
    weights start at off, from its inputs x[x_row..]: −θ, then the weights in
    order, GROUP of them per pass over the samples (the sums stay in registers
    across them), for BLOCK units at once (each input loaded once for all of
    them). The loops are written out, not a helper called per group: each call
    of an inlined helper counts its arrays' references up and down, which cost
    a third of a small network's time."""
    b, n = y.shape[1], fan_in + 1  # n: a unit's weights and θ
    whole, blocked = fan_in - fan_in % GROUP, units - units % BLOCK
    for i in range(0, blocked, BLOCK):
        a, row = off + i * n, y_row + i  # unit i + k's weights start at a + k·n
        t0, t1, t2, t3 = -w[a + fan_in], -w[a + n + fan_in], -w[a + 2 * n + fan_in], -w[a + 3 * n + fan_in]
        for s in range(b):
            y[row, s], y[row + 1, s], y[row + 2, s], y[row + 3, s] = t0, t1, t2, t3
        for m in range(0, whole, GROUP):
            p, r = a + m, x_row + m
            w00, w01, w02, w03 = w[p], w[p + 1], w[p + 2], w[p + 3]
            p += n
            w10, w11, w12, w13 = w[p], w[p + 1], w[p + 2], w[p + 3]
            p += n
            w20, w21, w22, w23 = w[p], w[p + 1], w[p + 2], w[p + 3]
            p += n
            w30, w31, w32, w33 = w[p], w[p + 1], w[p + 2], w[p + 3]
            for s in range(b):
                x0, x1, x2, x3 = x[r, s], x[r + 1, s], x[r + 2, s], x[r + 3, s]
                v = y[row, s]
                v += w00 * x0
                v += w01 * x1
                v += w02 * x2
                v += w03 * x3
                y[row, s] = v
                v = y[row + 1, s]
                v += w10 * x0
                v += w11 * x1
                v += w12 * x2
                v += w13 * x3
                y[row + 1, s] = v
                v = y[row + 2, s]
                v += w20 * x0
                v += w21 * x1
                v += w22 * x2
                v += w23 * x3
                y[row + 2, s] = v
                v = y[row + 3, s]
                v += w30 * x0
                v += w31 * x1
                v += w32 * x2
                v += w33 * x3
                y[row + 3, s] = v
        for m in range(whole, fan_in):
            p, r = a + m, x_row + m
            w0, w1, w2, w3 = w[p], w[p + n], w[p + 2 * n], w[p + 3 * n]
            for s in range(b):
                x0 = x[r, s]
                y[row, s] += w0 * x0
                y[row + 1, s] += w1 * x0
                y[row + 2, s] += w2 * x0
                y[row + 3, s] += w3 * x0
    for i in range(blocked, units):  # the last units % BLOCK, one at a time
        start, row = off + i * n, y_row + i
        theta = -w[start + fan_in]
        for s in range(b):
            y[row, s] = theta
        for m in range(0, whole, GROUP):
            w0, w1, w2, w3 = w[start + m], w[start + m + 1], w[start + m + 2], w[start + m + 3]
            r = x_row + m
            for s in range(b):
                v = y[row, s]
                v += w0 * x[r, s]
                v += w1 * x[r + 1, s]
                v += w2 * x[r + 2, s]
                v += w3 * x[r + 3, s]
                y[row, s] = v
        for m in range(whole, fan_in):
            w0, r = w[start + m], x_row + m
            for s in range(b):
                y[row, s] += w0 * x[r, s]


@jit_inline
def layer_below(w, off, fan_in, units, d, d_row, below, b_row):
    """δ of the layer below before its slope: below[b_row + j] = Σ_i δ_i w_ij per
    sample, from zero over the units i above in order, GROUP of them per pass,
    for BLOCK inputs j at once (each δ row loaded once for all of them)."""
    b, n, real = d.shape[1], fan_in + 1, d.dtype.type
    whole, blocked = units - units % GROUP, fan_in - fan_in % BLOCK
    for j in range(0, blocked, BLOCK):
        row = b_row + j
        for s in range(b):
            below[row, s] = below[row + 1, s] = below[row + 2, s] = below[row + 3, s] = real(0.0)
        for i in range(0, whole, GROUP):
            p, r = off + i * n + j, d_row + i  # w_ij; w_(i+k)j at p + k·n
            w00, w01, w02, w03 = w[p], w[p + 1], w[p + 2], w[p + 3]
            p += n
            w10, w11, w12, w13 = w[p], w[p + 1], w[p + 2], w[p + 3]
            p += n
            w20, w21, w22, w23 = w[p], w[p + 1], w[p + 2], w[p + 3]
            p += n
            w30, w31, w32, w33 = w[p], w[p + 1], w[p + 2], w[p + 3]
            for s in range(b):
                d0, d1, d2, d3 = d[r, s], d[r + 1, s], d[r + 2, s], d[r + 3, s]
                v = below[row, s]
                v += d0 * w00
                v += d1 * w10
                v += d2 * w20
                v += d3 * w30
                below[row, s] = v
                v = below[row + 1, s]
                v += d0 * w01
                v += d1 * w11
                v += d2 * w21
                v += d3 * w31
                below[row + 1, s] = v
                v = below[row + 2, s]
                v += d0 * w02
                v += d1 * w12
                v += d2 * w22
                v += d3 * w32
                below[row + 2, s] = v
                v = below[row + 3, s]
                v += d0 * w03
                v += d1 * w13
                v += d2 * w23
                v += d3 * w33
                below[row + 3, s] = v
        for i in range(whole, units):
            p, r = off + i * n + j, d_row + i
            w0, w1, w2, w3 = w[p], w[p + 1], w[p + 2], w[p + 3]
            for s in range(b):
                d0 = d[r, s]
                below[row, s] += d0 * w0
                below[row + 1, s] += d0 * w1
                below[row + 2, s] += d0 * w2
                below[row + 3, s] += d0 * w3
    for j in range(blocked, fan_in):  # the last fan_in % BLOCK, one at a time
        for s in range(b):
            below[b_row + j, s] = real(0.0)
        for i in range(0, whole, GROUP):
            w0 = w[off + i * n + j]
            w1 = w[off + (i + 1) * n + j]
            w2 = w[off + (i + 2) * n + j]
            w3 = w[off + (i + 3) * n + j]
            for s in range(b):
                v = below[b_row + j, s]
                v += d[d_row + i, s] * w0
                v += d[d_row + i + 1, s] * w1
                v += d[d_row + i + 2, s] * w2
                v += d[d_row + i + 3, s] * w3
                below[b_row + j, s] = v
        for i in range(whole, units):
            w0 = w[off + i * n + j]
            for s in range(b):
                below[b_row + j, s] += d[d_row + i, s] * w0


@jit_inline
def outer_sums(flat, at, units, fan_in, d_at, x_at, b):
    """Add Σ_s δ_i,s x_s to the padded gradient rows of a layer's units (row i at
    at + i·n, n = fan_in + 1 padded): δ_i,s at d_at + i·b + s, sample s's inputs
    and θ's −1 at x_at + s·n; all in flat (buf.deep). ROWS units at a time, one
    vector of each row at a time (vector.add_outer)."""
    entries = entries_of(flat)
    n = padded(fan_in, entries)
    for c in range(0, n, entries):
        for i in range(0, units, ROWS):
            add_outer(flat, at + i * n + c, n, min(ROWS, units - i), flat, d_at + i * b, b, flat, x_at + c, n, b)


@jit_inline
def with_theta_input(x, x_row, units, xp):
    """xp[s, j] = x[x_row + j, s] for j < units, and θ's input xp[s, units] = −1."""
    transposed(x, x_row, units, xp)
    for s in range(xp.shape[0]):
        xp[s, units] = -1.0


@jit_inline
def transposed(x, x_row, units, xt):
    """xt[s, j] = x[x_row + j, s]."""
    for s in range(xt.shape[0]):
        for j in range(units):
            xt[s, j] = x[x_row + j, s]


@jit_inline
def slope(activation, y, keep, row, units, delta, dropout):
    """δ rows row.. of a hidden layer times its dropout factors and a'(s)."""
    for i in range(row, row + units):
        if dropout:
            for s in range(delta.shape[1]):
                delta[i, s] *= keep[i, s]
        times_slope(activation, y, i, delta, i)


@jit_inline
def add_error(net, sb, term, e, correct):
    """Add e_p of every sample to e[0], in the lane passes' order (sample after
    sample, each its outputs in order), and the hits to correct[0]; the terms
    as network.add_error computes them, vectorised over samples into term."""
    K, b, real = net.n_out, sb.z.shape[1], sb.z.dtype.type
    half, zero = real(0.5), real(0.0)
    hits = correct[0]
    for s in range(b):  # hits in float64: exact counts
        hits += 1.0 if sb.j_max[s] == sb.label[s] else 0.0
    correct[0] = hits
    minus = net.loss == CROSS_ENTROPY and net.output == SOFTMAX
    if net.loss != CROSS_ENTROPY:
        for k in range(K):
            for s in range(b):
                d = sb.t[k, s] - sb.z[k, s]
                term[k, s] = half * (d * d)
    elif minus:
        for s in range(b):
            sb.log_sum[s] = log1p_(sb.u[s])
        for k in range(K):
            for s in range(b):
                term[k, s] = sb.t[k, s] * (sb.s_out[k, s] - sb.s_max[s] - sb.log_sum[s])
    else:
        for k in range(K):
            for s in range(b):
                x = sb.s_out[k, s]
                term[k, s] = sb.t[k, s] * (max(-x, zero) + log1p_(exp_(-abs(x))))
    total = e[0]
    for s in range(b):
        for k in range(K):
            total = total - term[k, s] if minus else total + term[k, s]
    e[0] = total


@jit_inline
def load(X, T, labels, order, first, shared, xc, xp, sb, with_label):
    """The chunk's samples (position first + s of the pass: sample first + s if
    shared, else order[first + s, 0]): inputs both ways (xp by sample, with θ's
    input −1), targets, Σ_k t_k as network.load_targets sums it, labels."""
    b, n_in, K, zero = xp.shape[0], X.shape[1], T.shape[1], sb.t.dtype.type(0.0)
    for s in range(b):
        p = first + s if shared else order[first + s, 0]
        for m in range(n_in):
            xp[s, m] = X[p, m]
        xp[s, n_in] = -1.0
        for k in range(K):
            t = T[p, k]
            sb.t[k, s] = t
            sb.t_sum[s] = (zero if k == 0 else sb.t_sum[s]) + t
        if with_label:
            sb.label[s] = labels[p]
    transposed(xp, 0, b, xc)  # xc[m, s] = xp[s, m]


@jit
def per_run_pass(
    net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epochs, keep, mode, buf, g, e, correct, alive
):
    """train.sample_pass for a block of one lane (w [P, 1]), the samples in the
    vector: the same arguments, modes and numbers (dropout keyed as deep_pass
    keys it: epoch, position in the pass, unit among the ΣH). GRADIENT_AND_ERROR
    with dropout is for one hidden layer only, as train_block asks for it: E
    takes the first layer's outputs times keep."""
    n, P, real = X.shape[0], w.shape[0], w.dtype.type
    D, U, n_in, K = net.depth, net.n_units, net.n_in, net.n_out
    gradient, with_error, count_dead = mode >= GRADIENT, mode != GRADIENT, mode == ERROR_AND_DEAD
    scale = real(1.0) / real(stop - start) if plan.mean else real(1.0)
    shared = stop - start == n
    dropout = plan.has_dropout
    masked = gradient and dropout  # the gradient's outputs are dropout's, E's are not
    wf, gf, deep = matrix(w, 0, 1, P)[0], matrix(g, 0, 1, P)[0], buf.deep  # w, g [P, 1] as vectors
    flat, entries = matrix(deep, 0, 1, deep.shape[0])[0], entries_of(deep)  # deep as a vector
    held = buf.held  # the samples in the buffers: X's, T's, labels' addresses, first, count (−1: none reusable)
    sums = layout(net, AT_G, entries)  # the gradient's padded rows, summed over the chunks
    if gradient:
        flat[sums : layout(net, AT_G + 1, entries)] = 0.0
    e[:] = 0.0
    correct[:] = 0.0
    alive[:] = 0.0
    ratio = hyper[DROPOUT, 0]
    kept_factor = 1.0 if plan.scale_at_test else 1.0 / (1.0 - ratio)
    for first in range(start, stop, CHUNK):
        b = min(CHUNK, stop - first)
        y, kept_y = view(deep, net, AT_Y, U, b), view(deep, net, AT_KEPT, U, b)
        keep_f, delta = view(deep, net, AT_KEEP, U, b), view(deep, net, AT_DELTA, U, b)
        xc = view(deep, net, AT_XC, n_in, b)
        xp = matrix(deep, layout(net, AT_XP, entries), b, padded(n_in, entries))
        s_out, z, t = view(deep, net, AT_S_OUT, K, b), view(deep, net, AT_Z, K, b), view(deep, net, AT_T, K, b)
        d_out, term = view(deep, net, AT_D_OUT, K, b), view(deep, net, AT_TERM, K, b)
        s_max, u = vector(deep, net, AT_S_MAX, b), vector(deep, net, AT_U, b)
        t_sum, log_sum = vector(deep, net, AT_T_SUM, b), vector(deep, net, AT_LOG_SUM, b)
        sb = Scratch(
            xc, t, buf.label[:b], y, y, keep_f, kept_y, s_out, z, d_out, delta,
            s_max, buf.j_max[:b], u, log_sum, t_sum, buf.order, y, buf.held,
        )  # fmt: skip
        # a pass over every sample in order finds its chunk as the last such pass left it
        # (a full-batch epoch: the same samples every time), so it loads it once
        addresses = (np.int64(X.ctypes.data), np.int64(T.ctypes.data), np.int64(labels.ctypes.data))
        key = addresses + (np.int64(first), np.int64(b))  # what the buffers would then hold
        same = shared
        for i in range(len(key)):
            same = same and held[i] == key[i]
        if not same:
            load(X, T, labels, order, first, shared, xc, xp, sb, with_error or shared)
            for i in range(len(key)):
                held[i] = key[i] if shared else -1
        if dropout:
            for l in range(1, D + 1):
                for i in range(net.rows[l], net.rows[l] + net.widths[l]):
                    if gradient:
                        for s in range(b):
                            key = (epochs[0] * n + first + s) * U + i
                            draw = rng.uniform(seeds[0], rng.DROPOUT, key)
                            keep_f[i, s] = kept_factor if draw >= ratio else 0.0
                    else:
                        for s in range(b):
                            keep_f[i, s] = keep[0]
        x, x_row = xc, 0  # the inputs of the layer being computed
        for l in range(1, D + 1):
            H, row = net.widths[l], net.rows[l]
            layer_sums(wf, net.offsets[l], net.widths[l - 1], H, x, x_row, y, row)
            for i in range(row, row + H):
                activate(net.activation, y, i, y, i)
                if dropout:
                    for s in range(b):
                        kept_y[i, s] = y[i, s] * keep_f[i, s]
            x, x_row = (kept_y if dropout else y), row
        layer_sums(wf, 0, net.widths[D], K, x, x_row, s_out, 0)
        outputs(net, sb, gradient)
        if with_error and not masked:
            add_error(net, sb, term, e, correct)
        if gradient:
            output_delta(net, sb, scale)
            d, d_row, units = d_out, 0, K
            d_at = layout(net, AT_D_OUT, entries)  # where d's rows start in flat
            for l in range(D + 1, 1, -1):  # the layer above l − 1: its gradient, then δ of l − 1
                H, row = net.widths[l - 1], net.rows[l - 1]
                h = kept_y if dropout else y
                kp_at = layout(net, AT_KP, entries) + kept_at(net, l - 1, entries)
                with_theta_input(h, row, H, matrix(deep, kp_at, b, padded(H, entries)))
                outer_sums(flat, sums + sums_at(net, l, entries), units, H, d_at, kp_at, b)
                layer_below(wf, net.offsets[l], H, units, d, d_row, delta, row)
                slope(net.activation, y, keep_f, row, H, delta, dropout)
                d, d_row, units = delta, row, H
                d_at = layout(net, AT_DELTA, entries) + row * b
            outer_sums(flat, sums, net.widths[1], n_in, d_at, layout(net, AT_XP, entries), b)
        if with_error and masked:  # depth 1: E of the outputs times keep, as a pass without masks sets them
            H, row = net.widths[1], net.rows[1]
            for i in range(row, row + H):
                for s in range(b):
                    kept_y[i, s] = y[i, s] * keep[0]
            layer_sums(wf, 0, H, K, kept_y, row, s_out, 0)
            outputs(net, sb, False)
            add_error(net, sb, term, e, correct)
        if count_dead:
            for i in range(U):
                for s in range(b):
                    delta[i, s] = 1.0
                times_slope(net.activation, y, i, delta, i)
                for s in range(b):
                    if delta[i, s] >= DEAD_SLOPE:
                        alive[i, 0] = 1.0
    if gradient:  # the padded rows' sums into g, layer by layer (each unit its weights, then θ)
        for l in range(1, D + 2):
            n = net.widths[l - 1] + 1
            at, stride = sums + sums_at(net, l, entries), padded(net.widths[l - 1], entries)
            for i in range(net.widths[l]):
                for j in range(n):
                    gf[net.offsets[l] + i * n + j] = flat[at + i * stride + j]
