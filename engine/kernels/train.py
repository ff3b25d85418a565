"""The training loop of a queue of runs, a block of lanes at a time (training.py
gives each thread a queue: train_block releases the GIL).

Each lane holds one run at its own epoch t: E(w_t) is measured where it is
needed (every epoch with a target ε, and at curve points), a run stops when
E < ε, when it goes non-finite (diverged) or after `epochs`; otherwise one
epoch of updates follows. With full batch the gradient pass itself gives
E(w_t) exactly (the same bits as a pass that computes E alone); with dropout
it does so for one hidden layer (run_pass and the per-run pass take each
sample's hidden outputs through the output layer a second time, times keep
instead of the masks), and deeper networks' passes are asked for E in a
pass of its own.
A queue shorter than NARROWEST lanes starts in a block of NARROWEST (or of the
lanes asked for, if fewer), the lanes past it empty.
When a run stops, its lane takes the next run of the queue (its initial
weights, zero optimizer state, epoch 0); once the queue is empty, a block
narrows to fewer vectors of lanes (NARROWEST at least) as soon as a whole vector is free, and
its last few runs (ALONE; none where the caller says so) train one at a
time in a block of one lane, on the per-run pass.
Curve points and final numbers are measured on evaluation lanes, filled
with the weights to measure and measured together when full: one pass over
the test set per block-width of points, not one per epoch.

A run's numbers depend only on its own lane's inputs (parameters, per-run
hyperparameters, seed): never on which block, lane or thread holds it, which
runs share the block, or when it entered a lane.
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
from .borrow import borrowed
from .config import jit, jit_inline
from .network import (
    DEAD_SLOPE,
    TILE,
    add_error,
    clear_slots,
    evaluated_error,
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
from .numba_internals import unaliased
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


@unaliased
@jit
def sample_pass(
    net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epochs, keep, mode, buf, g, e, correct, alive
):
    """One pass over samples start..stop−1 (lane r, at its epoch epochs[r], takes sample order[q, r]; when the pass
    covers every sample, every lane takes sample q), hidden outputs scaled by keep (1, or
    1 − r for the book's dropout). Modes: ERROR and GRADIENT_AND_ERROR put Σ_p e_p into e
    and hits into correct (the logarithms cost time, so only when asked); GRADIENT and
    GRADIENT_AND_ERROR put g = Σ ∂e_p/∂w (mean: divided by the batch size), with each
    lane's dropout masks; E is always that of the network as evaluated (hidden outputs
    times keep), so GRADIENT_AND_ERROR with dropout takes each sample's outputs a second
    time, unmasked (so does the per-run pass; deep_pass does not: train_block measures
    E apart for it);
    ERROR_AND_DEAD also sets alive[i] = 1 where unit i had a slope
    ≥ DEAD_SLOPE on some sample. One function for every pass, compiled once: evaluation
    and training share the inlined network code. Its arguments are taken not to alias
    (numba_internals.unaliased): a caller passes arrays of their own for g, e, correct,
    alive and buf's, the arrays it writes (train_block's lanes, evaluate's, Armijo's)."""
    H, n, L, real = net.n_hidden, X.shape[0], w.shape[1], w.dtype.type
    gradient, with_error, count_dead = mode >= GRADIENT, mode != GRADIENT, mode == ERROR_AND_DEAD
    masked = gradient and plan.has_dropout  # the gradient's outputs are dropout's, E's are not
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
                        u = rng.uniform(seeds[r], rng.DROPOUT, (epochs[r] * n + q) * H + i)
                        kept = 1.0 if plan.scale_at_test else 1.0 / (1.0 - ratio)
                        buf.keep[i, r] = kept if u >= ratio else 0.0
            output_sums(net, w, buf, t, plan.has_dropout)
            outputs(net, buf, gradient)
            if with_error and not masked:
                add_error(net, buf, e, correct)
            if gradient:
                output_backward(net, w, buf, scale, t, plan.has_dropout, g)
            if with_error and masked:
                evaluated_error(net, w, buf, keep, e, correct)
            if count_dead:
                for i in range(H):
                    buf.delta_hid[i, :] = 1.0
                    times_slope(net.activation, buf.h, i, buf.delta_hid, i)
                    for r in range(L):
                        if buf.delta_hid[i, r] >= DEAD_SLOPE:
                            alive[i, r] = 1.0
        if gradient:
            hidden_gradient(net, buf, shared, g)


@unaliased
@jit
def run_pass(
    net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epochs, keep, mode, buf, g, e, correct, alive
):
    """sample_pass as train_block calls it (by address, see address.py). Linked into
    this caller, its code is optimised a second time, as it was when train_block
    called it by name: the second round simplifies its IR further, and float32
    training is faster than with sample_pass's own machine code (docs/performance.md)."""
    sample_pass(
        net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epochs, keep, mode, buf, g, e, correct, alive
    )


@jit_inline
def shuffle(order, seeds, epochs):
    """Each lane's own permutation of the samples for its epoch (Fisher–Yates)."""
    n, L = order.shape
    for r in range(L):
        for q in range(n):
            order[q, r] = q
        for q in range(n - 1, 0, -1):
            j = int(rng.uniform(seeds[r], rng.SHUFFLE, epochs[r] * n + q) * (q + 1))
            order[q, r], order[j, r] = order[j, r], order[q, r]


@jit_inline
def armijo_step(pass_fn, net, plan, ln, X, T, labels, decayed):
    """w ← w − η g with η backtracked per lane until
    E(w − η g) ≤ E(w) − c η |g|² (E with its penalty; ln.loss holds E(w) without it)."""
    w, g, hyper, eta = ln.w, ln.g, ln.hyper, ln.eta
    P, L = w.shape
    E0, E1, gg, pen = np.empty(L, w.dtype), np.empty(L, w.dtype), np.zeros(L, w.dtype), np.empty(L, w.dtype)
    acc, alive = np.empty(L), np.empty((net.n_units, L), w.dtype)
    trial = np.empty_like(w)
    penalty(w, hyper, decayed, pen)
    for r in range(L):
        E0[r] = ln.loss[r] + pen[r]
    for l in range(P):
        for r in range(L):
            gg[r] += g[l, r] * g[l, r]
    for _ in range(MAX_BACKTRACKS):
        for l in range(P):
            for r in range(L):
                trial[l, r] = w[l, r] - eta[r] * g[l, r]
        measure(pass_fn, net, plan, trial, X, T, labels, ln, E1, acc, alive, np.bool_(False))
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
def per_sample(plan, n, loss, hits):
    """Sums over n samples -> E with the run's reduction, and accuracy."""
    if plan.mean:
        loss /= n
    hits /= n


@jit_inline
def lane_pass(pass_fn, net, plan, ln, X, T, labels, start, stop, mode):
    """The pass over samples start..stop−1 for the training lanes ln (see sample_pass)."""
    pass_fn(
        net,
        plan,
        ln.w,
        X,
        T,
        labels,
        ln.order,
        start,
        stop,
        ln.hyper,
        ln.seeds,
        ln.epoch,
        ln.keep,
        mode,
        ln.buf,
        ln.g,
        ln.loss,
        ln.acc,
        ln.alive,
    )


@jit_inline
def measure(pass_fn, net, plan, w, X, T, labels, ln, loss, acc, alive, count_dead):
    """E (with the run's reduction) and accuracy on X at w [P, lanes of ln], per
    lane, and dead units if count_dead (see sample_pass); NaN for an empty set.
    ln's gradient is left as it is."""
    n = X.shape[0]
    if n == 0:
        loss[:] = np.nan
        acc[:] = np.nan
        return
    # arguments typed as at every other call (np.int64, not literals: see train_block)
    mode = np.int64(ERROR_AND_DEAD) if count_dead else np.int64(ERROR)
    zero = np.int64(0)
    pass_fn(
        net,
        plan,
        w,
        X,
        T,
        labels,
        ln.buf.order,
        zero,
        n,
        ln.hyper,
        ln.seeds,
        ln.epoch,
        ln.keep,
        mode,
        ln.buf,
        ln.g,
        loss,
        acc,
        alive,
    )
    per_sample(plan, n, loss, acc)


# A block's lanes, each holding one run (run[r] = its index in the call, EMPTY
# when none): its parameters, optimizer state (m1, m2), per-run numbers, seed,
# hidden-output scale at evaluation (keep), epoch and updates so far (step);
# then per-pass room. Evaluation lanes (see `stage`) use the same structure:
# slot is the curve slot the lane's weights go to, final whether they are a
# run's last, counted whether its alive column holds its dead units already.
# nonfinite: room for the check that every weight of a lane is finite (see flag_nonfinite).
Lanes = collections.namedtuple(
    "Lanes", "run epoch step slot final counted w m1 m2 g hyper seeds keep order eta loss acc alive bias nonfinite buf"
)
EMPTY = -1


@jit_inline
def lanes_of(net, width, P, n, hyper_rows, real):
    order = np.empty((n, width), np.int64)
    for q in range(n):
        order[q, :] = q
    return Lanes(
        np.full(width, EMPTY, np.int64),
        np.zeros(width, np.int64),
        np.zeros(width, np.int64),
        np.zeros(width, np.int64),
        np.zeros(width, np.bool_),
        np.zeros(width, np.bool_),
        np.zeros((P, width), real),
        np.zeros((P, width), real),
        np.zeros((P, width), real),
        np.zeros((P, width), real),
        np.zeros((hyper_rows, width), real),
        np.zeros(width, np.uint64),
        np.ones(width, real),
        order,
        np.empty(width, real),
        np.empty(width, real),
        np.empty(width),  # hits: float64
        np.empty((net.n_units, width), real),
        np.empty((2, width), real),
        np.empty(width, real),
        scratch(net, width, real),
    )


@jit_inline
def load(plan, ln, r, k, w0, hyper, seeds):
    """Lane r starts run k: its initial parameters, zero optimizer state, epoch 0."""
    ln.run[r], ln.epoch[r], ln.step[r] = k, 0, 0
    for l in range(w0.shape[0]):
        ln.w[l, r], ln.m1[l, r], ln.m2[l, r] = w0[l, k], 0.0, 0.0
    for j in range(hyper.shape[0]):
        ln.hyper[j, r] = hyper[j, k]
    ln.seeds[r] = seeds[k]
    ln.keep[r] = 1.0 - ln.hyper[DROPOUT, r] if plan.scale_at_test else 1.0


@jit_inline
def move(a, r, b, s):
    """Lane s of b takes what lane r of a holds between passes."""
    b.run[s], b.epoch[s], b.step[s], b.slot[s], b.final[s] = a.run[r], a.epoch[r], a.step[r], a.slot[r], a.final[r]
    for l in range(a.w.shape[0]):
        b.w[l, s], b.m1[l, s], b.m2[l, s] = a.w[l, r], a.m1[l, r], a.m2[l, r]
    for j in range(a.hyper.shape[0]):
        b.hyper[j, s] = a.hyper[j, r]
    b.seeds[s], b.keep[s] = a.seeds[r], a.keep[r]


# A queue's last runs that train one after another on the per-run pass rather
# than side by side in a block of lanes, which computes every lane, running or
# not; and (training.auto_block_size) the most runs a thread that the per-run
# pass takes from the start. Blocks of fewer than 32 lanes run their lane loops
# in scalar code: 20 runs a thread took 18.9 ms one after another against 26.2
# in blocks of 24 lanes, 24 runs about even (Adam, 64 samples, 500 epochs, Zen 5;
# docs/performance.md).
ALONE = 24


# The fewest lanes a block narrows to. A lane loop handles 32 float64 lanes a
# pass (vectors of 8, four at a time) and fewer in scalar code: an epoch of 16
# lanes took 36 µs and of 24 lanes 43 µs, of 32 lanes 32 µs (float32: 24, 27
# and 26 µs; ReLU momentum, 32 samples, 1,000 test images every 20 epochs, Zen 5).
NARROWEST = 32


@jit_inline
def narrowed_width(n_running):
    """Lanes of the fewest whole vectors (8 lanes) that hold n_running runs, NARROWEST at least."""
    return max(NARROWEST, -(-n_running // 8) * 8)


@jit_inline
def regrouped(L, n_running, queue_empty, alone):
    """Whether a block of L lanes stops, for its n_running runs to narrow or
    (`alone` or fewer) to train alone: only once its queue is empty."""
    return queue_empty and L > 1 and (n_running <= alone or narrowed_width(n_running) < L)


@jit_inline
def narrowed(net, ln, n_running):
    """The running lanes packed into a block of narrowed_width lanes, if that is
    fewer than ln's; else ln. (Moving a lane costs less than one of its epochs.)"""
    L = ln.w.shape[1]
    width = narrowed_width(n_running)
    if width >= L:
        return ln
    packed = lanes_of(net, width, ln.w.shape[0], ln.order.shape[0], ln.hyper.shape[0], ln.w.dtype)
    s = 0
    for r in range(L):
        if ln.run[r] != EMPTY:
            move(ln, r, packed, s)
            s += 1
    return packed


@jit_inline
def stage(ev, n_staged, ln, r, slot, epoch, final, counted):
    """Queue lane r's weights for evaluation (see evaluate) at curve slot `slot`,
    with E and accuracy on the training set as lane r holds them: measured at
    these weights in this step, unless the point is final and not `counted`
    (this step's pass counted the dead units too: ln.alive holds them)."""
    move(ln, r, ev, n_staged)
    ev.slot[n_staged], ev.epoch[n_staged], ev.final[n_staged] = slot, epoch, final
    ev.loss[n_staged], ev.acc[n_staged] = ln.loss[r], ln.acc[r]
    ev.counted[n_staged] = counted
    if counted:
        for i in range(ln.alive.shape[0]):
            ev.alive[i, n_staged] = ln.alive[i, r]


@jit_inline
def evaluate(pass_fn, net, plan, data, ev, n_staged, stats, curves):
    """E and accuracy on the training and the test set of every staged lane of ev
    (all lanes are computed, so staging waits until ev is full): a curve point
    each, and a run's final numbers and dead units for its last. A lane's
    numbers are its own, whatever else ev holds, so they are the bits that
    measuring it in its training block would give. A curve point that is not
    a run's last was staged at a step that measured its E on the training set
    (train_block measures every lane at a curve point), and so was a run's
    last point whose dead units that step counted as well (`counted`); the
    pass over the training set is taken again only for another last point,
    and counts the dead units."""
    X, T, labels, X_test, T_test, labels_test = data
    H, L = net.n_units, ev.w.shape[1]
    test_loss, test_acc = np.empty(L, ev.w.dtype), np.empty(L)
    unused = np.empty_like(ev.alive)  # a pass clears its alive: ev.alive may hold counted dead units
    measure(pass_fn, net, plan, ev.w, X_test, T_test, labels_test, ev, test_loss, test_acc, unused, np.bool_(False))
    last = False
    for s in range(n_staged):
        last = last or (ev.final[s] and not ev.counted[s])
    if last:
        measure(pass_fn, net, plan, ev.w, X, T, labels, ev, ev.loss, ev.acc, ev.alive, np.bool_(True))
    for s in range(n_staged):
        k = ev.run[s]
        c = curves[ev.slot[s], :, k]
        c[0], c[1], c[2], c[3], c[4] = ev.epoch[s], ev.loss[s], ev.acc[s], test_loss[s], test_acc[s]
        if ev.final[s]:
            stats[ROW_TRAIN_LOSS, k], stats[ROW_TRAIN_ACC, k] = ev.loss[s], ev.acc[s]
            stats[ROW_TEST_LOSS, k], stats[ROW_TEST_ACC, k] = test_loss[s], test_acc[s]
            stats[ROW_CONVERGED, k] = 1.0 if stats[ROW_TO_TARGET, k] >= 0 else 0.0
            stats[ROW_DEAD, k] = H
            for i in range(H):
                stats[ROW_DEAD, k] -= ev.alive[i, s]


@jit_inline
def flag_nonfinite(w, flags):
    """flags[r] = Σ_l (w[l, r] − w[l, r]): 0 where every weight of lane r is finite, NaN
    where one is ±inf or NaN. Summed lanes side by side (vectorised), not lane by lane
    down a strided column, which took half of train_block's own time (float32, Zen 5);
    a single lane's sum is held in a register instead (in flags[0] each addition would
    wait for the store of the one before)."""
    P, L = w.shape
    if L == 1:
        total = w.dtype.type(0.0)
        for l in range(P):
            total += w[l, 0] - w[l, 0]
        flags[0] = total
        return
    for r in range(L):
        flags[r] = 0.0
    for l in range(P):
        for r in range(L):
            flags[r] += w[l, r] - w[l, r]


@jit_inline
def record_step(trace, ln, r):
    """trace [update, TRACE_W + 2P, runs] <- the epoch, w and g of lane r's next update
    (its step size is added after it), while the trace has room."""
    k, step, P = ln.run[r], ln.step[r], ln.w.shape[0]
    if step < trace.shape[0]:
        trace[step, TRACE_EPOCH, k] = ln.epoch[r]
        for l in range(P):
            trace[step, TRACE_W + l, k] = ln.w[l, r]
            trace[step, TRACE_W + P + l, k] = ln.g[l, r]


@jit
def train_block(
    pass_fn, one_fn, net, plan, data, w0, hyper, seeds, decayed, params_out, stats, curves, trace, lanes, alone
):
    """Train the runs whose initial parameters are w0 [P, runs], `lanes` at a
    time side by side; when a run stops, its lane takes the next run. Write
    final parameters params_out [P, runs], stats [len(STATS), runs] and curve
    points curves [slot, len(CURVE), runs] (epoch −1 = unused slot). A run's
    update k (while k < len(trace)) is recorded in trace [k, TRACE_W + 2P, runs]:
    its epoch, the step size it used, the weights it started from and the
    gradient it took (a zero-length trace records nothing). A pass over
    samples calls pass_fn (run_pass for w's dtype, by address: address.py),
    or one_fn (per_run_pass) for a block of one lane: once the queue is
    empty and `alone` runs or fewer are left (ALONE, or 0: never), each
    trains alone in turn.
    Returns the lane-epochs computed (lanes × epochs of updates, summed)."""
    # the arguments borrowed (see borrow.py): the caller holds them for the whole call
    X, T, labels = borrowed((data[0], data[1], data[2]))
    w0, hyper, seeds, decayed = borrowed((w0, hyper, seeds, decayed))
    params_out, stats, curves, trace = borrowed((params_out, stats, curves, trace))
    n, P, R = X.shape[0], w0.shape[0], w0.shape[1]
    real = w0.dtype  # float64 or float32: every array of reals below has it
    width = min(lanes, max(R, NARROWEST))  # a queue shorter than NARROWEST: its block padded to it
    held = lanes_of(net, width, P, n, hyper.shape[0], real)  # owns the training lanes' arrays
    ln = borrowed(held)
    # the evaluation lanes: as many as the block's, or one (on the per-run pass) beside `alone` lanes or fewer
    ev_width = 1 if width <= alone else width
    ev, n_staged = lanes_of(net, ev_width, P, n, hyper.shape[0], real), 0
    ev_fn = one_fn if ev_width == 1 else pass_fn
    # flags and numbers passed as literals would compile a second copy of the callee
    first, no = np.int64(0), np.bool_(False)
    batch = min(plan.batch_size, n)
    full = batch == n
    has_target = plan.target > 0.0
    n_points = np.zeros(R, np.int64)
    stats[ROW_TO_TARGET, :] = -1.0
    curves[:, 0, :] = -1.0
    queued = 0  # runs handed to a lane so far
    for r in range(min(width, R)):
        load(plan, ln, r, queued, w0, hyper, seeds)
        queued += 1
    lane_epochs = 0
    running = queued
    tail, solo = held, width  # the block whose last runs train alone; the next of its lanes to take
    while True:  # a block of `width` lanes, until it narrows or its last runs train alone
        # held, used after the loop below, keeps ln alive; ln is not redefined in that loop,
        # which would count its arrays up and down at every epoch
        ln = borrowed(held)
        L = ln.w.shape[1]
        fn = one_fn if L == 1 else pass_fn
        # the gradient pass gives E(w_t) too: at a full batch, and with dropout for one hidden layer
        exact = full and (not plan.has_dropout or net.depth == 1)
        while running > 0 and not regrouped(L, running, queued == R, alone):
            # E(w_t) where a run needs it: at a target, for Armijo (which starts from it) and at curve points
            needs_loss = has_target or plan.schedule == ARMIJO
            training = False  # some lane takes a step after this pass
            for r in range(L):
                if ln.run[r] != EMPTY:
                    needs_loss = needs_loss or ln.epoch[r] % plan.record_every == 0
                    training = training or ln.epoch[r] < plan.epochs
            if exact and training:  # a run's last epoch takes no step: E alone, below, when every run is at it
                mode = np.int64(GRADIENT_AND_ERROR) if needs_loss else np.int64(GRADIENT)
                lane_pass(fn, net, plan, ln, X, T, labels, first, n, mode)
                per_sample(plan, n, ln.loss, ln.acc)
                counted = no
            elif needs_loss:
                # where a run ends at this epoch, the pass counts the dead units too (evaluate then needs no other)
                counted = no
                for r in range(L):
                    counted = counted or (ln.run[r] != EMPTY and ln.epoch[r] == plan.epochs)
                measure(fn, net, plan, ln.w, X, T, labels, ln, ln.loss, ln.acc, ln.alive, counted)
            else:
                counted = no
            running = 0
            for r in range(L):
                if ln.run[r] == EMPTY:
                    continue
                k, epoch = ln.run[r], ln.epoch[r]
                measured = has_target or plan.schedule == ARMIJO or epoch % plan.record_every == 0
                stop = epoch == plan.epochs
                if measured and not abs(ln.loss[r]) < INF:  # NaN too
                    stats[ROW_DIVERGED, k] = 1.0
                    stop = True
                elif has_target and ln.loss[r] < plan.target:
                    stats[ROW_TO_TARGET, k] = epoch
                    stop = True
                if not stop and epoch % plan.record_every == 0:
                    n_staged = stage_point(ev_fn, net, plan, data, ev, n_staged, ln, r, n_points, no, no, stats, curves)
                if stop:
                    n_staged = finish(
                        ev_fn, net, plan, data, ln, r, counted, ev, n_staged, n_points, params_out, stats, curves
                    )
                else:
                    running += 1

            if running > 0:
                lane_epochs += L
                step_size(plan.schedule, ln.hyper, ln.epoch, ln.eta)
                if batch < n:
                    shuffle(ln.order, ln.seeds, ln.epoch)
                for start in range(0, n, batch):
                    if not exact:
                        end = min(start + batch, n)
                        lane_pass(fn, net, plan, ln, X, T, labels, start, end, np.int64(GRADIENT))
                    add_decay(ln.g, ln.w, ln.hyper, decayed)
                    if trace.shape[0] > 0:
                        for r in range(L):
                            if ln.run[r] != EMPTY:
                                record_step(trace, ln, r)
                    for r in range(L):
                        ln.step[r] += 1
                    if plan.schedule == ARMIJO:
                        armijo_step(fn, net, plan, ln, X, T, labels, decayed)
                    else:
                        update(plan.optimizer, ln.w, ln.g, ln.m1, ln.m2, ln.bias, ln.eta, ln.hyper, ln.step)
                    if trace.shape[0] > 0:  # after Armijo's backtracking: the step size taken
                        for r in range(L):
                            if ln.run[r] != EMPTY and ln.step[r] <= trace.shape[0]:
                                trace[ln.step[r] - 1, TRACE_ETA, ln.run[r]] = ln.eta[r]
                for r in range(L):
                    ln.epoch[r] += 1
                flag_nonfinite(ln.w, ln.nonfinite)  # a dead ReLU can hide NaN weights from E
                for r in range(L):
                    if ln.run[r] == EMPTY:
                        continue
                    if ln.nonfinite[r] != 0.0:  # NaN: some weight is ±inf or NaN
                        stats[ROW_DIVERGED, ln.run[r]] = 1.0
                        n_staged = finish(
                            ev_fn, net, plan, data, ln, r, no, ev, n_staged, n_points, params_out, stats, curves
                        )
                        running -= 1
            for r in range(L):  # free lanes take the next runs
                if ln.run[r] == EMPTY and queued < R:
                    load(plan, ln, r, queued, w0, hyper, seeds)
                    queued += 1
                    running += 1
        if running > alone:
            held = narrowed(net, held, running)
            continue
        if running > 0:  # L > 1: the queue is empty, the runs left train alone
            tail, solo = held, 0
        while solo < tail.w.shape[1] and tail.run[solo] == EMPTY:
            solo += 1
        if solo == tail.w.shape[1]:
            break
        held, running = lanes_of(net, 1, P, n, hyper.shape[0], real), 1
        move(tail, solo, held, 0)
        solo += 1
    if n_staged > 0:
        evaluate(ev_fn, net, plan, data, ev, n_staged, stats, curves)
    return lane_epochs


@jit_inline
def stage_point(pass_fn, net, plan, data, ev, n_staged, ln, r, n_points, final, counted, stats, curves):
    """Stage lane r's curve point at its epoch (see stage), evaluating the lanes
    staged so far first if ev is full. Returns the staged count."""
    if n_staged == ev.w.shape[1]:
        evaluate(pass_fn, net, plan, data, ev, n_staged, stats, curves)
        n_staged = 0
    k = ln.run[r]
    stage(ev, n_staged, ln, r, n_points[k], ln.epoch[r], final, counted)
    n_points[k] += 1
    return n_staged + 1


@jit_inline
def finish(pass_fn, net, plan, data, ln, r, counted, ev, n_staged, n_points, params_out, stats, curves):
    """Stop lane r's run at its epoch: keep its parameters and counts, stage its
    final evaluation (`counted`: see stage), and free the lane. Returns the staged count."""
    k = ln.run[r]
    for l in range(ln.w.shape[0]):
        params_out[l, k] = ln.w[l, r]
    stats[ROW_EPOCHS_RUN, k] = ln.epoch[r]
    stats[ROW_GRAD_EVALS, k] = ln.step[r]
    if stats[ROW_DIVERGED, k] != 1.0:
        stats[ROW_DIVERGED, k] = 0.0
    n_staged = stage_point(
        pass_fn, net, plan, data, ev, n_staged, ln, r, n_points, np.bool_(True), counted, stats, curves
    )
    ln.run[r] = EMPTY
    return n_staged
