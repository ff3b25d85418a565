"""experiments/depth_init.toml and overfit.toml (issue 23): the book's deep
networks as the files state them, and a shrunk copy of each (2 seeds, 2 epochs,
fewer images) swept and analysed end to end, its report saying what it found."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from experiment_files import load
from PIL import Image

from engine.analysis.analyze import analyze
from engine.model.layout import Layout
from engine.schema import FIGURES
from engine.sweep import spec
from engine.sweep.driver import sweep

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def shrunk(name):
    """The file's text with 2 seeds, 2 epochs, 128 training and 64 test images."""
    text = (EXPERIMENTS / name).read_text(encoding="utf-8")
    for key, value in (("seeds", 2), ("epochs", 2), ("n_train", 128), ("n_test", 64)):
        text, n = re.subn(rf"^{key} = \d+", f"{key} = {value}", text, flags=re.M)
        assert n == 1, key
    return text


def test_depth_init_is_the_books_comparison():
    experiment = spec.load(EXPERIMENTS / "depth_init.toml")
    assert experiment.layout() == Layout(64, (100, 100, 100, 100), 10)
    assert experiment.n_runs == 96 and len(experiment.seeds) >= 8  # seed-level tests
    assert {(c["init"], c["activation"]) for c in experiment.configs} == {
        (i, a) for i in ("std1", "std0.01", "xavier", "he") for a in ("sigmoid", "tanh", "relu")
    }
    assert {(c["optimizer"], c["batch_size"], c["lr"]) for c in experiment.configs} == {("sgd", 128, 0.01)}
    updates = {c["epochs"] * experiment.data["n_train"] // c["batch_size"] for c in experiment.configs}
    assert updates == {2000}  # the book's budget


def test_overfit_is_a_deep_net_on_300_images():
    experiment = spec.load(EXPERIMENTS / "overfit.toml")
    assert experiment.layout() == Layout(64, (100,) * 6, 10)
    assert experiment.data["n_train"] == 300 and experiment.n_runs == 32
    levels = [(c["regularization"], c["weight_decay"], c["dropout"]) for c in experiment.configs]
    assert levels == [
        ("none", 0.0, 0.0),
        ("weight_decay", 0.01, 0.0),
        ("weight_decay", 0.1, 0.0),
        ("dropout", 0.0, 0.2),
    ]
    assert all(c["target_loss"] is None for c in experiment.configs)  # every epoch: overfitting has time to show


@pytest.fixture(scope="module")
def depth_init(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth_init")
    sweep(load(root, shrunk("depth_init.toml"), "depth_init.toml"), root / "out", quiet=True)
    return root / "out", analyze(root / "out", quiet=True).read_text(encoding="utf-8")


@pytest.mark.slow  # a sweep and its analysis: 6-13 s, kept out of make test-fast
def test_a_shrunk_depth_init_says_which_init_learns_at_this_depth(depth_init):
    out, report = depth_init
    answer = report.split("## Answer", 1)[1].split("\n## ", 1)[0]
    assert "**Initial values in this 64-100-100-100-100-10 network (4 hidden layers)**: " in answer
    for activation in ("sigmoid", "tanh", "relu"):
        assert f"**init with {activation}**: " in answer
    assert "experiments/init.toml asks the same question" in answer
    # std0.01 learns nothing at this depth: its loss stays within 2 % of its start (the output thresholds
    # learn the classes' shares, no more)
    runs = pd.read_csv(out / "runs.csv")
    curves = pd.read_csv(out / "curves.csv")
    start = curves[curves["epoch"] == 0].set_index(["config", "seed"])["train_loss"]
    small = runs[runs["init"] == "std0.01"].set_index(["config", "seed"])["train_loss"]
    np.testing.assert_allclose(small, start[small.index], rtol=0.02)
    assert "std0.01 fails to learn with every activation" in answer


@pytest.mark.slow  # a sweep and its analysis: 6-13 s, kept out of make test-fast
def test_a_shrunk_depth_init_draws_every_layer_at_initialisation(depth_init):
    out, report = depth_init
    with Image.open(out / FIGURES["init_activations"]) as image:
        assert image.size == (910, 1625)  # 4 layers side by side, 12 rows of init × activation
    assert "Spread (standard deviation) of h, then share saturated or zero (layer 1 → 4): std1 · sigmoid " in report


@pytest.mark.slow  # a sweep and its analysis: 6-13 s, kept out of make test-fast
def test_a_shrunk_overfit_shows_the_gap_per_regulariser(tmp_path):
    sweep(load(tmp_path, shrunk("overfit.toml"), "overfit.toml"), tmp_path / "out", quiet=True)
    report = analyze(tmp_path / "out", quiet=True).read_text(encoding="utf-8")
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    decay = runs["regularization"] == "weight_decay"
    labels = runs["regularization"].where(~decay, "weight_decay=" + runs["weight_decay"].map("{:g}".format))
    gaps = ", ".join(
        f"{label} {rows['train_acc'].mean() - rows['test_acc'].mean():+.3f}"
        for label, rows in runs.groupby(labels, sort=False)
    )
    assert f"Mean train − test accuracy gap: {gaps}." in report
    with Image.open(tmp_path / "out" / FIGURES["regularization"]) as image:
        assert image.size == (1360, 440)  # the strips of 4 levels, then the gap over the epochs
