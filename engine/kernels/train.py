"""The training loop of one block of runs side by side (training.py spreads
blocks over threads: train_block releases the GIL).

Epoch t: E(w_t) is measured where it is needed (every epoch with a target ε,
and at curve points), a run stops when E < ε, when it goes non-finite
(diverged) or after `epochs`; otherwise one epoch of updates follows. With
full batch and no dropout the gradient pass itself gives E(w_t) exactly
(the same bits as a pass that computes E alone).

A run's numbers depend only on its own lane's inputs (parameters, per-run
hyperparameters, seed): never on which block, lane or thread holds it.
"""

import collections

import numpy as np

from ..schema import (
    ROW_CONVERGED,
    ROW_DEAD,
    ROW_DIVERGED,
    ROW_EPOCHS_RUN,
    ROW_GRAD_EVALS,
    ROW_TEST_ACC,
    ROW_TEST_LOSS,
    ROW_TO_TARGET,
    ROW_TRAIN_ACC,
    ROW_TRAIN_LOSS,
)
from . import rng
from .config import jit, jit_inline
from .network import (
    DEAD_SLOPE,
    TILE,
    add_error,
    clear_slots,
    hidden_gradient,
    hidden_sums,
    load_inputs,
    load_targets,
    output_backward,
    output_sums,
    outputs,
    scratch,
    times_slope,
)
from .optimizers import ARMIJO, ARMIJO_BETA, ARMIJO_C, DROPOUT, add_decay, penalty, step_size, update

Plan = collections.namedtuple(
    "Plan", "epochs batch_size record_every optimizer schedule mean has_dropout scale_at_test target"
)
# A traced update: its epoch and step size, then the weights it started from and its gradient.
TRACE_EPOCH, TRACE_ETA, TRACE_W = 0, 1, 2
MAX_BACKTRACKS = 50
INF = np.inf


# What a pass over samples computes: E (and hits), E and dead units, ∂E/∂w, or both.
ERROR, ERROR_AND_DEAD, GRADIENT, GRADIENT_AND_ERROR = range(4)


@jit
def sample_pass(
    net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epoch, keep, mode, buf, g, e, correct, alive
):
    """One pass over samples start..stop−1 (lane r takes sample order[q, r]; when the pass
    covers every sample, every lane takes sample q), hidden outputs scaled by keep (1, or
    1 − r for the book's dropout). Modes: ERROR and GRADIENT_AND_ERROR put Σ_p e_p into e
    and hits into correct (the logarithms cost time, so only when asked); GRADIENT and
    GRADIENT_AND_ERROR put g = Σ ∂e_p/∂w (mean: divided by the batch size), with each
    lane's dropout masks; ERROR_AND_DEAD also sets alive[i] = 1 where unit i had a slope
    ≥ DEAD_SLOPE on some sample. One function for every pass, compiled once: evaluation
    and training share the inlined network code."""
    H, n, L, real = net.n_hidden, X.shape[0], w.shape[1], w.dtype.type
    gradient, with_error, count_dead = mode >= GRADIENT, mode != GRADIENT, mode == ERROR_AND_DEAD
    scale = real(1.0) / real(stop - start) if plan.mean else real(1.0)
    shared = stop - start == n
    if gradient:
        g[:] = 0.0
    e[:] = 0.0
    correct[:] = 0.0
    alive[:] = 0.0
    for i in range(H):
        for r in range(L):
            buf.keep[i, r] = keep[r]
    for first in range(start, stop, TILE):  # the hidden layer a tile of samples at a time
        count = min(TILE, stop - first)
        for t in range(count):
            load_inputs(X, order, first + t, shared, buf, t)
        if count < TILE:
            clear_slots(net, buf, count)
        hidden_sums(net, w, buf, shared)
        for t in range(count):
            q = first + t
            load_targets(T, labels, order, q, shared, buf, with_error)
            if gradient and plan.has_dropout:
                for i in range(H):
                    for r in range(L):
                        ratio = hyper[DROPOUT, r]
                        u = rng.uniform(seeds[r], rng.DROPOUT, (epoch * n + q) * H + i)
                        kept = 1.0 if plan.scale_at_test else 1.0 / (1.0 - ratio)
                        buf.keep[i, r] = kept if u >= ratio else 0.0
            output_sums(net, w, buf, t, plan.has_dropout)
            outputs(net, buf)
            if with_error:
                add_error(net, buf, e, correct)
            if gradient:
                output_backward(net, w, buf, scale, t, plan.has_dropout, g)
            if count_dead:
                for i in range(H):
                    buf.delta_hid[i, :] = 1.0
                    times_slope(net.activation, buf.h, i, buf.delta_hid, i)
                    for r in range(L):
                        if buf.delta_hid[i, r] >= DEAD_SLOPE:
                            alive[i, r] = 1.0
        if gradient:
            hidden_gradient(net, buf, shared, g)


@jit
def run_pass(
    net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epoch, keep, mode, buf, g, e, correct, alive
):
    """sample_pass as train_block calls it (by address, see address.py). Linked into
    this caller, its code is optimised a second time, as it was when train_block
    called it by name: the second round simplifies its IR further, and float32
    training is faster than with sample_pass's own machine code (docs/performance.md)."""
    sample_pass(
        net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epoch, keep, mode, buf, g, e, correct, alive
    )


@jit_inline
def shuffle(order, seeds, epoch):
    """Each lane's own permutation of the samples for this epoch (Fisher–Yates)."""
    n, L = order.shape
    for r in range(L):
        for q in range(n):
            order[q, r] = q
        for q in range(n - 1, 0, -1):
            j = int(rng.uniform(seeds[r], rng.SHUFFLE, epoch * n + q) * (q + 1))
            order[q, r], order[j, r] = order[j, r], order[q, r]


@jit_inline
def armijo_step(pass_fn, net, plan, w, g, X, T, labels, hyper, seeds, decayed, eta, loss, buf, keep):
    """w ← w − η g with η backtracked per lane until
    E(w − η g) ≤ E(w) − c η |g|² (E with its penalty; loss holds E(w) without it)."""
    P, L = w.shape
    E0, E1, gg, pen = np.empty(L, w.dtype), np.empty(L, w.dtype), np.zeros(L, w.dtype), np.empty(L, w.dtype)
    acc, alive = np.empty(L), np.empty((net.n_hidden, L), w.dtype)
    trial = np.empty_like(w)
    penalty(w, hyper, decayed, pen)
    for r in range(L):
        E0[r] = loss[r] + pen[r]
    for l in range(P):
        for r in range(L):
            gg[r] += g[l, r] * g[l, r]
    for _ in range(MAX_BACKTRACKS):
        for l in range(P):
            for r in range(L):
                trial[l, r] = w[l, r] - eta[r] * g[l, r]
        measure(pass_fn, net, plan, trial, X, T, labels, hyper, seeds, buf, keep, g, E1, acc, alive, np.bool_(False))
        penalty(trial, hyper, decayed, pen)
        done = True
        for r in range(L):
            if E1[r] + pen[r] > E0[r] - hyper[ARMIJO_C, r] * eta[r] * gg[r]:
                eta[r] *= hyper[ARMIJO_BETA, r]
                done = False
        if done:
            break
    for l in range(P):  # loops, not array expressions: those compile shape checks worth seconds
        for r in range(L):
            w[l, r] = trial[l, r] if done else w[l, r] - eta[r] * g[l, r]


@jit_inline
def finish(r, epoch, diverged, grad_evals, w, params_out, stats, active):
    """Stop lane r at this epoch: keep its parameters and counts."""
    active[r] = False
    for l in range(w.shape[0]):
        params_out[l, r] = w[l, r]
    stats[ROW_EPOCHS_RUN, r] = epoch
    stats[ROW_GRAD_EVALS, r] = grad_evals
    stats[ROW_DIVERGED, r] = 1.0 if diverged else 0.0


@jit_inline
def per_sample(plan, n, loss, hits):
    """Sums over n samples -> E with the run's reduction, and accuracy."""
    if plan.mean:
        loss /= n
    hits /= n


@jit_inline
def measure(pass_fn, net, plan, w, X, T, labels, hyper, seeds, buf, keep, g, loss, acc, alive, count_dead):
    """E (with the run's reduction) and accuracy on X at w, per lane, and dead units if
    count_dead (see sample_pass); NaN for an empty set. g is left as it is."""
    n = X.shape[0]
    if n == 0:
        loss[:] = np.nan
        acc[:] = np.nan
        return
    # arguments typed as at every other call (np.int64, not literals: see train_block)
    mode = np.int64(ERROR_AND_DEAD) if count_dead else np.int64(ERROR)
    zero = np.int64(0)
    pass_fn(net, plan, w, X, T, labels, buf.order, zero, n, hyper, seeds, zero, keep, mode, buf, g, loss, acc, alive)
    per_sample(plan, n, loss, acc)


@jit_inline
def add_point(curves, n_points, r, epoch, train_loss, train_acc, test_loss, test_acc):
    c = curves[n_points[r], :, r]
    c[0], c[1], c[2], c[3], c[4] = epoch, train_loss[r], train_acc[r], test_loss[r], test_acc[r]
    n_points[r] += 1


@jit_inline
def record_step(row, epoch, w, g):
    """row [TRACE_W + 2P, lanes] <- epoch, w, g of one update (η is added after it)."""
    P, L = w.shape
    for r in range(L):
        row[TRACE_EPOCH, r] = epoch
        for l in range(P):
            row[TRACE_W + l, r] = w[l, r]
            row[TRACE_W + P + l, r] = g[l, r]


@jit
def train_block(pass_fn, net, plan, data, w, hyper, seeds, decayed, params_out, stats, curves, trace):
    """Train the runs whose parameters are w [P, lanes] in place; write
    final parameters, stats [len(STATS), lanes] and curve points
    curves [slot, len(CURVE), lanes] (epoch −1 = unused slot). Update k
    (while k < len(trace)) is recorded in trace [k, TRACE_W + 2P, lanes]:
    its epoch, the step size it used, the weights it started from and the
    gradient it took (a zero-length trace records nothing). Every pass over
    samples calls pass_fn: run_pass for w's dtype, by address (address.py)."""
    X, T, labels, X_test, T_test, labels_test = data
    n, P, L, H = X.shape[0], w.shape[0], w.shape[1], net.n_hidden
    real = w.dtype  # float64 or float32: every array of reals below has it
    buf = scratch(net, L, real)
    g, m1, m2, bias = np.zeros((P, L), real), np.zeros((P, L), real), np.zeros((P, L), real), np.empty((2, L), real)
    loss, test_loss, acc, test_acc = np.empty(L, real), np.empty(L, real), np.empty(L), np.empty(L)  # hits: float64
    alive, eta, keep = np.empty((H, L), real), np.empty(L, real), np.empty(L, real)
    for r in range(L):
        keep[r] = 1.0 - hyper[DROPOUT, r] if plan.scale_at_test else 1.0
    # flags and numbers passed as literals would compile a second copy of the callee
    first, no, yes = np.int64(0), np.bool_(False), np.bool_(True)
    order = np.empty((n, L), np.int64)
    for q in range(n):
        order[q, :] = q
    batch = min(plan.batch_size, n)
    exact = batch == n and not plan.has_dropout
    has_target = plan.target > 0.0
    active = np.ones(L, np.bool_)
    n_points = np.zeros(L, np.int64)
    stats[ROW_TO_TARGET, :] = -1.0
    curves[:, 0, :] = -1.0
    step = 0  # updates so far: Adam's t, and the gradient evaluations reported
    for epoch in range(plan.epochs + 1):
        record = epoch % plan.record_every == 0
        measured = record or has_target or plan.schedule == ARMIJO  # Armijo starts from E(w_t)
        if exact and epoch < plan.epochs:  # the last epoch takes no step: E alone, below
            mode = np.int64(GRADIENT_AND_ERROR) if measured else np.int64(GRADIENT)
            pass_fn(
                net, plan, w, X, T, labels, order, first, n, hyper, seeds, epoch, keep, mode, buf, g, loss, acc, alive
            )
            per_sample(plan, n, loss, acc)
        elif measured:
            measure(pass_fn, net, plan, w, X, T, labels, hyper, seeds, buf, keep, g, loss, acc, alive, no)
        for r in range(L):
            if not active[r]:
                continue
            if measured and not abs(loss[r]) < INF:  # NaN too
                finish(r, epoch, True, step, w, params_out, stats, active)
            elif has_target and measured and loss[r] < plan.target:
                stats[ROW_TO_TARGET, r] = epoch
                finish(r, epoch, False, step, w, params_out, stats, active)
            elif epoch == plan.epochs:
                finish(r, epoch, False, step, w, params_out, stats, active)
        if not active.any():
            break
        if record:
            measure(
                pass_fn,
                net,
                plan,
                w,
                X_test,
                T_test,
                labels_test,
                hyper,
                seeds,
                buf,
                keep,
                g,
                test_loss,
                test_acc,
                alive,
                no,
            )
            for r in range(L):
                if active[r]:
                    add_point(curves, n_points, r, epoch, loss, acc, test_loss, test_acc)

        step_size(plan.schedule, hyper, epoch, eta)
        if batch < n:
            shuffle(order, seeds, epoch)
        for start in range(0, n, batch):
            if not exact:
                pass_fn(
                    net,
                    plan,
                    w,
                    X,
                    T,
                    labels,
                    order,
                    start,
                    min(start + batch, n),
                    hyper,
                    seeds,
                    epoch,
                    keep,
                    np.int64(GRADIENT),
                    buf,
                    g,
                    loss,
                    acc,
                    alive,
                )
            add_decay(g, w, hyper, decayed)
            traced = step < trace.shape[0]
            if traced:
                record_step(trace[step], epoch, w, g)
            step += 1
            if plan.schedule == ARMIJO:
                armijo_step(pass_fn, net, plan, w, g, X, T, labels, hyper, seeds, decayed, eta, loss, buf, keep)
            else:
                update(plan.optimizer, w, g, m1, m2, bias, eta, hyper, step)
            if traced:  # after Armijo's backtracking: the step size taken
                for r in range(L):
                    trace[step - 1, TRACE_ETA, r] = eta[r]

        for r in range(L):  # a dead ReLU can hide NaN weights from E
            if not active[r]:
                continue
            finite = True
            for l in range(P):
                finite = finite and abs(w[l, r]) < INF  # NaN too
            if not finite:
                finish(r, epoch + 1, True, step, w, params_out, stats, active)

    # each run's final parameters: errors, accuracies, dead units, last curve point
    measure(
        pass_fn,
        net,
        plan,
        params_out,
        X_test,
        T_test,
        labels_test,
        hyper,
        seeds,
        buf,
        keep,
        g,
        test_loss,
        test_acc,
        alive,
        no,
    )
    measure(pass_fn, net, plan, params_out, X, T, labels, hyper, seeds, buf, keep, g, loss, acc, alive, yes)
    for r in range(L):
        stats[ROW_TRAIN_LOSS, r], stats[ROW_TRAIN_ACC, r] = loss[r], acc[r]
        stats[ROW_TEST_LOSS, r], stats[ROW_TEST_ACC, r] = test_loss[r], test_acc[r]
        stats[ROW_CONVERGED, r] = 1.0 if stats[ROW_TO_TARGET, r] >= 0 else 0.0
        stats[ROW_DEAD, r] = H
        for i in range(H):
            stats[ROW_DEAD, r] -= alive[i, r]
        add_point(curves, n_points, r, stats[ROW_EPOCHS_RUN, r], loss, acc, test_loss, test_acc)
