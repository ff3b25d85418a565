"""Networks of any depth on the model side (the kernels' own: test_depth.py):
the numpy reference's exact gradient at depth 1–5, per-layer initial values,
bad `hidden` values, and the tables of an experiment with deep networks."""

import itertools

import naive
import numpy as np
import pandas as pd
import pytest
from experiment_files import load

import engine
from engine import Layout, loss_grad
from engine.analysis.effects import effects_table
from engine.analysis.load import ResultsError, _layouts
from engine.kernels import rng
from engine.model.equations import forward, hidden_outputs
from engine.model.initial import initial_params
from engine.model.layout import MAX_DEPTH, MAX_PARAMS, network, param_names
from engine.options import check_setting, hidden_from_label
from engine.sweep import spec
from engine.sweep.disk import Widths
from engine.sweep.estimate import dry_run
from engine.sweep.provenance import manifest_of

COMBOS = list(itertools.product(("sigmoid", "tanh", "relu"), ("softmax", "sigmoid"), ("cross_entropy", "squared")))
WIDTHS = (4, 3, 5, 2, 3)  # hidden layer l of a depth-D network is WIDTHS[l - 1]


def problem(depth, n_in=3, n_out=3, n=6):
    gen = np.random.default_rng(depth)
    layout = Layout(n_in, WIDTHS[:depth], n_out)
    X = gen.uniform(size=(n, n_in))
    T = np.eye(n_out)[gen.integers(0, n_out, n)]
    theta = gen.normal(0.0, 0.8, layout.size)
    return layout, theta, X, T


@pytest.mark.parametrize("activation, output, loss", COMBOS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_gradient_at_depth_matches_central_differences(depth, activation, output, loss):
    layout, theta, X, T = problem(depth)
    args = (activation, output, loss, "mean", 0.1)
    _, grad = loss_grad(theta, X, T, *args, layout=layout)
    h = 1e-6
    steps = h * np.eye(layout.size)  # every coordinate at once, on the leading axis
    E_plus, _ = loss_grad(theta + steps, X, T, *args, layout=layout)
    E_minus, _ = loss_grad(theta - steps, X, T, *args, layout=layout)
    np.testing.assert_allclose(grad, (E_plus - E_minus) / (2 * h), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("activation, output, loss", COMBOS)
@pytest.mark.parametrize("depth", [2, 3])
def test_at_depth_matches_the_sample_by_sample_reference(depth, activation, output, loss):
    layout, theta, X, T = problem(depth)
    E, grad = loss_grad(theta, X, T, activation, output, loss, "sum", 0.2, layout=layout)
    E_ref, grad_ref = naive.loss_grad(theta, X, T, activation, output, loss, "sum", 0.2, hidden=layout.hidden)
    assert E == pytest.approx(E_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-14)


def test_hidden_outputs_feed_each_layer_the_one_below():
    layout, theta, X, _ = problem(3)
    hs = hidden_outputs(theta, X, "tanh", layout)
    assert [h.shape for h in hs] == [(6, 4), (6, 3), (6, 5)]
    (W1, th1), (W2, th2), *_ = layout.layers(theta)
    np.testing.assert_array_equal(hs[0], np.tanh(X @ W1.T - th1))
    np.testing.assert_array_equal(hs[1], np.tanh(hs[0] @ W2.T - th2))
    h, z, _, _ = forward(theta, X, "tanh", "softmax", layout)
    np.testing.assert_array_equal(h, hs[-1])
    np.testing.assert_allclose(z.sum(-1), 1.0)


def test_a_given_depth_1_layout_is_the_guessed_one_bit_for_bit():
    d = engine.make_dataset(10, 2, seed=5)
    theta = engine.initial_params(Layout(), "he", [7, 8]) + 0.1
    guessed = loss_grad(theta, d.X_train, d.T_train, "relu", "sigmoid", "squared")
    given = loss_grad(theta, d.X_train, d.T_train, "relu", "sigmoid", "squared", layout=Layout())
    for a, b in zip(guessed, given):
        assert a.tobytes() == b.tobytes()


DEEP = Layout(50, (100, 80, 100), 10)  # fan-ins 50, 100, 80, 100


@pytest.mark.parametrize(
    "init, std",
    [
        ("xavier", lambda n: np.sqrt(1 / n)),
        ("he", lambda n: np.sqrt(2 / n)),
        ("std0.01", lambda n: 0.01),
        ("std1", lambda n: 1.0),
    ],
)
def test_initial_values_per_layer_by_each_layers_fan_in(init, std):
    params = initial_params(DEEP, init, [0, 1])
    for (W, th), fan_in in zip(DEEP.layers(params), DEEP.widths):
        assert (th == 0).all()
        assert W.std() == pytest.approx(std(fan_in), rel=0.05)  # 2000 to 16,000 draws a layer
        assert abs(W.mean()) < 0.1 * std(fan_in)


def test_weight_l_is_keyed_on_seed_and_l_at_any_depth():
    # 5-4-3-2: the output block (3 fan-in, 8 numbers), H2 (4 fan-in, 15), H1 (5 fan-in, 24)
    seeds = np.array([3, 11])
    std = np.array([np.sqrt(2 / 3)] * 8 + [np.sqrt(2 / 4)] * 15 + [np.sqrt(2 / 5)] * 24)
    expected = rng.normals(seeds, rng.INIT, 47) * std
    expected[:, Layout(5, (4, 3), 2).is_threshold] = 0.0
    assert initial_params(Layout(5, (4, 3), 2), "he", seeds).tobytes() == expected.tobytes()


def test_depth_1_initial_values_are_todays_bit_for_bit():
    seeds = np.array([0, 5])
    std = np.array([np.sqrt(1 / 3)] * 8 + [np.sqrt(1 / 12)] * 39)  # output layer's fan-in 3, hidden's 12
    expected = rng.normals(seeds, rng.INIT, 47) * std
    expected[:, Layout().is_threshold] = 0.0
    assert initial_params(Layout(), "xavier", seeds).tobytes() == expected.tobytes()


BAD = [
    ([], "the list is empty"),
    ([0], "must be a list of hidden widths"),
    ([1.5], "must be a list of hidden widths"),
    ([True], "must be a list of hidden widths"),
    ([3, -1], "must be a list of hidden widths"),
    (["3"], "must be a list of hidden widths"),
    ([[3]], "must be a list of hidden widths"),
]


@pytest.mark.parametrize("value, words", BAD)
def test_bad_hidden_is_one_clear_error(value, words):
    with pytest.raises(ValueError, match=r"^hidden: .*" + words):
        check_setting("hidden", value)


def test_depth_and_parameter_limits_name_hidden():
    assert check_setting("hidden", [100, 100, 100, 100]) == (100, 100, 100, 100)
    assert network(64, check_setting("hidden", [100] * 4), 10).size == 64 * 100 + 3 * 100 * 100 + 100 * 10 + 410
    with pytest.raises(
        ValueError, match=rf"^hidden: \[2, 2, 2, 2, 2, 2, 2, 2, 2\] has 9 layers, more than the {MAX_DEPTH}"
    ):
        network(12, check_setting("hidden", [2] * 9), 2)
    with pytest.raises(ValueError, match=rf"^hidden: \[400, 400\] .* more than the {MAX_PARAMS:,} allowed"):
        network(12, check_setting("hidden", [400, 400]), 2)
    d = engine.make_dataset(8, 2, seed=0)
    with pytest.raises(ValueError, match="^hidden: .* has 9 layers"):
        engine.train(d.X_train, d.T_train, [0], hidden=[2] * 9, epochs=1)


def test_a_file_refuses_bad_hidden_naming_the_place(tmp_path):
    for text, words in (
        ("[settings]\nhidden = [3, 0]", r"\[settings\] hidden: must be a list of hidden widths"),
        ("[settings]\nhidden = [[3]]", r"\[settings\] hidden: must be"),
        ("[factors]\nhidden = [[3], []]", r"\[factors\] hidden: the list is empty"),
        ("[factors]\nhidden = [[3], [2, 2, 2, 2, 2, 2, 2, 2, 2]]", r"configuration 1 \(hidden=\(2, 2, .*has 9 layers"),
    ):
        with pytest.raises(spec.SpecError, match=words):
            load(tmp_path, f"seeds = 1\n{text}\n")


def test_a_deep_factor_gives_a_text_hidden_column_and_every_networks_params(tmp_path):
    experiment = load(tmp_path, "seeds = 1\n[factors]\nhidden = [[3], [2, 2], 4]\n")
    assert [c["hidden"] for c in experiment.configs] == [3, (2, 2), 4]
    assert experiment.config_frame()["hidden"].tolist() == ["3", "2-2", "4"]  # a categorical factor
    assert experiment.layout() == Layout(12, 4, 2)  # the most parameters: 62
    names = experiment.param_names()
    deep = Layout(12, (2, 2), 2).names
    assert names[:62] == Layout(12, 4, 2).names and names[62:] == [n for n in deep if n.endswith(("H1", "H2"))]
    layout = manifest_of(experiment)["layout"]
    assert layout == {"n_in": 12, "n_out": 2, "hidden": ["2-2", "3", "4"]}  # no n_hidden: not one layer
    layouts = _layouts({"layout": layout}, tmp_path)
    assert layouts == [Layout(12, (2, 2), 2), Layout(12, 3, 2), Layout(12, 4, 2)] and param_names(layouts) == names


def test_one_layer_factors_keep_integer_hidden_columns_and_manifests(tmp_path):
    experiment = load(tmp_path, "seeds = 1\n[factors]\nhidden = [[3], 1, [30]]\n")
    assert experiment.config_frame()["hidden"].tolist() == [3, 1, 30]
    assert experiment.param_names() == Layout(12, 30, 2).names
    assert manifest_of(experiment)["layout"] == {"n_in": 12, "n_hidden": 30, "n_out": 2, "hidden": [1, 3, 30]}


def test_hidden_labels_read_back():
    assert [hidden_from_label(v) for v in (3, np.int64(3), "3", "100-100")] == [3, 3, 3, (100, 100)]
    for bad in ("100-", "a-b", "0-3"):
        with pytest.raises(ValueError, match="^hidden: "):
            hidden_from_label(bad)


def test_a_text_hidden_factor_is_compared_as_categories():
    rng = np.random.default_rng(0)
    rows = [
        {"config": c, "seed": seed, "hidden": label, "test_acc": acc + rng.normal(0, 1e-3)}
        for seed in range(12)
        for c, (label, acc) in enumerate((("3", 0.9), ("3-3", 0.95), ("3-3-3", 0.99)))
    ]
    runs = pd.DataFrame(rows)
    runs["hidden"] = pd.Categorical(runs["hidden"], ["3", "3-3", "3-3-3"])
    runs = runs.assign(train_loss=1.0 - runs["test_acc"], converged=False, epochs_to_target=pd.NA, diverged=False)
    pairs = list(dict.fromkeys(zip(*effects_table(runs, ["hidden"])[["level_a", "level_b"]].to_numpy().T)))
    assert pairs == [("3", "3-3"), ("3", "3-3-3"), ("3-3", "3-3-3")]  # every two levels, no size rows


def test_a_variant_level_takes_a_deep_network_as_a_list_of_one_list(tmp_path):
    text = "seeds = 1\n[factors.net]\nwide = { hidden = [30] }\ndeep = { hidden = [[10, 10]] }\n"
    assert [c["hidden"] for c in load(tmp_path, text).configs] == [30, (10, 10)]
    with pytest.raises(
        spec.SpecError, match=r"\[factors.net.deep\] hidden: 10 is listed twice"
    ):  # [10, 10] there is a sub-axis of two widths
        load(tmp_path, "seeds = 1\n[factors.net]\ndeep = { hidden = [10, 10] }\n")


def test_a_manifest_with_a_bad_hidden_level_is_refused(tmp_path):
    with pytest.raises(ResultsError, match=r"'layout' must be .*hidden: '3-x' is not widths joined by '-'"):
        _layouts({"layout": {"n_in": 12, "n_out": 2, "hidden": ["3", "3-x"]}}, tmp_path)
    assert _layouts({"layout": {"n_in": 12, "n_hidden": 3, "n_out": 2}}, tmp_path) == [Layout()]  # older ones


def test_the_dry_run_counts_every_networks_parameters(tmp_path):
    experiment = load(tmp_path, "seeds = 2\n[factors]\nhidden = [[3], [2, 2], 4]\n")
    lines = dry_run(experiment, 8, tmp_path / "out", ["csv"], rate=1e6)
    assert any("disk" in line for line in lines)
    assert Widths(experiment, ["x"] * 3, 1).columns["params"] == 2 + 94  # 62 of 12-4-2, 32 more of 12-2-2-2
