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
    """g += λ w on the decayed numbers (weights; thresholds only if asked)."""
    L = hyper.shape[1]
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
def update(optimizer, w, g, m1, m2, bias, eta, hyper, steps):
    """One step of the optimizer, the steps[r]-th of lane r; bias [2, lanes] is room for Adam's 1 − β^t."""
    L = hyper.shape[1]
    P = w.shape[0]
    one = w.dtype.type(1.0)
    if optimizer == SGD:  # w ← w − η g
        for l in range(P):
            for r in range(L):
                w[l, r] -= eta[r] * g[l, r]
    elif optimizer == MOMENTUM:  # v ← μv − η g;  w ← w + v
        for l in range(P):
            for r in range(L):
                m1[l, r] = hyper[MU, r] * m1[l, r] - eta[r] * g[l, r]
                w[l, r] += m1[l, r]
    elif optimizer == NESTEROV:  # b ← μb + g;  w ← w − η (g + μb)  (torch)
        for l in range(P):
            for r in range(L):
                m1[l, r] = hyper[MU, r] * m1[l, r] + g[l, r]
                w[l, r] -= eta[r] * (g[l, r] + hyper[MU, r] * m1[l, r])
    elif optimizer == ADAGRAD:  # h ← h + g²;  w ← w − η g / (√h + ε)
        for l in range(P):
            for r in range(L):
                m2[l, r] += g[l, r] * g[l, r]
                w[l, r] -= eta[r] * g[l, r] / (np.sqrt(m2[l, r]) + hyper[EPS, r])
    elif optimizer == RMSPROP:  # h ← ρh + (1−ρ)g²;  w ← w − η g / (√h + ε)
        for l in range(P):
            for r in range(L):
                rho = hyper[RHO, r]
                m2[l, r] = rho * m2[l, r] + (one - rho) * g[l, r] * g[l, r]
                w[l, r] -= eta[r] * g[l, r] / (np.sqrt(m2[l, r]) + hyper[EPS, r])
    else:  # Adam, Kingma & Ba Algorithm 1
        for r in range(L):
            bias[0, r] = 1.0 - hyper[BETA1, r] ** steps[r]
            bias[1, r] = 1.0 - hyper[BETA2, r] ** steps[r]
        for l in range(P):
            for r in range(L):
                beta1, beta2 = hyper[BETA1, r], hyper[BETA2, r]
                m1[l, r] = beta1 * m1[l, r] + (one - beta1) * g[l, r]
                m2[l, r] = beta2 * m2[l, r] + (one - beta2) * g[l, r] * g[l, r]
                m_hat = m1[l, r] / bias[0, r]
                v_hat = m2[l, r] / bias[1, r]
                w[l, r] -= eta[r] * m_hat / (np.sqrt(v_hat) + hyper[EPS, r])
