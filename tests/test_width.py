"""hidden = [H]: one hidden layer of any width, in train(), experiment files,
the command line and the results folder; [3] is the lecture's network."""

import json

import numpy as np
import pandas as pd
import pytest
from experiment_files import EXACT_FLOATS, load

from engine import make_dataset, train
from engine.analysis.answer import size_text
from engine.analysis.effects import effects_table
from engine.cli import main
from engine.model.layout import MAX_PARAMS
from engine.options import check_setting
from engine.sweep import spec
from engine.sweep.driver import sweep


@pytest.fixture(scope="module")
def data():
    return make_dataset(n_train=8, n_test=20, seed=1)


def trained(data, **settings):
    return train(data.X_train, data.T_train, [0, 1, 2], X_test=data.X_test, T_test=data.T_test, epochs=20, **settings)


def test_hidden_3_is_the_default_bit_for_bit(data):
    default = trained(data)
    for same in (trained(data, hidden=[3]), trained(data, hidden=3), trained(data, n_hidden=3)):
        assert same.layout == default.layout and same.layout.size == 47
        assert same.params.tobytes() == default.params.tobytes()
        pd.testing.assert_frame_equal(same.runs, default.runs)
        pd.testing.assert_frame_equal(same.curves, default.curves)


@pytest.mark.parametrize("width", [1, 5])
def test_a_width_sets_the_layout(data, width):
    result = trained(data, hidden=[width])
    assert result.layout.n_hidden == width
    assert result.params.shape == (3, 2 * (width + 1) + width * 13)
    assert np.isfinite(result.params).all()


@pytest.mark.parametrize(
    "value, words",
    [
        ([], "the list is empty"),
        ([0], "an integer >= 1"),
        ([-2], "an integer >= 1"),
        ([2.5], "an integer >= 1"),
        (["3"], "an integer >= 1"),
        ([True], "an integer >= 1"),
        ([3, 0], "an integer >= 1"),
    ],
)
def test_bad_hidden_is_one_clear_error(data, value, words):
    with pytest.raises(ValueError, match=r"^hidden: .*" + words):
        check_setting("hidden", value)
    with pytest.raises(ValueError, match=words):
        trained(data, hidden=value)


def test_too_many_parameters_are_refused(data, tmp_path):
    with pytest.raises(ValueError, match=rf"hidden: \[8000\] .* 120,002 parameters .* more than the {MAX_PARAMS:,}"):
        trained(data, hidden=[8000])
    with pytest.raises(spec.SpecError, match=r"configuration 1 \(hidden=8000\): hidden: \[8000\]"):
        load(tmp_path, "seeds = 1\n[factors]\nhidden = [3, 8000]\n")


def test_n_hidden_and_hidden_together_are_refused(data):
    with pytest.raises(ValueError, match="n_hidden: give hidden=\\[H\\] or n_hidden=H, not both"):
        trained(data, hidden=[3], n_hidden=3)
    with pytest.raises(ValueError, match="^n_hidden: must be"):
        trained(data, n_hidden=0)


def test_a_file_takes_hidden_in_settings_or_as_a_factor(tmp_path):
    fixed = load(tmp_path, "seeds = 1\n[settings]\nhidden = [5]\n")
    assert [c["hidden"] for c in fixed.configs] == [5] and fixed.layout().n_hidden == 5
    factor = load(tmp_path, "seeds = 1\n[factors]\nhidden = [1, [2], 30]\n")
    assert factor.factors == ("hidden",) and [c["hidden"] for c in factor.configs] == [1, 2, 30]
    assert factor.layout().size == 2 * 31 + 30 * 13  # the widest
    for text, words in (
        ("[settings]\nhidden = []", r"\[settings\] hidden: the list is empty"),
        ("[settings]\nhidden = [0]", r"\[settings\] hidden: must be a list of hidden widths"),
        ("[factors]\nhidden = [2, 2.5]", r"\[factors\] hidden: must be"),
    ):
        with pytest.raises(spec.SpecError, match=words):
            load(tmp_path, f"seeds = 1\n{text}\n")


WIDTHS = """
seeds = 4
[data]
n_train = 8
n_test = 20
[settings]
epochs = 30
target_loss = 0.3
[factors]
hidden = [1, 3]
"""


def test_a_width_factor_sweeps_into_one_results_folder(tmp_path):
    experiment = load(tmp_path, WIDTHS)
    sweep(experiment, tmp_path / "out", quiet=True)
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert list(runs.groupby("config")["hidden"].first()) == [1, 3]
    params = pd.read_csv(tmp_path / "out" / "params.csv", **EXACT_FLOATS)
    assert list(params.columns[2:]) == experiment.layout().names  # the widest network's 47
    narrow = params[params["config"] == 0].iloc[:, 2:]
    assert narrow.notna().sum(axis=1).eq(2 * 2 + 1 * 13).all()  # 12-1-2: 17 numbers, the rest empty
    assert params[params["config"] == 1].iloc[:, 2:].notna().all().all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["layout"] == {"n_in": 12, "n_hidden": 3, "n_out": 2, "hidden": [1, 3]}
    # each run's numbers are those of train() with its width alone
    d = make_dataset(8, 20, seed=0)
    alone = train(d.X_train, d.T_train, [2], X_test=d.X_test, T_test=d.T_test, epochs=30, target_loss=0.3, hidden=[1])
    row = params[(params["config"] == 0) & (params["seed"] == 2)][alone.layout.names].to_numpy()[0]
    assert row.tobytes() == alone.params[0].tobytes()


def test_the_answer_names_the_smallest_width_as_good_as_the_largest():
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(20):
        for width, acc in ((1, 0.70), (2, 0.90), (3, 0.99), (5, 0.99), (10, 0.99)):
            rows.append({"config": width, "seed": seed, "hidden": width, "test_acc": acc + rng.normal(0, 1e-4)})
    runs = pd.DataFrame(rows)
    runs["hidden"] = runs["hidden"].astype("category")
    runs = runs.assign(train_loss=1.0 - runs["test_acc"], converged=False, epochs_to_target=pd.NA, diverged=False)
    effects = effects_table(runs, ["hidden"])
    # neighbours (1-2, ..., 5-10), then the largest against each smaller one but its neighbour
    pairs = list(dict.fromkeys(zip(effects["level_a"], effects["level_b"])))
    assert pairs == [("1", "2"), ("2", "3"), ("3", "5"), ("5", "10"), ("10", "1"), ("10", "2"), ("10", "3")]
    text = size_text(effects)
    assert text.startswith(" Against the largest (10), the smallest level practically as good on every metric is 3 (")
    assert "1 against 10: test accuracy -29.0" in text and "alone" not in text
    runs["train_loss"] = 0.5  # the loss alone: every level as good
    text = size_text(effects_table(runs, ["hidden"]))
    assert text.startswith(" Against the largest (10), the smallest level practically as good on every metric is 3; ")
    assert "on final train loss alone: 1 (" in text


def test_nn47_train_takes_hidden(capsys):
    assert main(["train", "--hidden", "5", "--epochs", "5", "--n-train", "4", "--n-test", "4"]) == 0
    assert "θ_5^H" in capsys.readouterr().out
    assert main(["train", "--hidden", "5,0", "--epochs", "5"]) == 2
    assert "hidden: must be a list of hidden widths" in capsys.readouterr().err
