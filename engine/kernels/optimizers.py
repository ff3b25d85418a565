"""Step sizes and parameter updates over [P, lanes] blocks.

Each update line reads like its paper; g already holds the weight-decay term
λw. State m1, m2 [P, lanes] start at zero; `step` counts updates from 1.
Constants inside the loops over parameters are of w's dtype (see network.py);
per-lane numbers (η_t, Adam's 1 − β^t) may round once from float64. Each lane
has its own epoch and update count: a block's lanes hold runs started at
different times.
"""

import numpy as np

from ..options import HYPER, OPTIMIZERS, SCHEDULES
from .config import jit_inline

SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = range(len(OPTIMIZERS))
CONSTANT, INVERSE_TIME, STEP, ARMIJO = range(len(SCHEDULES))
(LR, WEIGHT_DECAY, DROPOUT, LR_DECAY, LR_STEP, LR_GAMMA, ARMIJO_C, ARMIJO_BETA, MU, RHO, BETA1, BETA2, EPS) = range(
    len(HYPER)
)
assert OPTIMIZERS[ADAM] == "adam" and SCHEDULES[ARMIJO] == "armijo" and HYPER[EPS] == "eps"


@jit_inline
def step_size(schedule, hyper, epochs, eta):
    """η_t per lane for its epoch t = epochs[r] (Armijo starts its search from η)."""
    L = hyper.shape[1]
    for r in range(L):
        lr, epoch = hyper[LR, r], epochs[r]
        if schedule == INVERSE_TIME:
            eta[r] = lr / (1.0 + hyper[LR_DECAY, r] * epoch)
        elif schedule == STEP:
            eta[r] = lr * hyper[LR_GAMMA, r] ** np.floor(epoch / hyper[LR_STEP, r])
        else:
            eta[r] = lr


@jit_inline
def add_decay(g, w, hyper, decayed):
    """g += λ w on the decayed numbers (weights; thresholds only if asked); for a
    block of one lane a select down its parameters, which vectorises."""
    L = hyper.shape[1]
    if L == 1:
        decay = hyper[WEIGHT_DECAY, 0]
        for l in range(w.shape[0]):
            g[l, 0] = g[l, 0] + decay * w[l, 0] if decayed[l] else g[l, 0]
        return
    for l in range(w.shape[0]):
        if decayed[l]:
            for r in range(L):
                g[l, r] += hyper[WEIGHT_DECAY, r] * w[l, r]


@jit_inline
def penalty(w, hyper, decayed, out):
    """out = λ/2 Σ w² over the decayed numbers, per lane."""
    L, half = hyper.shape[1], w.dtype.type(0.5)
    for r in range(L):
        out[r] = 0
    for l in range(w.shape[0]):
        if decayed[l]:
            for r in range(L):
                out[r] += half * hyper[WEIGHT_DECAY, r] * w[l, r] * w[l, r]


@jit_inline
def lane_numbers(hyper, eta, bias, r):
    """Lane r's numbers for the rules below: (η_t, μ, ρ, β1, β2, ε, 1 − β1^t, 1 − β2^t)."""
    return eta[r], hyper[MU, r], hyper[RHO, r], hyper[BETA1, r], hyper[BETA2, r], hyper[EPS, r], bias[0, r], bias[1, r]


# One parameter's step, (w, m1, m2) -> new (w, m1, m2), given its gradient g, its lane's
# numbers c (lane_numbers) and 1 of w's dtype.


@jit_inline
def sgd(w, g, m1, m2, c, one):  # w ← w − η g
    return w - c[0] * g, m1, m2


@jit_inline
def momentum(w, g, m1, m2, c, one):  # v ← μv − η g;  w ← w + v
    v = c[1] * m1 - c[0] * g
    return w + v, v, m2


@jit_inline
def nesterov(w, g, m1, m2, c, one):  # b ← μb + g;  w ← w − η (g + μb)  (torch)
    b = c[1] * m1 + g
    return w - c[0] * (g + c[1] * b), b, m2


@jit_inline
def adagrad(w, g, m1, m2, c, one):  # h ← h + g²;  w ← w − η g / (√h + ε)
    h = m2 + g * g
    return w - c[0] * g / (np.sqrt(h) + c[5]), m1, h


@jit_inline
def rmsprop(w, g, m1, m2, c, one):  # h ← ρh + (1−ρ)g²;  w ← w − η g / (√h + ε)
    h = c[2] * m2 + (one - c[2]) * g * g
    return w - c[0] * g / (np.sqrt(h) + c[5]), m1, h


@jit_inline
def adam(w, g, m1, m2, c, one):  # Kingma & Ba, Algorithm 1
    m = c[3] * m1 + (one - c[3]) * g
    v = c[4] * m2 + (one - c[4]) * g * g
    m_hat = m / c[6]
    v_hat = v / c[7]
    return w - c[0] * m_hat / (np.sqrt(v_hat) + c[5]), m, v


@jit_inline
def each(rule, w, g, m1, m2, bias, eta, hyper):
    """rule on every parameter of every lane. A block of one lane loops over its
    parameters innermost, its numbers taken once, so that the loop vectorises."""
    P, L = w.shape
    one = w.dtype.type(1.0)
    if L == 1:
        c = lane_numbers(hyper, eta, bias, 0)
        for l in range(P):
            w[l, 0], m1[l, 0], m2[l, 0] = rule(w[l, 0], g[l, 0], m1[l, 0], m2[l, 0], c, one)
        return
    for l in range(P):
        for r in range(L):
            c = lane_numbers(hyper, eta, bias, r)
            w[l, r], m1[l, r], m2[l, r] = rule(w[l, r], g[l, r], m1[l, r], m2[l, r], c, one)


@jit_inline
def update(optimizer, w, g, m1, m2, bias, eta, hyper, steps):
    """One step of the optimizer, the steps[r]-th of lane r; bias [2, lanes] is room for Adam's 1 − β^t."""
    if optimizer == SGD:
        each(sgd, w, g, m1, m2, bias, eta, hyper)
    elif optimizer == MOMENTUM:
        each(momentum, w, g, m1, m2, bias, eta, hyper)
    elif optimizer == NESTEROV:
        each(nesterov, w, g, m1, m2, bias, eta, hyper)
    elif optimizer == ADAGRAD:
        each(adagrad, w, g, m1, m2, bias, eta, hyper)
    elif optimizer == RMSPROP:
        each(rmsprop, w, g, m1, m2, bias, eta, hyper)
    else:
        for r in range(hyper.shape[1]):
            bias[0, r] = 1.0 - hyper[BETA1, r] ** steps[r]
            bias[1, r] = 1.0 - hyper[BETA2, r] ** steps[r]
        each(adam, w, g, m1, m2, bias, eta, hyper)
