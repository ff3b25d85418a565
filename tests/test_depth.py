"""Several hidden layers in the kernels (engine/kernels/deep.py): exact gradients
at depth 1–5, one pass for every depth (depth 1 through the deep pass gives
network.py's bits) and a run's numbers independent of how runs are grouped."""

import numpy as np
import pytest

import engine
from engine.kernels import entry

WIDTHS = [4, 3, 5, 2, 3]  # the hidden layers of the depth-D network: the first D


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    X = rng.random((9, 6))
    T = np.eye(3)[rng.integers(0, 3, 9)]
    return X, T


def kernel_gradient(X, T, theta, **settings):
    """∂E/∂θ at theta as the kernel takes it for its first update (the trace)."""
    result = engine.train(X, T, [0], params0=theta[None], epochs=1, trace=True, **settings)
    P = theta.size
    return result.trace[0, 0, 2 + P : 2 + 2 * P]


def kernel_error(X, T, thetas, **settings):
    """E at each row of thetas, measured by the kernel (its curve point at epoch 0)."""
    seeds = np.zeros(len(thetas), np.int64)
    curves = engine.train(X, T, seeds, params0=thetas, epochs=1, record_every=1, **settings).curves
    return curves[curves.epoch == 0].sort_values("run").train_loss.to_numpy()


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize(
    "output, loss",
    [("softmax", "cross_entropy"), ("softmax", "squared"), ("sigmoid", "cross_entropy"), ("sigmoid", "squared")],
)
def test_gradient_against_central_differences(data, depth, activation, output, loss):
    X, T = data
    settings = dict(hidden=WIDTHS[:depth], activation=activation, output=output, loss=loss, optimizer="sgd")
    layout = engine.Layout(X.shape[1], tuple(WIDTHS[:depth]), T.shape[1])
    theta = np.random.default_rng(depth).normal(0.0, 0.8, layout.size)
    g = kernel_gradient(X, T, theta, **settings)
    h = 1e-6
    steps = np.eye(layout.size) * h
    E = kernel_error(X, T, np.concatenate([theta + steps, theta - steps]), **settings)
    numeric = (E[: layout.size] - E[layout.size :]) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7 * np.abs(numeric).max())


CASES = [
    dict(),
    dict(batch_size=4, dropout=0.3),
    dict(activation="relu", output="sigmoid", loss="squared", batch_size=5),
    dict(activation="tanh", optimizer="adam", dropout=0.2, dropout_mode="scale", batch_size=3, weight_decay=1e-3),
]


@pytest.mark.parametrize("settings", CASES)
def test_depth_one_through_the_deep_pass(data, settings, monkeypatch):
    X, T = data
    kw = dict(epochs=6, record_every=2, **settings)
    shallow = engine.train(X, T, np.arange(10), X_test=X[:4], T_test=T[:4], **kw)
    monkeypatch.setattr(entry, "pass_address", lambda dtype, deep, per_run: PASS(dtype, True, per_run))
    deep = engine.train(X, T, np.arange(10), X_test=X[:4], T_test=T[:4], **kw)
    assert np.array_equal(shallow.params, deep.params)
    assert shallow.runs.equals(deep.runs) and shallow.curves.equals(deep.curves)


PASS = entry.pass_address


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_run_is_its_own_at_depth(data, dtype):
    """The same bits whatever the runs per call, threads and lanes per block,
    with dropout in every layer and runs that stop at different epochs."""
    X, T = data
    kw = dict(hidden=[5, 4, 3], activation="tanh", optimizer="adam", lr=0.05, dtype=dtype)
    kw.update(dropout=0.2, batch_size=4, epochs=30, target_loss=0.5)
    together = engine.train(X, T, np.arange(12), record_every=1, threads=2, **kw)
    assert together.runs.epochs_to_target.nunique() > 1  # refills happened
    for seeds, threads, block in [([3], 1, 1), ([7, 2, 9], 1, 8), (list(range(12)), 1, 8)]:
        part = engine.train(X, T, seeds, record_every=1, threads=threads, block_size=block, **kw)
        assert np.array_equal(part.params, together.params[seeds])
        assert part.runs.drop(columns="seed").equals(
            together.runs.iloc[seeds].reset_index(drop=True).drop(columns="seed")
        )
