"""The data sets an experiment trains on: the C/T glyphs (model.data),
scikit-learn's bundled 8×8 digits, or the user's own file.

Every set comes back as a data.Dataset: pixels scaled to [0, 1], one-hot
targets, split into training, test and (n_val > 0) validation sets. The
digits and a file are split by one permutation of their samples drawn from
the data seed: the first n_train train, the next n_test test, the next
n_val validate, so adding a validation set leaves the other two as they
were (as for the glyphs, whose sets come from independent streams).
"""

import functools
import hashlib
from pathlib import Path

import numpy as np

from .data import Dataset, make_dataset

SETS = ("ct", "digits")  # [data] set; [data] file = "path" instead for the user's own data
FILE_SUFFIXES = (".npz", ".csv")
LABEL_COLUMN = "label"  # a .csv file's label column; every other column is an input


class DataError(ValueError):
    """A data file that cannot be trained on; the message names the file and what is wrong."""


def load(data):
    """The Dataset that a [data] table (spec.DATA_DEFAULTS' keys) describes."""
    return _load(tuple(sorted(data.items())))


@functools.lru_cache(maxsize=4)  # a sweep's chunks share one data set
def _load(items):
    data = dict(items)
    if data.get("file"):
        X, labels = read_file(data["file"])
        return split(X, labels, data["n_train"], data["n_test"], data["n_val"], data["seed"], data["file"])
    if data.get("set") == "digits":  # no set: a manifest from before there were others
        X, labels = digits()
        return split(X, labels, data["n_train"], data["n_test"], data["n_val"], data["seed"], "digits")
    keys = ("n_train", "n_test", "flip", "noise", "seed", "n_val")  # (older manifests lack n_val)
    return make_dataset(**{key: data[key] for key in keys if key in data})


def sha256(dataset):
    """sha256 of the numbers trained on: the training, test and validation
    inputs and targets (float64, in that order)."""
    digest = hashlib.sha256()
    for array in (dataset.X_train, dataset.T_train, dataset.X_test, dataset.T_test, dataset.X_val, dataset.T_val):
        if array is not None:
            digest.update(np.ascontiguousarray(array, np.float64).tobytes())
    return digest.hexdigest()


def digits():
    """scikit-learn's 8×8 digits: X [1797, 64] scaled from 0…16 to [0, 1], labels 0…9."""
    try:
        from sklearn.datasets import load_digits  # optional: only for set = "digits"
    except ImportError:
        raise ImportError(
            '[data] set = "digits" needs scikit-learn: pip install scikit-learn, '
            'or the extra: pip install -e ".[digits]"'
        ) from None
    bunch = load_digits()
    return bunch.data / 16.0, bunch.target.astype(np.int64)


def split(X, labels, n_train, n_test, n_val, seed, name):
    """Training, test and validation sets drawn from one permutation of the samples."""
    need = n_train + n_test + n_val
    if need > len(X):
        raise DataError(
            f"{name}: has {len(X)} samples, fewer than n_train + n_test + n_val = "
            f"{n_train} + {n_test} + {n_val} = {need}; ask for fewer"
        )
    T = np.eye(int(labels.max()) + 1)[labels]
    order = np.random.default_rng([seed, 3]).permutation(len(X))
    parts = [order[:n_train], order[n_train : n_train + n_test], order[n_train + n_test : need]]
    train, test, val = ((X[p], T[p]) for p in parts)
    return Dataset(*train, *test, *(val if n_val else (None, None)))


def read_file(path):
    """X [n, n_in] in [0, 1] and integer labels [n] from a .npz file (arrays
    X and y) or a .csv file (a header row; a `label` column, every other
    column an input). X may be 0…255 (then divided by 255); y may be
    integers 0…K−1 or one-hot rows. Every problem is a DataError naming
    the file."""
    path = Path(path)
    if path.suffix not in FILE_SUFFIXES:
        raise DataError(f"{path}: must be a .npz or .csv file, got {path.suffix or 'no suffix'!r}")
    try:
        X, y = _read_npz(path) if path.suffix == ".npz" else _read_csv(path)
    except OSError as e:
        raise DataError(f"{path}: cannot read the file: {e.strerror or e}") from None
    return _inputs(path, X), _labels(path, y, len(X))


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as arrays:
            missing = [name for name in ("X", "y") if name not in arrays.files]
            if missing:
                raise DataError(
                    f"{path}: missing array {', '.join(missing)}; a .npz file holds X (samples × inputs) and y "
                    f"(labels), found {', '.join(arrays.files) or 'none'}"
                )
            return arrays["X"], arrays["y"]
    except DataError:
        raise
    except (ValueError, EOFError) as e:  # not a zip archive, or an object array
        raise DataError(f"{path}: not a readable .npz file of numeric arrays ({e})") from None


def _read_csv(path):
    import pandas as pd  # a heavy import, only for .csv data

    try:
        frame = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as e:  # empty file, ragged rows
        raise DataError(f"{path}: not a readable .csv file ({e})") from None
    if LABEL_COLUMN not in frame.columns:
        raise DataError(
            f"{path}: missing column {LABEL_COLUMN!r}; a .csv file has a header row, a {LABEL_COLUMN!r} "
            "column and one column per input"
        )
    inputs = frame.drop(columns=LABEL_COLUMN)
    try:
        return inputs.to_numpy(np.float64), frame[LABEL_COLUMN].to_numpy()
    except ValueError:
        raise DataError(f"{path}: every input column must hold numbers") from None


def _inputs(path, X):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise DataError(f"{path}: X must be a 2-d array (samples × inputs), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise DataError(f"{path}: X must hold real numbers, got {X.dtype}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise DataError(
            f"{path}: X holds NaN or infinite values (first at sample {np.argwhere(~np.isfinite(X))[0, 0]})"
        )
    if X.min() < 0 or X.max() > 255:
        raise DataError(f"{path}: X must lie in [0, 1] or 0…255, got values from {X.min():g} to {X.max():g}")
    return X / 255.0 if X.max() > 1 else X  # 0…255 pixels, as the glyphs' files hold them


def _labels(path, y, n):
    y = np.asarray(y)
    if y.ndim == 2:  # one-hot rows
        if y.shape[0] != n or y.shape[1] < 2 or not np.isin(y, (0, 1)).all() or not (y.sum(1) == 1).all():
            raise DataError(
                f"{path}: y as 2-d must be one-hot rows ({n} × classes ≥ 2, one 1 a row), got shape {y.shape}"
            )
        return y.argmax(1).astype(np.int64)
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{path}: y must hold one label per sample of X ({n}), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y.astype(float)).all():
        raise DataError(f"{path}: labels must be integers 0…K−1, got {y.dtype} values with NaN or text")
    if (y != np.round(y)).any() or y.min() < 0:
        bad = y[(y != np.round(y)) | (y < 0)][0]
        raise DataError(f"{path}: labels out of range: must be integers 0…K−1, got {float(bad):g}")
    y = y.astype(np.int64)
    if y.max() < 1:
        raise DataError(f"{path}: labels must name at least 2 classes (0…K−1), got only class {y.max()}")
    return y
