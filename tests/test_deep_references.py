"""The deep job's reference trainers compute the engine's math: the numpy model's
gradient for one hidden layer, central differences at depth, the engine's own
trained weights on a tiny case, and each other."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.bench import deep, deep_references, markdown, roofline, sizes
from engine.model import equations as model
from engine.model.layout import Layout

LR, BATCH = 0.05, 16


@pytest.fixture(scope="module")
def digits():
    return deep.deep_data(40)  # 40 samples: batches of 16, 16 and 8


def job(digits, hidden, runs=3):
    return deep.deep_params(runs, hidden), *digits


@pytest.mark.parametrize("hidden", [(7,), (5, 4, 3)])
def test_loss_and_gradient_match_the_numpy_model(digits, hidden):
    params, X, T = job(digits, hidden)
    layout = Layout(64, hidden, 10)
    E_model, grad_model = model.loss_grad(params, X, T, activation="relu", layout=layout)
    np.testing.assert_allclose(deep_references._loss(np, params, X, T, layout), E_model, rtol=1e-13)
    grad = deep_references._grad(np, params, np.broadcast_to(X, (len(params), *X.shape)), T, layout)
    np.testing.assert_allclose(grad, grad_model, rtol=1e-10, atol=1e-16)
    assert np.abs(grad).max() > 1e-3  # not a dead network


def test_sample_order_is_a_permutation_per_run_and_epoch():
    order = deep_references.sample_order(3, 2, 10)
    assert order.shape == (3, 2, 10)
    assert (np.sort(order, axis=-1) == np.arange(10)).all()
    assert len({tuple(o) for o in order.reshape(6, 10)}) == 6  # every run and epoch its own


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_numpy_reference_ends_at_the_engines_weights(digits, hidden, dtype, rtol):
    if deep.engine_refusal(hidden):
        pytest.skip(f"the engine refuses {hidden}: {deep.engine_refusal(hidden)}")
    params, X, T = job(digits, hidden)
    w_engine, E_engine = deep.train_engine_deep(params, X, T, 3, LR, hidden, BATCH, dtype)
    w, E = deep_references.train_sgd_numpy_batched(params, X, T, 3, LR, hidden, BATCH, dtype)
    assert w.dtype == E.dtype == dtype
    np.testing.assert_allclose(w, w_engine, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(E, E_engine, rtol=rtol)


def test_one_full_batch_step_is_lr_times_the_models_gradient(digits):
    params, X, T = job(digits, (6, 5))
    layout = Layout(64, (6, 5), 10)
    _, g = model.loss_grad(params, X, T, activation="relu", layout=layout)
    w, E = deep_references.train_sgd_numpy_batched(params, X, T, 1, LR, (6, 5), len(X))
    np.testing.assert_allclose(w, params - LR * g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(E, model.loss_grad(w, X, T, activation="relu", layout=layout)[0], rtol=1e-13)


@pytest.mark.parametrize("name, library", [("torch_batched", "torch"), ("jax_batched", "jax")])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_trainers_agree_with_numpy(digits, name, library, dtype, rtol):
    from engine.bench import references

    if not references.available()[name]:  # through available(): jax's first import is the references' own
        pytest.skip(f"{library} is not installed")
    params, X, T = job(digits, (6, 5))
    w_numpy, E_numpy = deep_references.train_sgd_numpy_batched(params, X, T, 2, LR, (6, 5), BATCH, dtype)
    w, E = deep_references.TRAINERS[name](params, X, T, 2, LR, (6, 5), BATCH, dtype)
    assert w.dtype == E.dtype == dtype
    np.testing.assert_allclose(E, E_numpy, rtol=rtol)
    np.testing.assert_allclose(w, w_numpy, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, X, T: (p[:, :-1], X, T, 1, BATCH), "numbers per run"),
        (lambda p, X, T: (p[0], X, T, 1, BATCH), "expected params0"),
        (lambda p, X, T: (p, X, T, -1, BATCH), "epochs"),
        (lambda p, X, T: (p, X, T, 1, len(X) + 1), "batch_size"),
    ],
)
def test_bad_input_is_a_value_error(digits, change, message):
    params, X, T, epochs, batch = change(*job(digits, (5,)))
    with pytest.raises(ValueError, match=message):
        deep_references.train_sgd_numpy_batched(params, X, T, epochs, LR, (5,), batch)


def test_deep_counts_known_answer():
    # 2-3-2, batches of 4: 12 weights, 5 units, P = 17; the hidden layer's 9 numbers a tile of 4
    # samples at a time (w read, g read and written; no δ to the inputs), the output layer's 8
    # once a sample (w read twice, forward and for δ^H, but θ once; g read and written)
    flops, elements = roofline.deep_counts(2, (3,), 2, 4)
    assert flops == (2 * 12 + 5) * 2 + 2 * 6 + 3 + 2 * 17 / 4
    assert elements == 27 / 4 + 30 + 5 * 5 + 2 + 3 * 17 / 4


def test_deep_counts_of_the_per_run_pass_known_answer():
    # 2-3-3-2, batches of 4: 21 weights, 8 units, P = 29; the same flops as the lane layout;
    # 36 multiply-adds (21 forward, 15 δ back through the upper two layers) move
    # (GROUP + 2 · BLOCK) / (GROUP · BLOCK) = 12 / 16 elements each (4 inputs shared by 4 sums,
    # each read and written), the gradient's 29 a sample (8 + 4) / (4 · 8) = 12 / 32 each in
    # float64 (a vector of 8 inputs and 4 δs for 4 rows' vectors of sums held in registers),
    # (16 + 4) / (4 · 16) = 20 / 64 in float32; the parameters once per CHUNK = 128 samples
    for entries, per_gradient in [(8, 12 / 32), (16, 20 / 64)]:
        flops, elements = roofline.deep_counts(2, (3, 3), 2, 4, per_run=True, entries=entries)
        assert flops == roofline.deep_counts(2, (3, 3), 2, 4)[0]
        assert elements == 5 * 8 + 2 + 3 * 29 / 4 + 36 * 0.75 + 29 * per_gradient + 3 * 29 / 128


def test_the_deep_roofline_bounds_the_per_run_pass_by_its_l1_sums():
    limits = pd_limits()
    lanes, per_run = (roofline.deep_roofline_table(limits, (100, 100), 128, b, 2, {}) for b in (32, 1))
    assert (per_run["layout"] == "per-run").all() and (lanes["layout"] == "lanes").all()
    # the per-run pass moves more elements than the lanes (its sums), but through L1
    assert (per_run["flops"] == lanes["flops"]).all() and (per_run["bytes"] > lanes["bytes"]).all()
    l1 = limits.set_index("dtype").groupby(level=0)["l1_bytes_s"].first()
    expected = 2 * l1[per_run["dtype"]].to_numpy() / per_run["bytes"].to_numpy()
    assert per_run["memory_bound"].to_numpy() == pytest.approx(expected)


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_deep_rows_time_every_implementation_or_name_the_engines_refusal(hidden):
    tiny = replace(sizes.QUICK, deep=(2, 1, deep.DEEP_BATCH), deep_rounds=2)
    table = deep.deep_table(tiny, hidden)
    refusal = deep.engine_refusal(hidden)
    for dtype in ("float64", "float32"):
        rows = table[table["study"] == f"deep {dtype}"].set_index("implementation")
        assert "numpy_batched" in rows.index and "engine" in rows.index
        if refusal:
            assert rows.loc["engine", "note"] == f"not run: {refusal}"
            assert rows["seconds_best"].isna()["engine"] and rows["engine_speedup"].isna().all()
        else:
            assert rows.loc["engine", "engine_speedup"] == 1.0
        timed = rows[rows["seconds_best"].notna()]
        assert (timed["runs"] == 2).all() and (timed["repeats"] == 2).all()
    limits = pd_limits()
    for lanes, layout, bandwidth in ((8, "lanes", "MiB a block"), (1, "per-run", "(L1)")):
        deep_roofline = roofline.deep_roofline_table(limits, hidden, deep.DEEP_BATCH, lanes, 1, {"float64": 1e4})
        text = "\n".join(markdown.deep_section(table, limits, deep_roofline, tiny, {"float64": 1e6}))
        assert "## The deep job" in text and "12-3-2 (throughput job), float64" in text
        assert f"(deep job, {layout}), float64" in text and bandwidth in text
    assert ("The engine did not run" in text) == bool(refusal)


def pd_limits():
    """A roofline table of one section per dtype, with made-up limits."""
    return pd.DataFrame(
        [
            dict(dtype=d, section="forward", flops=100.0, bytes=800.0, exp_log=1.0, divisions=1.0)
            | dict(peak_flops=1e10, l1_bytes_s=1e11, exp_per_s=1e9, div_per_s=1e9)
            for d in ("float64", "float32")
        ]
    )
