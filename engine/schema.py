"""The results folder, defined once: its files, every table's columns and
their kinds, the shard's column families and the manifest's fields.

The kernels fill one row of STATS per run, train() turns them into the
runs table's OUTCOMES, the store writes them into shards and tables,
load_results reads them back with these kinds, and the analysis writes its
own files under the names below. A column added here reaches every table.

Kinds: "float"; "int", a nullable integer (empty where `empty_when` says);
"bool"; "text".
"""

from collections import namedtuple

import numpy as np
import pyarrow as pa

# --- files of a results folder (results/NAME/ unless --out)
MANIFEST = "manifest.json"  # the experiment, its hash, versions, machine, sweep options
CHUNKS = "chunks"  # folder: one Arrow IPC shard per finished chunk
CHUNK_TIMES = "chunks.csv"  # seconds per chunk: wall times live here only
TABLES = ("runs", "curves", "params")  # each written as TABLE.FORMAT
FORMATS = ("csv", "parquet")
TUNING_TABLE = "tuning.csv"  # every trial at every rung
TUNING_FOLDER = "tuning"  # tuning/rung-K/: each rung's own results folder
# what an analysis writes beside the tables (sweep --overwrite removes these and every *.png)
ANALYSIS_TABLES = {
    "summary": "summary.csv",
    "main_effects": "main_effects.csv",
    "paired_tests": "paired_tests.csv",
    "effects": "effects.csv",
    "trend_tests": "trend_tests.csv",
    "costs": "costs.csv",
    "lr_sensitivity": "lr_sensitivity.csv",
    "lr_ranges": "lr_ranges.csv",
}
REPORT = "report.md"
FIGURES = {
    "learning_curves": "learning_curves.png",
    "epochs_ecdf": "epochs_ecdf.png",
    "regularization": "regularization.png",
    "success_heatmap": "success_heatmap.png",
    "hidden_units": "hidden_units.png",
    "init_activations": "init_activations.png",
    "lr_sensitivity": "lr_sensitivity.png",
    "tuning": "tuning.png",
}
ANALYSIS_FILES = (*ANALYSIS_TABLES.values(), REPORT)


def table_file(table, fmt):
    """The file name of a results table in a format: runs.csv, curves.parquet, ..."""
    return f"{table}.{fmt}"


# --- columns: the one place their names are spelled
KEY = ("config", "seed")  # a run: its configuration (row of the grid) and seed
TRAIN_LOSS, TRAIN_ACC, TEST_LOSS, TEST_ACC = "train_loss", "train_acc", "test_loss", "test_acc"
EPOCHS_TO_TARGET, CONVERGED, DIVERGED = "epochs_to_target", "converged", "diverged"
EPOCHS_RUN, GRAD_EVALS, DEAD_UNITS = "epochs_run", "grad_evals", "dead_units"
VAL_LOSS, VAL_ACC = "val_loss", "val_acc"
EPOCH = "epoch"

# empty_if / empty_unless: the bool outcome that makes the value empty (NaN, a missing integer).
Outcome = namedtuple("Outcome", "kind empty_if empty_unless", defaults=(None, None))
# The runs table: KEY, the settings of the run's configuration, then these.
OUTCOMES = {
    TRAIN_LOSS: Outcome("float"),  # E at the final parameters
    TRAIN_ACC: Outcome("float", empty_if=DIVERGED),  # NaN weights classify nothing
    TEST_LOSS: Outcome("float"),
    TEST_ACC: Outcome("float", empty_if=DIVERGED),
    EPOCHS_TO_TARGET: Outcome("int", empty_unless=CONVERGED),  # a censored time: ε never reached
    CONVERGED: Outcome("bool"),
    DIVERGED: Outcome("bool"),
    EPOCHS_RUN: Outcome("int"),
    GRAD_EVALS: Outcome("int"),  # updates taken
    DEAD_UNITS: Outcome("int", empty_if=DIVERGED),  # NaN weights have no slope: every unit would look dead
}
# ... with a validation set ([data] n_val > 0), computed by the numpy model, after the test outcomes:
VALIDATION = {VAL_LOSS: Outcome("float"), VAL_ACC: Outcome("float", empty_if=DIVERGED)}
# The kernel fills one row per outcome of its stats array [outcomes, runs] (bools as 1.0 or 0.0).
STATS = tuple(OUTCOMES)
ROW_TRAIN_LOSS, ROW_TRAIN_ACC, ROW_TEST_LOSS, ROW_TEST_ACC = (
    STATS.index(n) for n in (TRAIN_LOSS, TRAIN_ACC, TEST_LOSS, TEST_ACC)
)
ROW_TO_TARGET, ROW_CONVERGED, ROW_DIVERGED = (STATS.index(n) for n in (EPOCHS_TO_TARGET, CONVERGED, DIVERGED))
ROW_EPOCHS_RUN, ROW_GRAD_EVALS, ROW_DEAD = (STATS.index(n) for n in (EPOCHS_RUN, GRAD_EVALS, DEAD_UNITS))
# The curves table: KEY, then a point every record_every epochs and at each run's last.
# The kernel writes a point's numbers in this order.
CURVE = {EPOCH: "int", TRAIN_LOSS: "float", TRAIN_ACC: "float", TEST_LOSS: "float", TEST_ACC: "float"}


def curve_points(slots):
    """[runs, slots, CURVE] -> (the run of each point, {CURVE name: values}): the used
    slots (epoch ≥ 0), run after run, each run's in epoch order."""
    run, slot = np.nonzero(slots[:, :, 0] >= 0)
    points = slots[run, slot]
    columns = {name: points[:, j] for j, name in enumerate(CURVE)}
    columns[EPOCH] = columns[EPOCH].astype(np.int64)
    return run, columns


# The params table: KEY, then one column per parameter named as on the slides (model.layout.Layout.names).
# tuning.csv: group, its factors' levels, these, the tuned settings, then the trial's result.
TRIAL = {"group": "int", "trial": "int", "rung": "int", "epochs": "int"}
TRIAL_RESULT = {"objective": "text", "value": "float", "rank": "int", "reached": "float"}
CHOSEN = "chosen"  # bool, last: the trial whose settings the comparison used

# --- shards: one row per run, KEY then every table's columns under its prefix
# (a run's curve points as one list per column).
SHARD_FAMILIES = {"runs": "runs/", "params": "params/", "curves": "curves/"}
ARROW = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}


def shard_schema(param_names, validation=False):
    """The columns (and Arrow types) of a shard, for parameters named `param_names`."""
    runs, params, curves = SHARD_FAMILIES.values()
    return pa.schema(
        [(name, pa.int64()) for name in KEY]
        + [(runs + name, ARROW[o.kind]) for name, o in outcomes(validation).items()]
        + [(params + name, pa.float64()) for name in param_names]
        + [(curves + name, pa.list_(ARROW[kind])) for name, kind in CURVE.items()]
    )


# --- manifest.json
MANIFEST_FIELDS = (
    "experiment",
    "description",
    "spec",
    "spec_sha256",
    "kernel_sources_sha256",
    "spec_text",
    "factors",
    "labels",
    "n_configs",
    "n_runs",
    "seeds",
    "record_every",
    "layout",
    "data",
    "tuning",
    "versions",
    "machine",
    "sweep",
)  # fmt: skip  (tuning: only where [tune] chose settings; sweep: the sweep's options)


def outcomes(validation=False):
    """The runs table's outcome columns in order (with val_loss and val_acc after test_acc)."""
    if not validation:
        return dict(OUTCOMES)
    names = list(OUTCOMES)
    at = names.index(TEST_ACC) + 1  # after the test outcomes
    return {**{n: OUTCOMES[n] for n in names[:at]}, **VALIDATION, **{n: OUTCOMES[n] for n in names[at:]}}
