"""Experiment files and helpers the sweep, store and interrupt tests share."""

from pathlib import Path

import pandas as pd

from engine.sweep import spec

# read_csv's options for floats read back bit for bit: pandas before 3 parses a few ulps off unless asked
EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}

TINY = Path(__file__).parent / "tiny.toml"

SMALL = """
description = "Two optimizers x two learning rates x dropout or not."
seeds = 5
record_every = 10
[data]
n_train = 8
n_test = 20
[settings]
epochs = 30
target_loss = 0.3
[factors.optimizer]
sgd = { lr = [0.5, 2.0] }
adam = { lr = 0.05 }
[factors.regularization]
none = {}
dropout = { dropout = 0.2 }
"""


def csv_bytes(folder):
    """The runs and curves tables' bytes, to compare two sweeps' tables."""
    return (Path(folder) / "runs.csv").read_bytes(), (Path(folder) / "curves.csv").read_bytes()


def load(folder, text, name="exp.toml"):
    """An experiment file's text written into `folder` and loaded."""
    path = Path(folder) / name
    path.write_text(text)
    return spec.load(path)
