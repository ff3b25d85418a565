"""The compiled training loop against tests/naive.py, run by run: in float64 to
rounding (rtol 1e-9), in float32 to float32's accumulated rounding (the
float64 reference, from the same float64 initial weights)."""

import dataclasses

import naive
import numpy as np
import pandas as pd
import pytest

import engine
from engine.kernels.network import TILE
from engine.options import TRAIN_DEFAULTS


@pytest.fixture(scope="module")
def data():
    return engine.make_dataset(12, 30, seed=2)


# 8–12 epochs of float32 steps drift a few hundred float32 ulps from float64 at most
TOLERANCE = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}


def compare_with_naive(data, seeds=(0, 1), **settings):
    s = {**TRAIN_DEFAULTS, **settings}
    tol = TOLERANCE[s["dtype"]]
    result = engine.train(
        data.X_train, data.T_train, list(seeds), X_test=data.X_test, T_test=data.T_test, record_every=1, **settings
    )
    layout = engine.Layout(data.X_train.shape[1], s["hidden"], data.T_train.shape[1])
    params0 = engine.initial_params(layout, s["init"], list(seeds))
    for i, seed in enumerate(seeds):
        theta, epochs_run, to_target, history = naive.train(params0[i], data.X_train, data.T_train, seed, s)
        np.testing.assert_allclose(result.params[i], theta, **tol)
        row = result.runs.iloc[i]
        assert row.epochs_run == epochs_run
        assert pd.isna(row.epochs_to_target) if to_target is None else row.epochs_to_target == to_target
        loss, acc = naive.data_error(theta, data.X_train, data.T_train, s)
        assert row.train_loss == pytest.approx(loss, rel=tol["rtol"]) and row.train_acc == acc
        test_loss, test_acc = naive.data_error(theta, data.X_test, data.T_test, s)
        assert row.test_loss == pytest.approx(test_loss, rel=tol["rtol"]) and row.test_acc == test_acc
        curve = result.curves[result.curves.seed == seed]
        np.testing.assert_allclose(curve.train_loss.to_numpy(), history, rtol=tol["rtol"])
    return result


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_each_optimizer(data, optimizer, dtype):
    compare_with_naive(data, optimizer=optimizer, lr=0.05, epochs=12, momentum=0.8, rho=0.9, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize(
    "output, loss",
    [("softmax", "cross_entropy"), ("softmax", "squared"), ("sigmoid", "cross_entropy"), ("sigmoid", "squared")],
)
def test_each_activation_output_and_loss(data, activation, output, loss, dtype):
    compare_with_naive(
        data,
        activation=activation,
        output=output,
        loss=loss,
        init="he",
        lr=0.05,
        epochs=8,
        reduction="sum",
        dtype=dtype,
    )


def test_float32_is_not_float64(data):
    # the float32 tolerance is not met by accident: float32 runs differ from float64 ones
    a, b = (engine.train(data.X_train, data.T_train, [0], epochs=5, dtype=d).params for d in ("float64", "float32"))
    assert not np.array_equal(a, b) and np.allclose(a, b, **TOLERANCE["float32"])


@pytest.mark.parametrize(
    "settings",
    [
        dict(weight_decay=0.05),
        dict(weight_decay=0.05, decay_thresholds=True, optimizer="adam", lr=0.01),
        dict(batch_size=5, optimizer="momentum", lr=0.1),  # last batch smaller
        dict(batch_size=1, reduction="sum", lr=0.1),
        dict(dropout=0.3, optimizer="adam", lr=0.02),
        dict(dropout=0.3, dropout_mode="scale", batch_size=4, lr=0.5),
        dict(schedule="inverse_time", lr_decay=0.5, lr=1.0),
        dict(schedule="step", lr_step=3, lr_gamma=0.3, lr=1.0, optimizer="nesterov"),
        dict(schedule="armijo", lr=50.0, reduction="sum", weight_decay=0.01),
        dict(target_loss=0.6, lr=2.0, epochs=40),
    ],
    ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()),
)
def test_regularisers_batches_schedules_and_stopping(data, settings):
    compare_with_naive(data, **{"epochs": 10, "lr": 0.5, **settings})


@pytest.mark.parametrize(
    "n_train, settings",
    [
        *((n, {}) for n in (1, 2, 3, 5, 7)),
        *((n, dict(dropout=0.3)) for n in (1, 2, 3, 5, 7)),
        *((n, dict(batch_size=3, optimizer="adam", lr=0.05)) for n in (5, 7)),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else ",".join(f"{k}={x}" for k, x in v.items()) or "full_batch",
)
def test_sample_counts_that_leave_a_tile_part_full(data, n_train, settings):
    # the kernels take TILE samples at a time; every count of the last tile, with
    # the lanes sharing each sample (full batch) or not (shuffled batches)
    assert n_train % TILE != 0
    part = dataclasses.replace(data, X_train=data.X_train[:n_train], T_train=data.T_train[:n_train])
    compare_with_naive(part, **{"epochs": 6, "lr": 0.5, **settings})


def test_target_loss_stops_runs_at_different_epochs(data):
    result = compare_with_naive(data, seeds=(0, 1, 2, 3), optimizer="adam", lr=0.05, epochs=200, target_loss=0.1)
    runs = result.runs
    assert runs.converged.all() and runs.epochs_to_target.nunique() > 1
    assert (runs.train_loss < 0.1).all() and (runs.epochs_run == runs.epochs_to_target).all()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "settings",
    [
        dict(activation="relu", optimizer="momentum", lr=0.1, batch_size=5),
        dict(activation="tanh", dropout=0.2, batch_size=4, weight_decay=1e-3, lr=0.2),
        dict(activation="sigmoid", output="sigmoid", loss="squared", dropout=0.3, dropout_mode="scale", lr=0.5),
    ],
)
def test_depth_against_naive(data, settings, dtype):
    """Several hidden layers (engine/kernels/deep.py), dropout's factors in every
    one, against the sample-by-sample reference, run by run."""
    compare_with_naive(data, hidden=[4, 3, 5], epochs=8, dtype=dtype, **settings)
