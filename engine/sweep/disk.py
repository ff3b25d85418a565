"""The disk a sweep needs, estimated before it writes anything, and checked
against the free space of the filesystem its results folder lies on.

What a sweep writes: one shard per chunk not yet finished (chunks/; they
stay after the tables, a rerun resumes from them), then every table in the
formats chosen, each a temporary file beside the old one until all are
whole, then chunks.csv and the manifest. A tuned sweep writes each rung's
shards and runs, curves and params CSV too. A resumed sweep writes only its
missing shards, but every table again. Every file takes whole blocks.

The bytes depend on each run's curve points, and a run that reaches ε or
diverges stops before its epoch budget with fewer. So the need has two ends:
`most`, every run trained to its budget, and `least`, every run stopping at
once (one curve point). A sweep whose least does not fit is refused; one
whose most does not is told so and goes on: a full disk would stop it
cleanly, with what it finished saved (docs/faults.md).

The model: a shard is its schema's bytes (measured by writing a one-run
shard) plus 8 bytes a number; a CSV number is its text (a float's repr
about 20 bytes with its comma, an accuracy k/n as long as such fractions
are on average, an integer as long as its largest value); a Parquet float
10 bytes (a dictionary page, then the indices), other Parquet columns 2.
Against real sweeps (tests/test_disk.py) `most` is 1.0 to 1.15 times the
bytes written when every run trains to its budget, and the bytes written
lie between `least` and `most` when runs stop sooner.
"""

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..schema import (
    CURVE,
    DEAD_UNITS,
    EPOCH,
    EPOCHS_RUN,
    EPOCHS_TO_TARGET,
    GRAD_EVALS,
    KEY,
    TEST_ACC,
    TEST_LOSS,
    TRAIN_ACC,
    VAL_ACC,
    outcomes,
    shard_schema,
)
from .durable import amount
from .store import LANE_EPOCHS, ROW_GROUP, shard_metadata

FLOAT_TEXT = 20  # a float64's repr (17 significant digits, a point, a sign half the time) and its comma
ACC_SAMPLES = 10_000  # fractions k/n whose text is averaged, at most
PARQUET_FLOAT = 10  # dictionary-encoded until the dictionary is full, then plain: 8 bytes and the indices
PARQUET_SMALL = 2  # an integer, flag, accuracy or setting: few distinct values, dictionary- or RLE-encoded
PARQUET_COLUMN = 300  # per column and row group: page headers, statistics, the footer's entry
CHUNK_TIMES_ROW = 48  # a row of chunks.csv
MANIFEST_BYTES = 2048  # a manifest's fields besides the experiment's text and seeds (measured: 1.9 kB)


@dataclass(frozen=True)
class Need:
    """Bytes a sweep will write, at its two ends (see the module's notes)."""

    least: int  # every run stopping at once
    most: int  # every run to its epoch budget
    curves: int  # of `most`, the learning curves' (shards and tables)

    def __add__(self, other):
        return Need(self.least + other.least, self.most + other.most, self.curves + other.curves)


def digits(n):
    """Characters of the integer n >= 0 in text, and a comma."""
    return len(str(int(n))) + 1


def fraction_text(n):
    """Mean characters of an accuracy k/n (k = 0..n) in CSV, with its comma."""
    if n < 1:
        return 1  # no such set: an empty field
    k = np.unique(np.linspace(0, n, min(n + 1, ACC_SAMPLES)).round())
    return float(np.mean([len(repr(float(x) / n)) for x in k])) + 1


def blocks(size, block):
    """Bytes that a file of `size` bytes occupies on a filesystem of `block`-byte blocks."""
    return math.ceil(size / block) * block


def shard_overhead(schema):
    """Bytes of a shard besides its numbers: the schema (twice: in the header
    and the footer), its metadata and the batch's headers, measured by
    writing a shard of one run with one curve point."""
    row = [pa.array([[0]] if pa.types.is_list(f.type) else [0]).cast(f.type) for f in schema]
    metadata = {**shard_metadata("0" * 64, "chunk-000000-" + "0" * 16, 1 / 3), LANE_EPOCHS: b"0" * 12}
    table = pa.Table.from_arrays(row, schema=schema).replace_schema_metadata(metadata)
    sink = pa.MockOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    per_run, per_point = shard_numbers(schema)
    return sink.size() - per_run - per_point


def shard_numbers(schema):
    """(bytes a run, bytes a curve point) of a shard's columns, validity bits included."""
    lists = [f for f in schema if pa.types.is_list(f.type)]
    flat = [f for f in schema if not pa.types.is_list(f.type)]
    per_run = sum(f.type.bit_width + 1 for f in flat) / 8 + 4 * len(lists)  # offsets of each list
    return per_run, sum(f.type.value_type.bit_width + 1 for f in lists) / 8


class Widths:
    """Bytes per run and per curve point of each table, in CSV and Parquet, for one experiment
    whose configurations' settings are the CSV records `settings` of `columns` columns."""

    def __init__(self, experiment, settings, columns):
        data, epochs = experiment.data, max(c["epochs"] for c in experiment.configs)
        n = {TRAIN_ACC: data["n_train"], TEST_ACC: data.get("n_test", 0), VAL_ACC: data.get("n_val", 0)}
        empty = set() if experiment.test_set else {TEST_LOSS, TEST_ACC}  # a tuning rung measures no test set
        names = experiment.param_names()  # the params table's columns: every network's
        largest = {EPOCHS_TO_TARGET: epochs, EPOCHS_RUN: epochs, GRAD_EVALS: epochs * data["n_train"]}
        largest[DEAD_UNITS] = max(sum(layout.hidden) for layout in experiment.layouts())  # every layer's units

        def text(name, kind):
            if name in empty:
                return 1
            if name in n:
                return fraction_text(n[name])
            if kind == "float":
                return FLOAT_TEXT
            if kind == "bool":
                return len("False,")
            return digits(largest[name])

        def parquet(name, kind):
            return PARQUET_FLOAT if kind == "float" and name not in n and name not in empty else PARQUET_SMALL

        validation = data.get("n_val", 0) > 0
        outcome = outcomes(validation)
        P = len(names)
        self.params = P > 0  # no params table without them (a tuning rung's)
        key = digits(len(experiment.configs) - 1) + digits(max(experiment.seeds))
        # per configuration: a run's row, its settings as written
        self.runs_text = np.array([len(record) + 1 for record in settings]) + key
        self.runs_text += round(sum(text(name, o.kind) for name, o in outcome.items()))
        # a setting takes no bytes a run: one value per configuration, run-length encoded
        self.runs_parquet = len(KEY) * PARQUET_SMALL + sum(parquet(n, o.kind) for n, o in outcome.items())
        self.params_text, self.params_parquet = key + P * FLOAT_TEXT, len(KEY) * PARQUET_SMALL + P * PARQUET_FLOAT
        self.point_text = key + digits(epochs) + sum(text(n, k) for n, k in CURVE.items() if n != EPOCH)
        self.point_parquet = (len(KEY) + 1) * PARQUET_SMALL + sum(parquet(n, k) for n, k in CURVE.items() if n != EPOCH)
        self.columns = {"runs": len(KEY) + columns + len(outcome), "params": len(KEY) + P}
        self.columns["curves"] = len(KEY) + len(CURVE)
        self.schema = shard_schema(names, validation=validation)


def sweep_need(experiment, chunks, todo, formats, settings, columns, block):
    """Need of sweeping `todo` (chunks of `experiment` whose shards are
    missing) and writing the tables of all `chunks` in `formats`; `settings`:
    each configuration's settings as a CSV record of `columns` columns;
    `block`: the filesystem's block size."""
    w = Widths(experiment, settings, columns)
    per_run, per_point = shard_numbers(w.schema)
    overhead = shard_overhead(w.schema)
    E = np.array([c["epochs"] for c in experiment.configs])
    points = -(-E // experiment.record_every) + 1  # epochs 0, r, 2r, ... before the budget, and the last

    def chunk_points(chunk):
        return int(points[list(chunk.configs)].sum())

    least = most = curves = 0
    for chunk in todo:
        m, q = len(chunk.seeds), chunk_points(chunk)
        base = overhead + m * per_run
        least += blocks(base + m * per_point, block)
        most += blocks(base + q * per_point, block)
        curves += q * per_point
    runs = sum(len(c.seeds) for c in chunks)
    q = sum(chunk_points(c) for c in chunks)
    runs_text = sum(int(w.runs_text[list(chunk.configs)].sum()) for chunk in chunks)
    sizes = {}  # (table, format) -> (bytes if every run stops at once, bytes if every run trains to its budget)
    if "csv" in formats:
        sizes["runs", "csv"] = (runs_text,) * 2
        if w.params:
            sizes["params", "csv"] = (runs * w.params_text,) * 2
        sizes["curves", "csv"] = (runs * w.point_text, q * w.point_text)
    if "parquet" in formats:
        groups = max(1, math.ceil(runs / ROW_GROUP))
        sizes["runs", "parquet"] = (runs * w.runs_parquet + groups * w.columns["runs"] * PARQUET_COLUMN,) * 2
        if w.params:
            sizes["params", "parquet"] = (runs * w.params_parquet + groups * w.columns["params"] * PARQUET_COLUMN,) * 2
        curve_groups = [max(1, math.ceil(p / ROW_GROUP)) * w.columns["curves"] * PARQUET_COLUMN for p in (runs, q)]
        sizes["curves", "parquet"] = (runs * w.point_parquet + curve_groups[0], q * w.point_parquet + curve_groups[1])
    for (table, _), (low, high) in sizes.items():
        least += blocks(low, block)
        most += blocks(high, block)
        curves += high if table == "curves" else 0
    seeds = len(experiment.seeds) * (digits(max(experiment.seeds)) + 5)  # one a line, indented
    small = blocks(MANIFEST_BYTES + len(experiment.text) + seeds, block)
    small += blocks(CHUNK_TIMES_ROW * (len(chunks) + 1), block)
    return Need(least + small, most + small, round(curves))


def free_space(folder):
    """(bytes free to this user, block size) of the filesystem `folder` is
    on, or will be on (its nearest existing parent's)."""
    folder = Path(folder).absolute()
    while not folder.exists():
        folder = folder.parent
    return shutil.disk_usage(folder).free, os.statvfs(folder).f_frsize


def check_disk(experiment, folder, need, free):
    """Refuse a sweep whose least need does not fit in `free` bytes (ValueError
    naming the estimate, the free space, the folder and the knobs); return a
    note when only its most does not, else None."""
    most = (
        f"about {amount(need.most)} if every run trains to its {max(c['epochs'] for c in experiment.configs):,} "
        f"epochs, {amount(need.curves)} of it learning curves"
    )
    where = f"{amount(free)} free on the filesystem of {folder}"
    if need.least > free:
        raise ValueError(
            f"{experiment.path}: the sweep would write about {amount(need.least)} even if every run stopped at "
            f"once ({most}), more than the {where}; to write less: a larger record_every (fewer curve points), "
            "--tables csv or --tables parquet (one format), a larger --chunk-runs (fewer shard files), "
            "fewer seeds or configurations; or another --out (nn47 sweep --dry-run shows the estimate)"
        )
    if need.most > free:
        return (
            f"note: the sweep writes between about {amount(need.least)} (every run stopping at once) and "
            f"{most}, and there is {where}; if the disk fills, the sweep stops with what it finished saved, "
            "and the same command finishes it once there is room"
        )
    return None
