"""Samples through many networks of several hidden layers at once.

The first hidden layer is network.py's: its sums taken a tile of TILE
samples at a time from the inputs, its gradient from the tile's δ. Every
layer above it is taken a tile at a time as well, from the kept outputs of
the layer below, so each of its weights is read once per tile; the output
layer, its error and δ^O go one sample at a time, as at depth 1. Every sum
is taken in the order one sample at a time would take it (the weights in
order after −θ; δ over the units above in order, from zero; the gradient
sample after sample), so a run's bits do not depend on the tiling, and at
depth 1 this pass gives network.py's numbers.

buf.deep holds five blocks of TILE·ΣH rows: sums s, outputs y = a(s), kept
outputs y·keep (the next layer's inputs), dropout factors keep, and δ.
Hidden layer l's unit i for tile slot t is row TILE·rows[l] + t·H_l + i of
a block. The first layer's sums and δ stay in buf.s_hid and buf.delta_hid,
where network.py's tiled code reads and writes them.
"""

from . import rng
from .config import jit, jit_inline
from .network import (
    DEAD_SLOPE,
    INPUTS,
    TILE,
    activate,
    add_error,
    clear_slots,
    hidden_gradient,
    hidden_sums,
    load_inputs,
    load_targets,
    output_delta,
    outputs,
    times_slope,
)
from .numba_internals import unaliased
from .optimizers import DROPOUT
from .train import ERROR_AND_DEAD, GRADIENT

S, Y, KEPT, KEEP, DELTA = range(5)  # the blocks of buf.deep


@jit_inline
def at(net, block, l, t):
    """Row of tile slot t's first unit of hidden layer l in `block` of buf.deep."""
    return TILE * (block * net.n_units + net.rows[l]) + t * net.widths[l]


@jit_inline
def deltas(net, buf, l):
    """The array and row of slot 0 that hold δ of hidden layer l: buf.delta_hid
    for the first layer (network.py's hidden_gradient reads it there)."""
    return (buf.delta_hid, 0) if l == 1 else (buf.deep, at(net, DELTA, l, 0))


@jit_inline
def layer_products(w, start, m, width, x, x_row, fan_in, s, s_row, H):
    """s[s_row + t·H] += w_m+j · x[x_row + t·fan_in + m + j] for j < width, t < TILE,
    per lane: the sums stay in registers across the `width` inputs."""
    for r in range(s.shape[1]):
        for t in range(TILE):
            s_t = s[s_row + t * H, r]
            for j in range(width):
                s_t += w[start + m + j, r] * x[x_row + t * fan_in + m + j, r]
            s[s_row + t * H, r] = s_t


@jit_inline
def forward(net, w, buf, dropout):
    """Outputs and kept outputs of every hidden layer for the tile: layer 1 from
    buf.s_hid, each layer above from the kept outputs of the one below."""
    deep, L = buf.deep, w.shape[1]
    for l in range(1, net.depth + 1):
        H, fan_in = net.widths[l], net.widths[l - 1]
        s, s_base = (buf.s_hid, 0) if l == 1 else (deep, at(net, S, l, 0))
        if l > 1:
            x_base = at(net, KEPT, l - 1, 0)
            for i in range(H):
                start = net.offsets[l] + i * (fan_in + 1)
                for r in range(L):
                    for t in range(TILE):
                        s[s_base + t * H + i, r] = -w[start + fan_in, r]
                whole = fan_in - fan_in % INPUTS
                for m in range(0, whole, INPUTS):
                    layer_products(w, start, m, INPUTS, deep, x_base, fan_in, s, s_base + i, H)
                for m in range(whole, fan_in):
                    layer_products(w, start, m, 1, deep, x_base, fan_in, s, s_base + i, H)
        y, kept, keep = at(net, Y, l, 0), at(net, KEPT, l, 0), at(net, KEEP, l, 0)
        for row in range(TILE * H):
            activate(net.activation, s, s_base + row, deep, y + row)
            for r in range(L):
                deep[kept + row, r] = deep[y + row, r] * deep[keep + row, r] if dropout else deep[y + row, r]


@jit_inline
def output_sums(net, w, buf, t):
    """buf.s_out = w_k · h − θ_k from tile slot t's kept outputs h of the top layer."""
    D, L = net.depth, w.shape[1]
    H, h = net.widths[D], at(net, KEPT, D, t)
    for k in range(net.n_out):
        start = k * (H + 1)
        for r in range(L):
            buf.s_out[k, r] = -w[start + H, r]
        for i in range(H):
            for r in range(L):
                buf.s_out[k, r] += w[start + i, r] * buf.deep[h + i, r]


@jit_inline
def output_backward(net, w, buf, scale, t, dropout, g):
    """Add the output layer's ∂e_p/∂w (times scale) to g and put δ of the top
    hidden layer for tile slot t in buf.deep."""
    D, L, deep = net.depth, w.shape[1], buf.deep
    H, h = net.widths[D], at(net, KEPT, D, t)
    delta, d = deltas(net, buf, D)
    d += t * H
    output_delta(net, buf, scale)
    for i in range(H):
        for r in range(L):
            delta[d + i, r] = 0
    for k in range(net.n_out):
        start = k * (H + 1)
        for i in range(H):
            for r in range(L):
                delta[d + i, r] += buf.delta_out[k, r] * w[start + i, r]
                g[start + i, r] += buf.delta_out[k, r] * deep[h + i, r]
        for r in range(L):
            g[start + H, r] -= buf.delta_out[k, r]
    slope(net, deep, D, t, delta, d, dropout)


@jit_inline
def slope(net, deep, l, t, delta, d, dropout):
    """δ of hidden layer l, tile slot t (rows d.. of delta), times the dropout
    factors and a'(s)."""
    y, keep = at(net, Y, l, t), at(net, KEEP, l, t)
    for i in range(net.widths[l]):
        if dropout:
            for r in range(deep.shape[1]):
                delta[d + i, r] *= deep[keep + i, r]
        times_slope(net.activation, deep, y + i, delta, d + i)


@jit_inline
def backward(net, w, buf, dropout, g):
    """The tile's gradient of every layer above the first, from the top: g_ij +=
    δ_i y_j sample after sample, and δ of the layer below (from zero, over the
    units above in order), ending in buf.delta_hid for network.py's first layer."""
    deep, L = buf.deep, w.shape[1]
    for l in range(net.depth, 1, -1):
        H, fan_in = net.widths[l], net.widths[l - 1]
        d, x = at(net, DELTA, l, 0), at(net, KEPT, l - 1, 0)
        below, b_base = deltas(net, buf, l - 1)
        for row in range(TILE * fan_in):
            for r in range(L):
                below[b_base + row, r] = 0
        for i in range(H):
            start = net.offsets[l] + i * (fan_in + 1)
            for j in range(fan_in):
                for r in range(L):
                    w_ij, g_ij = w[start + j, r], g[start + j, r]
                    for t in range(TILE):
                        d_ti = deep[d + t * H + i, r]
                        g_ij += d_ti * deep[x + t * fan_in + j, r]
                        below[b_base + t * fan_in + j, r] += d_ti * w_ij
                    g[start + j, r] = g_ij
            for r in range(L):
                g_theta = g[start + fan_in, r]
                for t in range(TILE):
                    g_theta -= deep[d + t * H + i, r]
                g[start + fan_in, r] = g_theta
        for t in range(TILE):
            slope(net, deep, l - 1, t, below, b_base + t * fan_in, dropout)


@unaliased
@jit
def deep_pass(
    net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epochs, keep, mode, buf, g, e, correct, alive
):
    """network.py's sample_pass (train.py) for a network of several hidden layers:
    the same arguments, modes and numbers; dropout's factors per hidden unit of
    every layer, keyed on (epoch, sample, unit among the ΣH). Its arguments are taken
    not to alias, as sample_pass's."""
    n, L, real, deep = X.shape[0], w.shape[1], w.dtype.type, buf.deep
    U, D = net.n_units, net.depth
    gradient, with_error, count_dead = mode >= GRADIENT, mode != GRADIENT, mode == ERROR_AND_DEAD
    scale = real(1.0) / real(stop - start) if plan.mean else real(1.0)
    shared = stop - start == n
    if gradient:
        g[:] = 0.0
    e[:] = 0.0
    correct[:] = 0.0
    alive[:] = 0.0
    keep_base = at(net, KEEP, 1, 0)
    for row in range(TILE * U):
        for r in range(L):
            deep[keep_base + row, r] = keep[r]
    for first in range(start, stop, TILE):
        count = min(TILE, stop - first)
        for t in range(count):
            load_inputs(X, order, first + t, shared, buf, t)
        if count < TILE:
            clear_slots(net, buf, count)
        hidden_sums(net, w, buf, shared)
        if gradient and plan.has_dropout:
            for t in range(count):
                for l in range(1, D + 1):
                    row = at(net, KEEP, l, t)
                    for i in range(net.widths[l]):
                        for r in range(L):
                            ratio = hyper[DROPOUT, r]
                            key = (epochs[r] * n + first + t) * U + net.rows[l] + i
                            u = rng.uniform(seeds[r], rng.DROPOUT, key)
                            kept = 1.0 if plan.scale_at_test else 1.0 / (1.0 - ratio)
                            deep[row + i, r] = kept if u >= ratio else 0.0
        forward(net, w, buf, plan.has_dropout)
        for t in range(count):
            load_targets(T, labels, order, first + t, shared, buf, with_error)
            output_sums(net, w, buf, t)
            outputs(net, buf, gradient)
            if with_error:
                add_error(net, buf, e, correct)
            if gradient:
                output_backward(net, w, buf, scale, t, plan.has_dropout, g)
            if count_dead:
                for l in range(1, D + 1):
                    y, d = at(net, Y, l, t), at(net, DELTA, l, t)
                    for i in range(net.widths[l]):
                        deep[d + i, :] = 1.0
                        times_slope(net.activation, deep, y + i, deep, d + i)
                        for r in range(L):
                            if deep[d + i, r] >= DEAD_SLOPE:
                                alive[net.rows[l] + i, r] = 1.0
        if gradient:
            delta, d = deltas(net, buf, D)  # slots past the last sample add nothing
            for row in range(d + count * net.widths[D], d + TILE * net.widths[D]):
                for r in range(L):
                    delta[row, r] = 0.0
            backward(net, w, buf, plan.has_dropout, g)
            hidden_gradient(net, buf, shared, g)
