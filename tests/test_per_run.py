"""The per-run pass (engine/kernels/per_run.py: a block of one lane, the samples
in the vector) gives the lane passes' bits: params, runs, curves and traces of
every run the same whether it trains alone in a block of one lane or beside
others in a block of 8 or 16 (run_pass at depth 1, deep_pass deeper)."""

import naive
import numba
import numpy as np
import pandas as pd
import pytest

import engine
from engine.kernels import entry, per_run
from engine.kernels.per_run_buffers import CHUNK
from engine.options import TRAIN_DEFAULTS
from engine.training import PER_RUN_PARAMS, PER_RUN_SAMPLES, auto_block_size

PAIRS = [("softmax", "cross_entropy"), ("softmax", "squared"), ("sigmoid", "cross_entropy"), ("sigmoid", "squared")]


@pytest.fixture(scope="module")
def data():
    """More samples than a chunk holds, a count that leaves the last chunk, its
    last group of 4 and a tile of the lane passes part full."""
    rng = np.random.default_rng(7)
    n = CHUNK + 45
    X, X_test = rng.random((n, 7)), rng.random((11, 7))
    T, T_test = (np.eye(3)[(x[:, :3] + 0.3 * x[:, 3:6]).argmax(1)] for x in (X, X_test))  # learnable
    return X, T, X_test, T_test


def both(data, seeds, **settings):
    """The runs trained in blocks of 8 lanes (lane pass) and one lane at a time (per-run pass)."""
    X, T, X_test, T_test = data
    kw = dict(X_test=X_test, T_test=T_test, threads=1, trace=True, **settings)
    return [engine.train(X, T, seeds, block_size=lanes, **kw) for lanes in (8, 1)]


def assert_same_bits(lane, per_run):
    assert np.array_equal(lane.params, per_run.params, equal_nan=True)
    pd.testing.assert_frame_equal(lane.runs, per_run.runs)
    pd.testing.assert_frame_equal(lane.curves, per_run.curves)
    assert np.array_equal(lane.trace, per_run.trace, equal_nan=True)


@pytest.mark.parametrize("hidden", [[5], [6, 9], [5, 9, 4]])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("output, loss", PAIRS)
def test_every_activation_output_and_loss(data, hidden, activation, output, loss):
    settings = dict(hidden=hidden, activation=activation, output=output, loss=loss, lr=0.3, epochs=4)
    assert_same_bits(*both(data, [0, 1, 2], init="he", **settings))


CASES = {
    "full batch, sum": dict(reduction="sum", lr=0.01),
    "mini-batches, momentum, decay": dict(batch_size=20, optimizer="momentum", weight_decay=1e-3),
    "dropout, adam": dict(batch_size=16, optimizer="adam", lr=0.01, dropout=0.3),
    "dropout scaled, one sample a batch": dict(batch_size=1, dropout=0.2, dropout_mode="scale", epochs=2),
    "dropout at full batch": dict(dropout=0.25, optimizer="nesterov", activation="relu", init="he"),
    # E(w_t) every epoch: at depth 1 both passes take it from the gradient pass
    "dropout at full batch, a target": dict(dropout=0.3, activation="tanh", target_loss=0.5, record_every=2),
    "dropout scaled at full batch, a target": dict(dropout=0.2, dropout_mode="scale", target_loss=0.5),
    "armijo": dict(schedule="armijo", lr=2.0, activation="tanh"),
    "adagrad, decay": dict(optimizer="adagrad", lr=0.1, weight_decay=1e-3),
    "float32, rmsprop, decayed thresholds": dict(
        dtype="float32", optimizer="rmsprop", lr=0.01, weight_decay=1e-2, decay_thresholds=True, batch_size=50
    ),
}


@pytest.mark.parametrize("hidden", [[5], [5, 9, 4]])
@pytest.mark.parametrize("case", CASES)
def test_optimizers_batches_dropout_and_dtypes(data, hidden, case):
    settings = {"epochs": 5, "lr": 0.5, **CASES[case]}
    assert_same_bits(*both(data, [3, 4, 5], hidden=hidden, **settings))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_runs_that_stop_at_different_epochs(data, dtype):
    """Refills: each run's own lane passes' numbers, stopped by its target or by divergence."""
    huge = 1e300 if dtype == "float64" else 1e30  # diverges on its first epoch, finite in the dtype
    lr = [0.05, huge, 0.4, 2.0, 0.1, 1.0, 0.2, 3.0, 0.7]
    settings = dict(hidden=[6, 4], epochs=60, target_loss=0.6, lr=lr, optimizer="momentum", record_every=3)
    settings.update(activation="relu", init="he")
    lane, per_run = both(data, list(range(9)), dtype=dtype, **settings)
    epochs = lane.runs.epochs_run
    assert lane.runs.diverged[1] and epochs.nunique() > 3
    assert_same_bits(lane, per_run)


def test_one_lane_takes_the_per_run_pass(data, monkeypatch):
    """block_size=1 goes through per_run_pass and more lanes through the lane
    passes: a stand-in for the per-run pass's address is used by the first only."""
    asked = []
    real = entry.pass_address

    def spy(dtype, deep, per_run):
        asked.append(per_run)
        return real(dtype, deep, per_run)

    monkeypatch.setattr(entry, "pass_address", spy)
    X, T, _, _ = data
    for lanes in (1, 8):
        engine.train(X, T, [0, 1], epochs=1, block_size=lanes)
    assert asked == [True, False]


def test_depth_three_against_the_sample_by_sample_reference(data):
    X, T, _, _ = data
    s = {**TRAIN_DEFAULTS, "hidden": [5, 9, 4], "lr": 0.3, "epochs": 6, "batch_size": 30, "optimizer": "adam"}
    s.update(activation="tanh", dropout=0.2)
    settings = {k: s[k] for k in ("hidden", "lr", "epochs", "batch_size", "optimizer", "activation", "dropout")}
    result = engine.train(X, T, [0, 1], block_size=1, record_every=1, **settings)
    layout = engine.Layout(X.shape[1], tuple(s["hidden"]), T.shape[1])
    params0 = engine.initial_params(layout, s["init"], [0, 1])
    for i in range(2):
        theta, epochs_run, _, history = naive.train(params0[i], X, T, i, s)
        np.testing.assert_allclose(result.params[i], theta, rtol=1e-9, atol=1e-12)
        curve = result.curves[result.curves.run == i]
        np.testing.assert_allclose(curve.train_loss.to_numpy(), history, rtol=1e-9)


@pytest.mark.parametrize(
    "runs, threads, n_params, samples, lanes",
    [
        (1, 1, 17, 64, 1),  # ALONE runs a thread or fewer: the per-run pass
        (48, 2, 17, 64, 1),
        (50, 2, 17, 64, 32),
        (300, 2, 17, 500, 128),
        (300, 2, PER_RUN_PARAMS, PER_RUN_SAMPLES, 1),  # a wide network, long passes
        (300, 2, PER_RUN_PARAMS, PER_RUN_SAMPLES - 1, 128),  # short passes: short vectors
        (300, 2, PER_RUN_PARAMS - 1, 10_000, 128),
    ],
)
def test_the_rule_that_picks_the_pass(runs, threads, n_params, samples, lanes):
    assert auto_block_size(runs, threads, n_params, samples) == lanes


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_widths_that_leave_part_blocks(data, dtype):
    """7 inputs, hidden [5, 7] and 3 outputs (no multiple of BLOCK = 4) on 173 samples (a
    chunk, then 45 = 4 · 11 + 1): every blocked product loop and its remainders, in the lane passes' bits."""
    settings = dict(hidden=[5, 7], activation="relu", init="he", lr=0.3, epochs=3, batch_size=60, dtype=dtype)
    assert_same_bits(*both(data, [0, 1, 2], **settings))


def passes(net, plan, w, data, buf, mode):
    """per_run_pass over the full batch of each (X, T) of `data` in turn on one buffer:
    [E, then g] per pass. Called from Python: the pass loads from numba's cache, where a
    jitted caller would compile it again each session (9 s)."""
    P, n = w.shape[0], data[0][0].shape[0]
    out = np.empty((len(data), 1 + P))
    order, hyper = np.zeros((n, 1), np.int64), np.zeros((13, 1))
    seeds, epochs, keep = np.zeros(1, np.uint64), np.zeros(1, np.int64), np.ones(1)
    g, e, correct, alive = np.empty((P, 1)), np.empty(1), np.empty(1), np.empty((net.n_units, 1))
    start, stop = np.int64(0), np.int64(n)
    for k, (X, T) in enumerate(data):
        labels = np.argmax(T, axis=1)
        per_run.per_run_pass(
            net, plan, w, X, T, labels, order, start, stop, hyper, seeds, epochs, keep, mode, buf, g, e, correct, alive
        )
        out[k, 0], out[k, 1:] = e[0], g[:, 0]
    return out


def test_a_full_batch_is_loaded_again_when_its_samples_change(data):
    """buf.held: a pass over the full batch reuses the samples the last one loaded only
    if they come from the same arrays: passes over (X, T), other inputs, other targets
    for the same inputs, then (X, T) again on one buffer give the numbers of each pass
    on a fresh buffer."""
    from engine.kernels.network import make_net, scratch
    from engine.kernels.train import GRADIENT_AND_ERROR, Plan

    X, T, _, _ = data
    net = make_net((X.shape[1], 5, T.shape[1]), 0, 0, 0)
    P = 5 * (X.shape[1] + 1) + T.shape[1] * (5 + 1)  # the hidden layer's units, then the outputs'
    w = np.random.default_rng(3).standard_normal((P, 1))
    plan = Plan(1, X.shape[0], 1, 0, 0, True, False, False, 0.0)
    cases = ((X, T), (np.ascontiguousarray(X[::-1]), T), (X, np.ascontiguousarray(T[::-1])), (X, T))
    mode = np.int64(GRADIENT_AND_ERROR)
    shared = passes(net, plan, w, cases, scratch.py_func(net, 1, np.float64), mode)
    fresh = np.array([passes(net, plan, w, (c,), scratch.py_func(net, 1, np.float64), mode)[0] for c in cases])
    assert np.array_equal(shared, fresh)
    assert len({tuple(row) for row in fresh}) == 3  # three different batches


@numba.njit(error_model="numpy")
def products(w, off, fan_in, units, x, x_row, y, y_row, d, d_row, below, b_row, flat, at, d_at, x_at, b):
    """per_run.py's three product helpers on one layer, as per_run_pass calls them."""
    per_run.layer_sums(w, off, fan_in, units, x, x_row, y, y_row)
    per_run.layer_below(w, off, fan_in, units, d, d_row, below, b_row)
    per_run.outer_sums(flat, at, units, fan_in, d_at, x_at, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_product_helpers_add_in_the_lane_passes_order(dtype):
    """Each sum of layer_sums, layer_below and outer_sums (the gradient, in vectors) in
    its order, operation by operation (numpy rounds each, as the kernels do without
    contraction), for units, inputs and samples that fill no block, group or vector,
    one, or one and some; the gradient's rows padded to whole vectors, θ's input −1."""
    rng = np.random.default_rng(5)
    entries = 64 // np.dtype(dtype).itemsize
    for units, fan_in, b in [(3, 2, 3), (4, 4, 8), (5, 7, 13), (9, 6, 6), (8, 9, 5), (11, 13, 10), (2, 16, 4)]:
        n, off, x_row, y_row, d_row, b_row = fan_in + 1, 3, 2, 1, 4, 2
        w = rng.standard_normal(off + units * n + 2).astype(dtype)
        x = rng.standard_normal((x_row + fan_in + 1, b)).astype(dtype)
        d = rng.standard_normal((d_row + units + 1, b)).astype(dtype)
        y, below = np.full((y_row + units + 2, b), 7, dtype), np.full((b_row + fan_in, b), 7, dtype)
        # flat: the sums' padded rows at `at`, δ's rows at d_at, the inputs by sample at x_at
        pad = -(-n // entries) * entries
        at, d_at = 5, 5 + units * pad + 3
        x_at = d_at + units * b + 2
        flat = rng.standard_normal(x_at + b * pad + 1).astype(dtype)
        flat[d_at : d_at + units * b] = d[d_row : d_row + units].ravel()
        xp = flat[x_at : x_at + b * pad].reshape(b, pad)
        xp[:, :fan_in], xp[:, fan_in] = x[x_row : x_row + fan_in].T, -1
        before = flat.copy()
        products(w, off, fan_in, units, x, x_row, y, y_row, d, d_row, below, b_row, flat, at, d_at, x_at, b)
        W = w[off : off + units * n].reshape(units, n)
        for i in range(units):
            expected = np.full(b, -W[i, fan_in])
            for m in range(fan_in):
                expected = expected + W[i, m] * x[x_row + m]
            assert np.array_equal(y[y_row + i], expected)
            row = before[at + i * pad : at + i * pad + n].copy()
            for s in range(b):
                row[:fan_in] = row[:fan_in] + d[d_row + i, s] * x[x_row : x_row + fan_in, s]
                row[fan_in] = row[fan_in] - d[d_row + i, s]
            assert np.array_equal(flat[at + i * pad : at + i * pad + n], row)
        for j in range(fan_in):
            expected = np.zeros(b, dtype)
            for i in range(units):
                expected = expected + d[d_row + i] * W[i, j]
            assert np.array_equal(below[b_row + j], expected)
        assert (y[:y_row] == 7).all() and (y[y_row + units :] == 7).all() and (below[:b_row] == 7).all()
        assert np.array_equal(flat[at + units * pad :], before[at + units * pad :]) and np.array_equal(
            flat[:at], before[:at]
        )


@pytest.mark.parametrize("entries", [8, 16])  # numbers in a vector of float64, float32
@pytest.mark.parametrize("widths", [(12, 3, 2), (7, 5, 7, 3), (64, 100, 100, 10), (3, 17, 1, 2)])
def test_the_per_run_buffers_follow_one_another_inside_the_room(widths, entries):
    """per_run_buffers.layout against the buffers listed one by one: each starts where
    the one before ends, as large as the pass uses it, and all fit the room that
    network.scratch gives a block of one lane."""
    from engine.kernels import per_run_buffers as pb
    from engine.kernels.network import make_net

    net = make_net(widths, 0, 0, 0)
    n_in, hidden, K = widths[0], widths[1:-1], widths[-1]

    def pad(n):
        return -(-n // entries) * entries

    sizes = [sum(hidden) * CHUNK] * 4 + [n_in * CHUNK] + [K * CHUNK] * 5 + [CHUNK] * 4
    sizes += [CHUNK * pad(n_in + 1), CHUNK * sum(pad(h + 1) for h in hidden)]
    sizes += [sum(units * pad(fan_in + 1) for fan_in, units in zip(widths, widths[1:]))]
    starts = [pb.layout.py_func(net, a, entries) for a in range(pb.AT_END + 1)]
    assert starts == list(np.cumsum([0, *sizes]))
    assert starts[-1] <= pb.per_run_room.py_func(net)
