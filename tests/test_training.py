"""train(): reproducibility, pairing, divergence, curves, and bad arguments."""

import multiprocessing as mp
import threading

import numpy as np
import pandas as pd
import pytest

import engine
from engine.kernels import entry
from engine.kernels import optimizers as k_opt
from engine.options import HYPER, OPTIMIZER_PARAMS


@pytest.fixture(scope="module")
def data():
    return engine.make_dataset(16, 40, seed=1)


def fit(data, seeds, **kwargs):
    settings = dict(
        optimizer="adam",
        lr=0.05,
        epochs=30,
        batch_size=5,
        dropout=0.2,
        record_every=7,
        X_test=data.X_test,
        T_test=data.T_test,
    )
    return engine.train(data.X_train, data.T_train, seeds, **{**settings, **kwargs})


def assert_same(a, b):
    assert np.array_equal(a.params, b.params)
    pd.testing.assert_frame_equal(a.runs.reset_index(drop=True), b.runs.reset_index(drop=True))
    pd.testing.assert_frame_equal(a.curves.reset_index(drop=True), b.curves.reset_index(drop=True))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_results_do_not_depend_on_block_size_threads_or_runs_per_call(data, dtype):
    seeds = list(range(70))
    reference = fit(data, seeds, block_size=8, threads=1, dtype=dtype)
    for kwargs in (dict(block_size=64, threads=2), dict(block_size=1), dict(block_size=13), dict()):
        assert_same(fit(data, seeds, dtype=dtype, **kwargs), reference)
    alone = fit(data, [13], dtype=dtype)
    assert np.array_equal(alone.params[0], reference.params[13])
    pd.testing.assert_frame_equal(
        alone.curves.drop(columns="run").reset_index(drop=True),
        reference.curves[reference.curves.seed == 13].drop(columns="run").reset_index(drop=True),
    )


def two_threads_in_a_forked_child(data, reference, results):
    results.put(np.array_equal(fit(data, list(range(20)), threads=2).params, reference))


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_trains_on_threads_of_its_own(data):
    # the helper threads are started once per process: a child forked after its
    # parent trained on two threads has none of them and must start its own
    reference = fit(data, list(range(20)), threads=2).params
    context = mp.get_context("fork")
    results = context.Queue()
    child = context.Process(target=two_threads_in_a_forked_child, args=(data, reference, results), daemon=True)
    child.start()
    same = results.get(timeout=120)  # a child waiting on its parent's threads would never answer
    child.join()
    assert same and child.exitcode == 0


def test_a_failing_queue_lets_the_other_finish_first(data, monkeypatch):
    finished = []
    real_block = entry.train_block

    def train_block(*args):
        if threading.current_thread() is threading.main_thread():  # the calling thread's queue
            finished.append("failing")
            raise RuntimeError("queue failed")
        result = real_block(*args)
        finished.append("other")
        return result

    entry.fresh_cache()  # before the stand-in: it reads the real kernel's cache folder
    monkeypatch.setattr(entry, "train_block", train_block)
    with pytest.raises(RuntimeError, match="queue failed"):
        fit(data, list(range(20)), threads=2, block_size=8)
    assert finished == ["failing", "other"]


def test_per_run_numbers_equal_separate_calls(data):
    together = fit(data, [0, 1, 2], lr=[0.01, 0.05, 0.2], weight_decay=[0.0, 0.01, 0.1])
    for i, (lr, wd) in enumerate([(0.01, 0.0), (0.05, 0.01), (0.2, 0.1)]):
        alone = fit(data, [i], lr=lr, weight_decay=wd)
        assert np.array_equal(alone.params[0], together.params[i])


def test_init_given_per_run_equals_separate_calls(data):
    inits = ["he", "xavier", "he", "std0.01"]
    together = fit(data, [0, 1, 2, 3], init=inits)
    for i, init in enumerate(inits):
        alone = fit(data, [i], init=init)
        assert np.array_equal(alone.params[0], together.params[i])
        assert (
            alone.curves.query("epoch == 0").train_loss.item()
            == together.curves.query(f"run == {i} and epoch == 0").train_loss.item()
        )
    with pytest.raises(ValueError, match=r"init: give one value or one per seed \(4\), got 2"):
        fit(data, [0, 1, 2, 3], init=["he", "xavier"])
    with pytest.raises(ValueError, match="init"):
        fit(data, [0, 1], init=["he", "kaiming"])


def test_a_seed_fixes_the_initial_weights_whatever_the_optimizer(data):
    first = {
        opt: fit(data, [4, 5], optimizer=opt, epochs=1).curves.query("epoch == 0") for opt in ("sgd", "adam", "rmsprop")
    }
    assert first["sgd"].train_loss.tolist() == first["adam"].train_loss.tolist() == first["rmsprop"].train_loss.tolist()
    he, xavier = (engine.initial_params(engine.Layout(), init, [4]) for init in ("he", "xavier"))
    np.testing.assert_allclose(he, np.sqrt(2) * xavier)


def test_a_diverging_run_stops_and_the_others_go_on(data):
    # w ← w(1 − ηλ) − ηg with ηλ = 1e10: |w| grows ten orders a step until it overflows
    kwargs = dict(optimizer="sgd", weight_decay=1.0, batch_size=None, dropout=0.0, epochs=60)
    mixed = fit(data, [0, 1], lr=[1e10, 0.01], **kwargs)
    assert mixed.runs.diverged.tolist() == [True, False]
    assert mixed.runs.epochs_run[0] < 60 and np.isnan(mixed.runs.train_acc[0])
    assert pd.isna(mixed.runs.dead_units[0]) and mixed.runs.dead_units[1] == 0
    assert not np.isfinite(mixed.params[0]).all()
    assert np.array_equal(mixed.params[1], fit(data, [1], lr=0.01, **kwargs).params[0])


def test_curves_have_a_point_every_record_every_epochs_and_at_the_end(data):
    result = fit(data, [0], epochs=30, record_every=7)
    assert result.curves.epoch.tolist() == [0, 7, 14, 21, 28, 30]
    last = result.curves.iloc[-1]
    assert last.train_loss == result.runs.train_loss[0] and last.test_acc == result.runs.test_acc[0]
    assert list(result.runs.columns) == [
        "seed",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
        "epochs_to_target",
        "converged",
        "diverged",
        "epochs_run",
        "grad_evals",
        "dead_units",
    ]
    assert result.runs.grad_evals[0] == 30 * 4  # 16 samples in batches of 5


def test_float32_results_are_float32_numbers_in_float64_tables(data):
    result = fit(data, [0, 1], dtype="float32")
    assert result.params.dtype == np.float64 and result.runs.train_loss.dtype == np.float64
    assert np.array_equal(result.params, result.params.astype(np.float32))
    assert np.array_equal(result.curves.train_loss, result.curves.train_loss.astype(np.float32))
    assert fit(data, [0, 1], dtype="float32", target_loss=1.2e-7).runs.epochs_run.tolist() == [30, 30]


def test_dead_relu_units_are_counted(data):
    params0 = engine.initial_params(engine.Layout(), "he", [0])
    params0[0, engine.Layout().hidden_offset + 12] = 100.0  # θ_1^H huge: unit 1 never fires
    result = engine.train(data.X_train, data.T_train, [0], params0=params0, activation="relu", epochs=1, lr=0.01)
    assert result.runs.dead_units[0] == 1


def test_training_without_a_test_set_reports_nan(data):
    runs = engine.train(data.X_train, data.T_train, [0], epochs=3).runs
    assert np.isnan(runs.test_loss[0]) and not np.isnan(runs.train_loss[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(activation="sigmod"), r"activation: unknown value 'sigmod'; allowed: sigmoid, tanh, relu"),
        (dict(optimizer="adamw"), r"optimizer: .*did you mean 'adam'"),
        (dict(lr=0.0), r"lr: must be a number > 0"),
        (dict(lr=[0.1, -1.0]), r"lr: must be a number > 0, got -1.0"),
        (dict(lr=[0.1, 0.2, 0.3]), r"lr: give one value or one per seed \(2\)"),
        (dict(lr=["fast", 0.1]), r"lr: must be a number > 0, got 'fast'"),
        (dict(lr_step=2.5), r"lr_step: must be an integer >= 1, got 2.5"),
        (dict(dropout=1.0), r"dropout: must be a ratio in \[0, 1\)"),
        (dict(epochs=0), r"epochs: must be an integer >= 1"),
        (dict(learning_rate=0.1), r"train: unknown key 'learning_rate'; allowed: init, optimizer, lr, "),
        (dict(optimiser="adam"), r"train: unknown key 'optimiser'.*did you mean 'optimizer'"),
        (dict(schedule="armijo", optimizer="adam"), r"'armijo' backtracking needs optimizer 'sgd'"),
        (dict(params0=np.zeros((2, 46))), r"params0: must have shape"),
        (dict(record_every=0), r"record_every"),
        (dict(epochs=10**10, record_every=1), r"epochs, record_every: 2 run\(s\) with 10,000,000,002 curve points"),
        (dict(block_size=0), r"block_size: must be an integer >= 1"),
        (dict(threads=0), r"threads"),
        (dict(X_test=np.zeros((3, 11)), T_test=np.zeros((3, 2))), r"X_test: must be a 2-d array \[samples, 12\]"),
        (dict(dtype="float16"), r"dtype: unknown value 'float16'; allowed: float64, float32"),
        (
            dict(dtype="float32", target_loss=1e-9),
            r"target_loss: 1e-09 is below float32's resolution for the loss "
            r"\(about 1.2e-07.*use dtype 'float64'",
        ),
    ],
)
def test_bad_arguments_name_the_argument(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        engine.train(data.X_train, data.T_train, [0, 1], epochs=kwargs.pop("epochs", 2), **kwargs)


@pytest.mark.parametrize(
    "X, T, message",
    [
        (np.zeros(12), np.zeros((1, 2)), "X: must be a 2-d array"),
        (np.zeros((3, 12)), np.zeros((4, 2)), "T: must be one-hot targets"),
        (np.full((3, 12), np.nan), np.eye(2)[[0, 1, 0]], "must be finite"),
    ],
)
def test_bad_data_is_refused(X, T, message):
    with pytest.raises(ValueError, match=message):
        engine.train(X, T, [0], epochs=1)


@pytest.mark.parametrize("seeds", [[], [-1], [0.5], [[0, 1]]])
def test_bad_seeds(data, seeds):
    with pytest.raises(ValueError, match="seeds"):
        engine.train(data.X_train, data.T_train, seeds, epochs=1)


# One step of each optimizer against its formula, from preset state.
def one_step(optimizer, w, g, m1, m2, lr, step, **params):
    hyper = dict(zip(HYPER, [0.0] * len(HYPER)), lr=lr, **{**OPTIMIZER_PARAMS, **params})
    hyper = np.array([[hyper[k]] * w.shape[1] for k in HYPER])
    w, m1, m2 = w.copy(), m1.copy(), m2.copy()
    k_opt.update(
        k_opt.OPTIMIZERS.index(optimizer),
        w,
        g,
        m1,
        m2,
        np.empty((2, w.shape[1])),
        np.full(w.shape[1], lr),
        hyper,
        np.full(w.shape[1], step),  # each lane's update count
    )
    return w, m1, m2


@pytest.fixture
def state():
    rng = np.random.default_rng(3)
    w, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    return w, g, rng.normal(size=(5, 3)), rng.uniform(0.1, 1, size=(5, 3))


def test_sgd_step(state):
    w, g, m, v = state
    assert np.allclose(one_step("sgd", w, g, m, v, 0.1, 1)[0], w - 0.1 * g)


def test_momentum_step(state):
    w, g, m, v = state
    w1, m1, _ = one_step("momentum", w, g, m, v, 0.1, 4, momentum=0.8)
    assert np.allclose(m1, 0.8 * m - 0.1 * g) and np.allclose(w1, w + 0.8 * m - 0.1 * g)


def test_nesterov_step_is_torchs(state):
    w, g, m, v = state
    w1, m1, _ = one_step("nesterov", w, g, m, v, 0.1, 4, momentum=0.8)
    buf = 0.8 * m + g
    assert np.allclose(m1, buf) and np.allclose(w1, w - 0.1 * (g + 0.8 * buf))


def test_adagrad_step(state):
    w, g, m, v = state
    w1, _, v1 = one_step("adagrad", w, g, m, v, 0.1, 4, eps=1e-3)
    assert np.allclose(v1, v + g**2) and np.allclose(w1, w - 0.1 * g / (np.sqrt(v + g**2) + 1e-3))


def test_rmsprop_step(state):
    w, g, m, v = state
    w1, _, v1 = one_step("rmsprop", w, g, m, v, 0.1, 4, rho=0.9, eps=1e-3)
    h = 0.9 * v + 0.1 * g**2
    assert np.allclose(v1, h) and np.allclose(w1, w - 0.1 * g / (np.sqrt(h) + 1e-3))


def test_adam_step_is_kingma_and_ba_algorithm_1(state):
    w, g, m, v = state
    t = 3
    w1, m1, v1 = one_step("adam", w, g, m, v, 0.01, t, beta1=0.8, beta2=0.99, eps=1e-4)
    m_t, v_t = 0.8 * m + 0.2 * g, 0.99 * v + 0.01 * g**2
    m_hat, v_hat = m_t / (1 - 0.8**t), v_t / (1 - 0.99**t)
    assert np.allclose(m1, m_t) and np.allclose(v1, v_t)
    assert np.allclose(w1, w - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-4))
