"""Lanes that refill: when a run stops, its lane takes the next run of the queue,
and a block narrows once its queue is empty (its last runs train alone). No run's numbers may change."""

import numpy as np
import pandas as pd
import pytest

import engine
from engine.kernels.train import ALONE, NARROWEST
from engine.schema import DEAD_UNITS
from engine.training import auto_block_size, queues

SPREAD = np.geomspace(0.02, 8.0, 24)  # runs that reach ε after a few epochs, many, or never


@pytest.fixture(scope="module")
def data():
    return engine.make_dataset(16, 40, seed=1)


def fit(data, seeds, **kwargs):
    settings = dict(epochs=150, target_loss=0.05, record_every=4, X_test=data.X_test, T_test=data.T_test)
    return engine.train(data.X_train, data.T_train, seeds, **{**settings, **kwargs})


def assert_each_run_as_alone(together, data, seeds, settings):
    """Every run appears once, with the numbers it gets when trained on its own."""
    assert together.runs.seed.tolist() == list(seeds)
    assert sorted(together.curves.run.unique()) == list(range(len(seeds)))
    for i, seed in enumerate(seeds):
        one = {k: (v[i] if np.ndim(v) else v) for k, v in settings.items()}
        alone = fit(data, [seed], block_size=1, threads=1, **one)
        assert np.array_equal(alone.params[0], together.params[i], equal_nan=True), seed
        pd.testing.assert_frame_equal(alone.runs, together.runs.iloc[[i]].reset_index(drop=True))
        mine = together.curves[together.curves.run == i].drop(columns="run").reset_index(drop=True)
        pd.testing.assert_frame_equal(alone.curves.drop(columns="run"), mine)


CASES = {
    # the second run diverges on its first epoch; the others stop anywhere in 1..150
    "relu, momentum": dict(optimizer="momentum", activation="relu", init="he", lr=np.r_[SPREAD[0], 1e300, SPREAD[2:]]),
    "adam, mini-batches, dropout": dict(optimizer="adam", lr=SPREAD / 20, batch_size=5, dropout=0.2),
    "relu, armijo": dict(activation="relu", init="he", lr=SPREAD, schedule="armijo"),
    "float32 adagrad, step schedule": dict(
        optimizer="adagrad", lr=SPREAD / 4, schedule="step", lr_step=9, lr_gamma=0.5, dtype="float32"
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("layout", [dict(block_size=8, threads=1), dict(block_size=8, threads=2), dict()])
def test_refilled_lanes_give_each_run_its_own_numbers(data, case, layout):
    seeds = list(range(100, 124))
    together = fit(data, seeds, **CASES[case], **layout)
    epochs = together.runs.epochs_run
    assert epochs.max() >= 10 * max(epochs.min(), 1)  # runs stop at very different epochs
    if case == "relu, momentum":
        assert together.runs.diverged[1] and epochs[1] == 1
    if layout == dict(block_size=8, threads=1):  # compared once per case: alone is slow
        assert_each_run_as_alone(together, data, seeds, CASES[case])
    else:
        reference = fit(data, seeds, block_size=8, threads=1, **CASES[case])
        assert np.array_equal(reference.params, together.params, equal_nan=True)
        pd.testing.assert_frame_equal(reference.runs, together.runs)
        pd.testing.assert_frame_equal(reference.curves, together.curves)


def test_all_runs_but_one_stop_at_once(data):
    seeds, settings = [7] * 15 + [8], dict(optimizer="sgd", lr=[2.0] * 15 + [0.3])  # 15 copies of one run
    together = fit(data, seeds, block_size=16, threads=1, **settings)
    assert together.runs.epochs_run[:15].nunique() == 1
    assert together.runs.epochs_run[15] > together.runs.epochs_run[0]
    assert_each_run_as_alone(together, data, seeds, settings)


def simulated_lane_epochs(epochs_run, lanes, n_queues, alone):
    """Lane-epochs of the refill schedule, step by step: a run holds its lane for its
    epochs_run updates and the check that stops it; the lane then takes the next run
    of its queue (a queue shorter than NARROWEST starts in a block of NARROWEST lanes,
    or of `lanes` if fewer); a block with an empty queue narrows to the fewest whole vectors of 8
    that hold its running lanes (NARROWEST at least), when that is fewer than it has, and once `alone` runs
    or fewer are left, each trains alone in a block of one lane."""
    total = 0
    for runs in queues(len(epochs_run), n_queues):
        need = [epochs_run[k] for k in runs]
        width = min(lanes, max(len(need), NARROWEST))  # a short queue's block padded to NARROWEST
        queued = min(width, len(need))
        lane = [[k, 0] for k in range(queued)] + [None] * (width - queued)  # [run, epoch], or None
        while True:
            left = [x for x in lane if x is not None]  # a run past its last update still checks in its lane
            if queued == len(need) and len(lane) > 1 and len(left) <= alone:
                total += sum(need[k] - epoch for k, epoch in left)
                break
            lane = [None if x is None or x[1] == need[x[0]] else x for x in lane]
            running = sum(x is not None for x in lane)
            if running:
                total += len(lane)
                lane = [x if x is None else [x[0], x[1] + 1] for x in lane]
            for r, x in enumerate(lane):
                if x is None and queued < len(need):
                    lane[r], queued, running = [queued, 0], queued + 1, running + 1
            if running == 0:
                break
            narrow = max(NARROWEST, -(-running // 8) * 8)
            if queued == len(need) and narrow < len(lane):
                kept = [x for x in lane if x is not None]
                lane = kept + [None] * (narrow - len(kept))
    return total


@pytest.mark.parametrize("lanes, threads", [(8, 1), (8, 2), (16, 1), (64, 1), (None, 1), (None, 2)])
def test_lane_epochs_count_the_refill_schedule(data, lanes, threads):
    """A block_size given keeps its lanes to the end; by default a queue's last ALONE runs train alone."""
    result = fit(data, list(range(60)), lr=np.resize(SPREAD, 60), block_size=lanes, threads=threads)
    epochs = result.runs.epochs_run.to_numpy()
    assert not result.runs.diverged.any()  # a run diverging after its update leaves its lane one check early
    alone = 0 if lanes else ALONE
    lanes = lanes or auto_block_size(60, threads)
    assert result.lane_epochs == simulated_lane_epochs(epochs, lanes, threads, alone)
    if lanes <= 16:  # blocks of one or two vectors: refilled, they are busy to the end
        assert epochs.sum() / result.lane_epochs > 0.8


@pytest.mark.parametrize("block_size", [8, None])
def test_a_trace_holds_each_runs_own_updates_and_nan_after_it_stopped(data, block_size):
    """block_size 8: three runs side by side to the end; by default (one thread),
    more runs than ALONE in a block of lanes, whose last ALONE go on alone on the per-run pass."""
    n = 3 if block_size else ALONE + 6
    settings = dict(optimizer="momentum", lr=np.resize(SPREAD[8:], n))
    together = fit(data, list(range(n)), trace=True, block_size=block_size, threads=1, **settings)
    if block_size is None:  # some runs trained in lanes, then alone
        epochs = together.runs.epochs_run.to_numpy()
        lanes = auto_block_size(n, 1)
        assert together.lane_epochs == simulated_lane_epochs(epochs, lanes, 1, ALONE)
        assert together.lane_epochs != simulated_lane_epochs(epochs, lanes, 1, 0)
    for i in range(n):
        alone = fit(data, [i], trace=True, lr=settings["lr"][i], optimizer="momentum")
        assert np.array_equal(alone.trace[0], together.trace[i], equal_nan=True)
        steps = together.runs.grad_evals[i]
        assert np.isnan(together.trace[i, steps:]).all() and not np.isnan(together.trace[i, :steps, 0]).any()


@pytest.mark.parametrize("block_size", [1, 8])
@pytest.mark.parametrize("batch_size", [None, 5])
def test_a_last_epoch_at_a_curve_point_gives_the_same_final_numbers(data, block_size, batch_size):
    """Where a run's last epoch is a curve point, the pass that measures E there
    counts its dead units too, and evaluation takes no other: the same final
    numbers (losses, accuracies, dead units) as where it is not a curve point."""
    X, T = data.X_train, data.T_train
    settings = dict(activation="relu", init="he", lr=0.5, epochs=6, batch_size=batch_size, block_size=block_size)
    at_point, not_at_point = (engine.train(X, T, range(5), record_every=e, threads=1, **settings) for e in (3, 4))
    assert np.array_equal(at_point.params, not_at_point.params)
    pd.testing.assert_frame_equal(at_point.runs, not_at_point.runs)
    assert at_point.runs[DEAD_UNITS].gt(0).any()  # some dead units to count
