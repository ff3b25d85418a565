"""[data] set = "digits" and [data] file = "...": loading, splitting, every
bad file's error, and what the results folder records of the data."""

import hashlib
import json
import sys

import numpy as np
import pandas as pd
import pytest
from experiment_files import load

from engine.model import datasets
from engine.model.datasets import DataError, read_file, split
from engine.sweep import spec
from engine.sweep.driver import sweep

pytest.importorskip("sklearn")  # the extra "digits", which make install installs


def digits_data(**data):
    return {**spec.DATA_DEFAULTS, "set": "digits", "n_train": 100, "n_test": 50, **data}


def test_digits_are_64_inputs_in_0_1_and_10_one_hot_classes():
    X, labels = datasets.digits()
    assert X.shape == (1797, 64) and X.min() == 0 and X.max() == 1
    assert sorted(set(labels)) == list(range(10))
    d = datasets.load(digits_data(n_val=30))
    assert d.X_train.shape == (100, 64) and d.T_train.shape == (100, 10) and d.X_val.shape == (30, 64)
    assert (d.T_train.sum(1) == 1).all() and set(np.unique(d.T_train)) == {0.0, 1.0}


def test_the_digits_split_is_reproducible_and_set_by_the_seed():
    a, b = datasets._load.__wrapped__(tuple(sorted(digits_data().items()))), datasets.load(digits_data())
    assert a.X_train.tobytes() == b.X_train.tobytes() and a.T_test.tobytes() == b.T_test.tobytes()
    other = datasets.load(digits_data(seed=1))
    assert other.X_train.tobytes() != a.X_train.tobytes()
    # a validation set leaves the training and test sets as they were
    with_val = datasets.load(digits_data(n_val=40))
    assert with_val.X_train.tobytes() == a.X_train.tobytes() and with_val.X_test.tobytes() == a.X_test.tobytes()
    # no sample in two sets
    rows = np.concatenate([with_val.X_train, with_val.X_test, with_val.X_val])
    X, _ = datasets.digits()
    index = {x.tobytes(): i for i, x in enumerate(X)}
    picked = [index.get(x.tobytes()) for x in rows]
    assert None not in picked and len(set(picked)) >= len(rows) - 5  # the digits hold a few duplicate images


def test_without_scikit_learn_the_error_names_the_package_and_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'needs scikit-learn: pip install scikit-learn, .*-e "\.\[digits\]"'):
        datasets.digits()
    with pytest.raises(spec.SpecError, match="needs scikit-learn"):
        load(tmp_path, 'seeds = 1\n[data]\nset = "digits"\nseed = 12345\n')


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


GOOD_X = np.tile(np.linspace(0, 1, 6), (30, 1))
GOOD_Y = np.arange(30) % 3


@pytest.mark.parametrize(
    "arrays, words",
    [
        ({"X": GOOD_X}, "missing array y"),
        ({"y": GOOD_Y}, "missing array X"),
        ({"X": GOOD_X[0], "y": GOOD_Y}, r"X must be a 2-d array \(samples × inputs\), got shape \(6,\)"),
        ({"X": np.where(np.eye(30, 6) > 0, np.nan, GOOD_X), "y": GOOD_Y}, "X holds NaN or infinite values"),
        ({"X": GOOD_X * 300, "y": GOOD_Y}, r"X must lie in \[0, 1\] or 0…255, got values from 0 to 300"),
        ({"X": -GOOD_X, "y": GOOD_Y}, r"X must lie in \[0, 1\]"),
        ({"X": GOOD_X.astype(str), "y": GOOD_Y}, "X must hold real numbers"),
        ({"X": GOOD_X, "y": GOOD_Y[:20]}, r"y must hold one label per sample of X \(30\), got shape \(20,\)"),
        ({"X": GOOD_X, "y": GOOD_Y - 1}, r"labels out of range: must be integers 0…K−1, got -1"),
        ({"X": GOOD_X, "y": GOOD_Y + 0.5}, r"labels out of range: must be integers 0…K−1, got 0.5"),
        ({"X": GOOD_X, "y": np.zeros(30)}, "labels must name at least 2 classes"),
        ({"X": GOOD_X, "y": np.full((30, 3), 0.5)}, "y as 2-d must be one-hot rows"),
        ({"X": GOOD_X, "y": np.where(GOOD_Y == 1, np.nan, GOOD_Y)}, "labels must be integers 0…K−1"),
    ],
)
def test_every_bad_npz_file_is_one_error_naming_the_file(tmp_path, arrays, words):
    path = write_npz(tmp_path / "data.npz", **arrays)
    with pytest.raises(DataError, match=f"^{path}: {words}"):
        read_file(path)
    with pytest.raises(spec.SpecError, match=words):  # an experiment file: refused before anything runs
        load(tmp_path, 'seeds = 1\n[data]\nfile = "data.npz"\nn_train = 10\nn_test = 10\n')


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "not a readable .csv file"),
        ("a,b\n0,1\n", "missing column 'label'"),
        ("a,label\nx,1\ny,0\n", "every input column must hold numbers"),
        ("a,label\n0.5,1\n0.2,-3\n", "labels out of range"),
        ("a,label\n0.5,1\n0.2,\n", "labels must be integers"),
    ],
)
def test_every_bad_csv_file_is_one_error_naming_the_file(tmp_path, text, words):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=f"^{path}: {words}"):
        read_file(path)


def test_a_file_that_is_not_one_or_is_missing_is_named(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="junk.npz: not a readable .npz file"):
        read_file(tmp_path / "junk.npz")
    with pytest.raises(DataError, match="gone.npz: cannot read the file"):
        read_file(tmp_path / "gone.npz")
    with pytest.raises(spec.SpecError, match=r"\[data\] file: must name a .npz or .csv file, got 'x.txt'"):
        load(tmp_path, 'seeds = 1\n[data]\nfile = "x.txt"\n')


def test_too_few_samples_are_refused(tmp_path):
    write_npz(tmp_path / "data.npz", X=GOOD_X, y=GOOD_Y)
    with pytest.raises(
        spec.SpecError, match=r"data.npz: has 30 samples, fewer than n_train \+ n_test \+ n_val = 20 \+ 8 \+ 5 = 33"
    ):
        load(tmp_path, 'seeds = 1\n[data]\nfile = "data.npz"\nn_train = 20\nn_test = 8\nn_val = 5\n')
    with pytest.raises(spec.SpecError, match="digits: has 1797 samples, fewer than"):
        load(tmp_path, 'seeds = 1\n[data]\nset = "digits"\nn_train = 1000\n')


def test_data_keys_that_do_not_fit_are_refused(tmp_path):
    write_npz(tmp_path / "data.npz", X=GOOD_X, y=GOOD_Y)
    for text, words in (
        ('set = "mnist"', r"\[data\] set: must be one of 'ct', 'digits', got 'mnist'"),
        ('set = "digits"\nflip = 0.1', r'\[data\] flip: only the C/T glyphs \(set = "ct"\) take it'),
        ('file = "data.npz"\nset = "ct"', r"\[data\] file: give set or file, not both"),
        ('file = "data.npz"\nnoise = 0.1', r"\[data\] noise: only the C/T glyphs"),
    ):
        with pytest.raises(spec.SpecError, match=words):
            load(tmp_path, f"seeds = 1\n[data]\n{text}\nn_train = 10\nn_test = 10\n")


def test_a_csv_file_and_0_255_pixels_and_one_hot_labels(tmp_path):
    frame = pd.DataFrame(GOOD_X * 255, columns=[f"p{i}" for i in range(6)]).assign(label=GOOD_Y)
    frame.to_csv(tmp_path / "data.csv", index=False)
    X, y = read_file(tmp_path / "data.csv")
    assert np.allclose(X, GOOD_X) and (y == GOOD_Y).all()
    X, y = read_file(write_npz(tmp_path / "hot.npz", X=GOOD_X, y=np.eye(3)[GOOD_Y]))
    assert (y == GOOD_Y).all()
    d = split(X, y, 10, 10, 0, 0, "hot.npz")
    assert d.T_train.shape == (10, 3) and d.X_val is None


def test_a_file_sweeps_and_the_manifest_and_runs_record_the_data(tmp_path):
    write_npz(tmp_path / "data.npz", X=GOOD_X * np.linspace(0.2, 1, 30)[:, None], y=GOOD_Y)
    experiment = load(
        tmp_path,
        'seeds = 2\n[data]\nfile = "data.npz"\nn_train = 12\nn_test = 10\n[settings]\nepochs = 5\nhidden = [4]\n',
    )
    assert experiment.layout().n_in == 6 and experiment.layout().n_out == 3
    sweep(experiment, tmp_path / "out", quiet=True)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    digest = datasets.sha256(datasets.load(experiment.data))
    assert manifest["data"]["file"] == str(tmp_path / "data.npz") and manifest["data"]["sha256"] == digest
    assert manifest["layout"] == {"n_in": 6, "n_hidden": 4, "n_out": 3, "hidden": [4]}
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert (runs["data"] == str(tmp_path / "data.npz")).all() and (runs["data_sha256"] == digest).all()
    assert "flip" not in runs and "noise" not in runs and (runs["hidden"] == 4).all()


def test_the_glyphs_keep_their_columns_and_record_their_sha256(tmp_path):
    experiment = load(tmp_path, "seeds = 1\n[data]\nn_train = 4\nn_test = 4\n[settings]\nepochs = 2\n")
    frame = experiment.config_frame()
    assert "data" not in frame and {"flip", "noise", "data_seed", "hidden"} <= set(frame.columns)
    d = datasets.load(experiment.data)
    want = hashlib.sha256(b"".join(a.tobytes() for a in (d.X_train, d.T_train, d.X_test, d.T_test))).hexdigest()
    assert datasets.sha256(d) == want
