"""Tuning before the comparison: the search, successive halving, the objective
recomputed by plain train() calls, seeds, bad input, determinism and resume."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_files import load

import engine
from engine.cli import main
from engine.sweep import spec
from engine.sweep.search import Range, default_space, order, rungs, samples, survivors
from engine.sweep.tune import objective_of, tune_and_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "tune_tiny.toml"


# --- the search ---------------------------------------------------------------

SPACE = {"lr": Range("log", 1e-4, 1.0), "beta1": Range("uniform", 0.5, 0.99), "eps": Range("log", 1e-10, 1e-4)}


def test_samples_are_deterministic_inside_their_ranges_and_spread():
    first, again = samples(SPACE, 64, 0, 3), samples(SPACE, 64, 0, 3)
    assert all(np.array_equal(first[key], again[key]) for key in SPACE)
    other_group, other_seed = samples(SPACE, 64, 0, 4), samples(SPACE, 64, 1, 3)
    assert not np.array_equal(first["lr"], other_group["lr"])
    assert not np.array_equal(first["lr"], other_seed["lr"])
    for key, r in SPACE.items():
        x = first[key]
        assert ((x >= r.low) & (x <= r.high)).all()
        # a Sobol sequence fills each quarter of the range (on its scale) with about a quarter of the points
        quarter = np.floor(np.array([r.position(v) for v in x]) * 4).clip(0, 3)
        assert np.bincount(quarter.astype(int), minlength=4).min() >= 12
    # the first points are the same whatever the budget: more trials only add points
    assert np.array_equal(samples(SPACE, 10, 0, 3)["lr"], first["lr"][:10])


def test_log_range_is_uniform_in_the_logarithm():
    r = Range("log", 1e-3, 10.0)
    assert r.at([0.0])[0] == pytest.approx(1e-3) and r.at([0.5])[0] == pytest.approx(0.1)
    assert r.position(0.1) == pytest.approx(0.5)
    assert Range("uniform", 0.5, 0.9).at([0.25])[0] == pytest.approx(0.6)


def test_default_space_holds_lr_and_the_optimizers_own_settings():
    assert set(default_space("sgd")) == {"lr"}
    assert set(default_space("momentum")) == {"lr", "momentum"}
    assert set(default_space("adam")) == {"lr", "beta1", "beta2", "eps"}
    assert set(default_space("rmsprop")) == {"lr", "rho", "eps"}


# --- successive halving ------------------------------------------------------------


def test_rungs_keep_one_in_eta_with_eta_times_the_epochs():
    assert rungs(27, 3) == [(27, 1 / 27), (9, 1 / 9), (3, 1 / 3), (1, 1.0)]
    assert rungs(8, 2) == [(8, 1 / 8), (4, 1 / 4), (2, 1 / 2), (1, 1.0)]
    assert rungs(10, 3) == [(10, 1 / 9), (3, 1 / 3), (1, 1.0)]
    assert rungs(5, 0) == [(5, 1.0)]


def test_survivors_are_the_best_with_ties_in_trial_order_and_failures_last():
    alive = [4, 7, 1, 9, 3, 0]
    ert = [30.0, np.inf, 12.0, 12.0, np.nan, 5.0]
    assert survivors(alive, ert, 3, False) == [0, 1, 9]
    assert survivors(alive, ert, 6, False) == [0, 1, 9, 4, 7, 3]
    accuracy = [0.5, 0.9, 0.9, np.nan, 0.7, 0.1]
    assert survivors(alive, accuracy, 2, True) == [7, 1]
    assert list(order([2.0, 1.0], False)) == [1, 0]


def test_objectives_of_a_trials_runs():
    runs = pd.DataFrame(
        {
            "converged": [True, False, True, False],
            "epochs_run": [10, 100, 30, 100],
            "val_loss": [0.1, np.nan, 0.3, 0.2],
            "val_acc": [1.0, np.nan, 0.5, 0.9],
        }
    )
    assert objective_of(runs, "ert") == 240 / 2  # every epoch run, per success
    assert objective_of(runs.iloc[[1, 3]], "ert") == np.inf
    assert objective_of(runs, "val_loss") == 0.25  # diverged counts as +∞
    assert objective_of(runs, "val_acc") == pytest.approx(2.4 / 4)  # diverged counts as 0


# --- a tuned sweep, checked against plain train() calls ------------------------------


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    out = tmp_path_factory.mktemp("tuned") / "out"
    reports = tune_and_sweep(spec.load(TINY), out, quiet=True, chunk_runs=16)
    assert not any(r.failures for r in reports)
    return out


def table_bytes(folder):
    return tuple((Path(folder) / name).read_bytes() for name in ("tuning.csv", "runs.csv", "curves.csv"))


def test_each_rung_keeps_the_best_of_the_rung_before(tuned):
    table = pd.read_csv(tuned / "tuning.csv")
    experiment = spec.load(TINY)
    for _g, group in table.groupby("group"):
        for (keep, fraction), k in zip(rungs(8, 2), range(4)):
            rung = group[group["rung"] == k]
            assert len(rung) == keep and (rung["epochs"] == max(1, round(60 * fraction))).all()
            assert sorted(rung["rank"]) == list(range(1, keep + 1))
            if k:
                before = group[group["rung"] == k - 1].sort_values("rank")
                assert set(rung["trial"]) == set(before["trial"].head(keep))
        chosen = group[group["chosen"]]
        assert len(chosen) == 1 and chosen["rung"].item() == 3
    assert experiment.tune.seeds == (3, 4, 5)


def test_trial_objectives_match_plain_training_on_the_tuning_seeds(tuned):
    """Every trial's ERT recomputed from train() on the tuning seeds."""
    table = pd.read_csv(tuned / "tuning.csv")
    d = engine.make_dataset(8, 50, seed=0)
    for row in table.itertuples():
        settings = {"lr": row.lr} | ({"beta1": row.beta1} if row.optimizer == "adam" else {})
        runs = engine.train(
            d.X_train,
            d.T_train,
            [3, 4, 5],
            optimizer=row.optimizer,
            activation="tanh",
            epochs=row.epochs,
            target_loss=0.05,
            **settings,
        ).runs
        assert objective_of(runs, "ert") == pytest.approx(row.value, rel=1e-12)


def test_the_comparison_runs_on_the_evaluation_seeds_at_the_chosen_settings(tuned):
    runs = pd.read_csv(tuned / "runs.csv")
    table = pd.read_csv(tuned / "tuning.csv")
    manifest = json.loads((tuned / "manifest.json").read_text())
    assert sorted(runs["seed"].unique()) == [0, 1, 2]
    assert not set(runs["seed"]) & set(manifest["tuning"]["seeds"])
    for group in manifest["tuning"]["groups"]:
        optimizer = group["levels"]["optimizer"]
        chosen = table[table["chosen"] & (table["optimizer"] == optimizer)].iloc[0]
        assert group["chosen"]["lr"] == chosen["lr"]
        assert (runs.loc[runs["optimizer"] == optimizer, "lr"] == chosen["lr"]).all()
    adam = runs[runs["optimizer"] == "adam"]
    assert (adam["beta1"] == manifest["tuning"]["groups"][1]["chosen"]["beta1"]).all()
    assert {"val_loss", "val_acc", "n_val"} <= set(runs.columns)


def test_a_tuned_level_recovers_the_better_lr(tmp_path):
    """Steepest descent on tanh with 100 epochs: small steps never reach ε, so
    the choice must be one of the large lrs, and the best of the trials."""
    e = load(
        tmp_path,
        """
seeds = 2
[data]
n_train = 8
[settings]
epochs = 100
target_loss = 0.05
activation = "tanh"
[factors.optimizer]
sgd = {}
[tune]
factors = ["optimizer"]
trials = 8
seeds = 4
[tune.space.optimizer]
sgd = { lr = ["log", 0.001, 3] }
""",
    )
    tune_and_sweep(e, tmp_path / "out", quiet=True)
    table = pd.read_csv(tmp_path / "out" / "tuning.csv")
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["lr"] > 0.3 and chosen["value"] == table["value"].min()
    assert (table.loc[table["lr"] < 0.01, "value"] == np.inf).all()


def test_same_tables_with_two_threads_and_small_chunks(tuned, tmp_path):
    tune_and_sweep(spec.load(TINY), tmp_path / "threads", quiet=True, jobs=2, backend="threading", chunk_runs=5)
    assert table_bytes(tmp_path / "threads") == table_bytes(tuned)


@pytest.mark.slow
def test_a_killed_tuning_run_again_ends_with_the_uninterrupted_tables(tuned, tmp_path):
    command = [sys.executable, "-m", "engine.cli", "sweep", str(TINY), "--quiet", "--chunk-runs", "2"]
    killed = subprocess.Popen(command + ["--out", str(tmp_path / "killed")])
    chunks = tmp_path / "killed" / "tuning" / "rung-0" / "chunks"
    while killed.poll() is None and len(list(chunks.glob("chunk-*"))) < 3:
        time.sleep(0.005)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "tuning.csv").exists()
    subprocess.run(command + ["--out", str(tmp_path / "killed")], check=True)
    assert table_bytes(tmp_path / "killed") == table_bytes(tuned)


# --- seeds and bad input ----------------------------------------------------------------

BASE = """
seeds = 10
[data]
n_val = {n_val}
[settings]
epochs = 100
target_loss = 0.05
[factors]
activation = ["tanh", "relu"]
[factors.optimizer]
sgd = {{}}
adam = {{ {adam} }}
[tune]
factors = ["optimizer"]
trials = {trials}
{tune}
"""


def tune_file(n_val=0, adam="", trials=4, tune=""):
    return BASE.format(n_val=n_val, adam=adam, trials=trials, tune=tune)


def test_tuning_seeds_follow_the_evaluation_seeds_or_are_given_apart(tmp_path):
    e = load(tmp_path, tune_file(tune="seeds = 5"))
    assert e.tune.seeds == (10, 11, 12, 13, 14) and not set(e.tune.seeds) & set(e.seeds)
    assert load(tmp_path, tune_file(tune="seeds = [100, 200]")).tune.seeds == (100, 200)
    with pytest.raises(spec.SpecError, match=r"\[tune\] seeds: \[3, 9\] are also evaluation seeds"):
        load(tmp_path, tune_file(tune="seeds = [3, 9, 50]"))


def test_groups_are_the_combinations_of_the_tuned_factors(tmp_path):
    e = load(
        tmp_path, tune_file(tune='factors = ["optimizer", "activation"]').replace('factors = ["optimizer"]\n', "", 1)
    )
    assert [g.name for g in e.tune.groups] == [
        "optimizer=sgd, activation=tanh",
        "optimizer=adam, activation=tanh",
        "optimizer=sgd, activation=relu",
        "optimizer=adam, activation=relu",
    ]
    assert [g.configs for g in e.tune.groups] == [(0,), (1,), (2,), (3,)]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { lr = ["log", 1, 0.1] }'),
            r"\[tune.space.optimizer.adam\] lr: the range's low \(1\) must be below its high \(0.1\)",
        ),
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { beta1 = ["uniform", 0.9, 0.9] }'),
            r"beta1: the range's low \(0.9\) must be below its high",
        ),
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { lr = ["log", 0, 1] }'),
            r"\[tune.space.optimizer.adam\] lr: a \"log\" range needs bounds > 0",
        ),
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { momentum = ["uniform", 0.5, 0.9] }'),
            r"\[tune.space.optimizer.adam\] momentum: configuration \d \(optimizer=adam\) does not use it",
        ),
        (
            tune_file(adam="lr = 0.01"),
            r"\[tune\] \(the default space of optimizer=adam.*\) lr: is tuned, "
            r"and also set in \[factors.optimizer.adam\]",
        ),
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { beta1 = ["uniform", 0.5, 0.9] }', adam="beta1 = 0.8"),
            r"\[tune.space.optimizer.adam\] beta1: is tuned, and also set in \[factors.optimizer.adam\]",
        ),
        (
            tune_file(tune='objective = "val_loss"'),
            r"\[tune\] objective: 'val_loss' is measured on a validation set, and \[data\] n_val is 0",
        ),
        (tune_file(tune='objective = "val_acc"'), r"\[data\] n_val is 0"),
        (tune_file(trials=0), r"\[tune\] trials: must be an integer >= 1 \(the budget"),
        (tune_file(trials=-3), r"\[tune\] trials: must be an integer >= 1"),
        (tune_file(tune="halving = 1"), r"\[tune\] halving: must be an integer >= 2"),
        (tune_file(tune='objective = "fastest"'), r"\[tune\] objective: unknown value 'fastest'; allowed: ert"),
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { beta1 = ["uniform", 0.5, 1] }'),
            r"beta1: the bound 1 is not a valid value \(beta1: must be a number in \[0, 1\)",
        ),
        (
            tune_file(tune='[tune.space.optimizer]\nadamw = { lr = ["log", 0.1, 1] }'),
            r"\[tune.space.optimizer\]: unknown key 'adamw'.*did you mean 'adam'",
        ),
        (
            tune_file(tune='[tune.space.activation]\nrelu = { lr = ["log", 0.1, 1] }'),
            r"\[tune.space\] activation: is not one of \[tune\] factors",
        ),
        (
            tune_file(tune='[tune.space.optimizer]\nadam = { lr = ["exp", 0.1, 1] }'),
            r"lr: must be \[scale, low, high\] with scale \"log\" or \"uniform\"",
        ),
        (
            tune_file().replace('factors = ["optimizer"]', 'factors = ["optimiser"]'),
            r"\[tune\] factors: unknown key 'optimiser'.*did you mean 'optimizer'",
        ),
        (
            tune_file().replace('factors = ["optimizer"]', 'factors = ["activation"]'),
            r"the configurations of activation=tanh use several optimizers",
        ),
        (tune_file().replace("target_loss = 0.05\n", ""), r"'ert' is the expected running time to ε"),
        (tune_file(tune="budget = 3"), r"\[tune\]: unknown key 'budget'"),
    ],
)
def test_bad_tune_sections_are_refused_before_anything_runs(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(spec.SpecError, match=message) as error:
        spec.load(path)
    assert str(error.value).startswith(str(path))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert str(path) in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_validation_set_leaves_the_other_sets_alone_and_matches_the_kernels_test_loss():
    d, plain = engine.make_dataset(16, 40, seed=1, n_val=30), engine.make_dataset(16, 40, seed=1)
    assert np.array_equal(d.X_train, plain.X_train) and np.array_equal(d.X_test, plain.X_test)
    assert d.X_val.shape == (30, 12) and plain.X_val is None
    assert not (d.X_val[:, None, :] == d.X_train[None, :, :]).all(-1).any()
    for mode, loss, reduction in (("inverted", "cross_entropy", "mean"), ("scale", "squared", "sum")):
        runs = engine.train(
            d.X_train,
            d.T_train,
            range(6),
            X_test=d.X_val,
            T_test=d.T_val,
            X_val=d.X_val,
            T_val=d.T_val,
            epochs=40,
            lr=0.5,
            activation="relu",
            loss=loss,
            reduction=reduction,
            dropout=[0, 0.2, 0.3, 0, 0.1, 0.5],
            dropout_mode=mode,
        ).runs
        assert np.allclose(runs["val_loss"], runs["test_loss"], rtol=1e-12, atol=1e-13)
        assert np.array_equal(runs["val_acc"], runs["test_acc"])
        assert list(runs.columns[3:7]) == ["test_loss", "test_acc", "val_loss", "val_acc"]


def test_runs_tables_keep_their_columns_without_a_validation_set(tmp_path):
    e = load(tmp_path, "seeds = 1\n")
    assert "n_val" not in e.config_frame().columns
    assert load(tmp_path, "seeds = 1\n[data]\nn_val = 5\n").config_frame()["n_val"].tolist() == [5]


# --- the report's section -------------------------------------------------------------


def test_tuning_section_states_the_protocol_and_warns_at_the_edges(tuned, tmp_path):
    from engine.analysis.tuning import edge_warnings, load_tuning, plot_tuning, tuning_section

    lines = tuning_section(tuned, "tuning.png")
    text = "\n".join(lines)
    assert lines[0] == "## Tuning"
    for words in (
        "8 trials per combination",
        "8 trials at 8 epochs",
        "1 trial at 60 epochs",
        "optimizer sgd: lr log [0.01, 30]",
        "optimizer adam: lr log [0.001, 1], beta1 uniform [0.5, 0.99]",
        "tuning seeds, 3 seeds (3…5)",
        "evaluation seeds, 3 seeds (0…2)",
        "expected running time",
    ):
        assert words in text, words
    figures = [line for line in lines if line.startswith("![")]
    assert figures == [
        "![Tuning: the objective against each tuned setting, a row per combination of optimizer](tuning.png)"
    ]
    assert not any(line.startswith("![") for line in tuning_section(tuned))
    # a row per combination, a panel per tuned setting: sgd's lr; adam's lr and beta1
    fig = plot_tuning(*load_tuning(tuned))
    assert [ax.get_xlabel() for ax in fig.axes] == ["lr", "lr", "beta1"]
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["optimizer sgd", "optimizer adam", ""]
    table = load_tuning(tuned)[0]
    # Each rung on its own scale: a trial's objective over the best at its rung, so the
    # chosen trial (the best of the last rung) sits at 1, under every trial of its rung.
    best = table.groupby(["group", "rung"])["value"].min()
    for ax, group in zip(fig.axes, [0, 1, 1]):
        trials = table[table["group"] == group]
        finite, infinite, star = (c.get_offsets() for c in ax.collections)
        assert len(finite) + len(infinite) == trials["trial"].nunique()  # each trial once, at its last rung
        assert star[0][1] == 1.0 and ax.get_yscale() == "log"
        last = trials.sort_values("rung").groupby("trial").tail(1)
        last = last[np.isfinite(last["value"])]
        expected = last["value"].to_numpy() / best.loc[group].loc[last["rung"]].to_numpy()
        np.testing.assert_allclose(sorted(finite[:, 1]), sorted(expected))
        assert (finite[:, 1] >= 1).all()
    manifest = json.loads((tuned / "manifest.json").read_text())["tuning"]
    group = manifest["groups"][0]
    at_edge = {**manifest, "groups": [{**group, "space": {"lr": ["log", group["chosen"]["lr"], 100.0]}}]}
    assert len(edge_warnings(at_edge)) == 1 and "low edge" in edge_warnings(at_edge)[0]
    inside = {**manifest, "groups": [{**group, "space": {"lr": ["log", group["chosen"]["lr"] / 10, 100.0]}}]}
    assert edge_warnings(inside) == []
    assert tuning_section(tmp_path) == []


@pytest.mark.slow
def test_same_tables_with_two_processes(tuned, tmp_path):
    tune_and_sweep(spec.load(TINY), tmp_path / "loky", quiet=True, jobs=2, chunk_runs=7)
    assert table_bytes(tmp_path / "loky") == table_bytes(tuned)


def test_rungs_skip_the_test_set_the_comparison_measures_it(tuned):
    # a rung's objective reads the validation set or ε, never the test set: it is not computed
    for rung in sorted((tuned / "tuning").glob("rung-*")):
        runs = pd.read_csv(rung / "runs.csv")
        assert runs["test_loss"].isna().all() and runs["test_acc"].isna().all(), rung
        assert runs["train_loss"].notna().any()
    assert pd.read_csv(tuned / "runs.csv")["test_loss"].notna().all()


def test_rungs_keep_no_params_table_the_comparison_does(tuned, tmp_path):
    # nothing reads a trial's final weights: its rung writes runs and curves alone, says so in its
    # manifest, and removes a params table an earlier version left
    rungs = sorted((tuned / "tuning").glob("rung-*"))
    for rung in rungs:
        assert sorted(p.name for p in rung.glob("*.csv")) == ["chunks.csv", "curves.csv", "runs.csv"], rung
        assert list(json.loads((rung / "manifest.json").read_text())["written"]) == [
            "runs.csv",
            "curves.csv",
            "chunks.csv",
        ]
    assert len(pd.read_csv(tuned / "params.csv")) == len(pd.read_csv(tuned / "runs.csv"))
    again = tmp_path / "again"
    shutil.copytree(tuned, again)
    (again / "tuning" / "rung-0" / "params.csv").write_text("config,seed\n")
    tune_and_sweep(spec.load(TINY), again, quiet=True)
    assert not (again / "tuning" / "rung-0" / "params.csv").exists()
    assert table_bytes(again) == table_bytes(tuned)


def test_search_ranges_are_named_by_the_combinations_that_hold_them():
    """The report's ranges name who holds each space: momentum and nesterov's shared
    space is theirs, not "every combination" (as it once read); a space held by
    combinations that are no product of levels lists them one by one."""
    from engine.analysis.tuning import range_texts

    def groups(pairs):
        return [{"levels": {"optimizer": o, "activation": a}, "space": space} for o, a, space in pairs]

    sgd, shared = {"lr": ["log", 0.01, 30]}, {"lr": ["log", 0.001, 3]}
    product = groups((o, a, s) for o, s in (("sgd", sgd), ("momentum", shared), ("nesterov", shared)) for a in "xy")
    assert range_texts(product) == [
        "optimizer sgd: lr log [0.01, 30]",
        "optimizer momentum or nesterov: lr log [0.001, 3]",
    ]
    scattered = groups([("sgd", "x", sgd), ("momentum", "x", shared), ("nesterov", "y", shared), ("sgd", "y", sgd)])
    assert range_texts(scattered)[1] == (
        "(optimizer momentum, activation x) or (optimizer nesterov, activation y): lr log [0.001, 3]"
    )
    assert range_texts(groups([("sgd", "x", sgd), ("sgd", "y", sgd)])) == ["every combination: lr log [0.01, 30]"]
