"""The results store: CSV text as pandas writes it, shards that are data
only (damaged, foreign or planted files retrained, never loaded), streaming
consolidation (bounded memory, atomic under kill -9), formats that agree,
--overwrite, unfinished folders."""

import io
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from experiment_files import SMALL, TINY

from engine.cli import main
from engine.sweep import csvtext, spec
from engine.sweep.driver import plan_chunks, sweep

TABLES = ("runs.csv", "curves.csv", "params.csv")


def all_bytes(folder, names=TABLES):
    return {name: (Path(folder) / name).read_bytes() for name in names}


# ---------------------------------------------------------------- CSV text


def test_csv_text_is_what_pandas_writes():
    """Every kind of float (shortest digits; fixed and exponent notation on
    both sides of Python's thresholds; NaN, ±inf, -0.0; float32), integers,
    nullable integers, booleans and text needing quotes (names too), against pandas' to_csv."""
    rng = np.random.default_rng(7)
    n = 20_000
    floats = np.concatenate(
        [
            rng.standard_normal(n),
            10.0 ** rng.uniform(-30, 30, n) * rng.choice([-1, 1], n),
            rng.integers(-(10**6), 10**6, n).astype(float),
            rng.integers(0, 1000, n) / 1000,
            rng.integers(0, 2**63, n, dtype=np.uint64).view(np.float64),
            [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e16, 9.999999999999999e15, 1e15, 1e-4, 9.99e-5, 1e22, 5e-324],
        ]
    )
    m = len(floats)
    frame = pd.DataFrame(
        {
            "x": floats,
            "i": rng.integers(-5, 5, m),
            "b": rng.random(m) < 0.5,
            "n": pd.array(np.where(rng.random(m) < 0.3, None, rng.integers(0, 99, m)), dtype="Int64"),
            "s": rng.choice(["a", "b,c", 'q"x', "", "two\nlines"], m),
            "w_10,1^H": np.ones(m),
            'a "quoted" name': rng.integers(0, 3, m),
            "x32": np.where(np.abs(floats) < 1e38, floats, 1.0).astype(np.float32),
        }
    )
    out = io.BytesIO()
    out.write(csvtext.header(frame.columns))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    csvtext.write_rows(out, [table[c].combine_chunks() for c in frame.columns])
    assert out.getvalue() == frame.to_csv(index=False).encode()


def test_frame_records_keep_quoted_newlines_together():
    frame = pd.DataFrame({"a": ["x", "two\nlines", 'q"'], "b": [1.0, None, 3.5]})
    assert csvtext.frame_records(frame) == ["x,1.0", '"two\nlines",', '"q""",3.5']


# ---------------------------------------------------------------- shards


class Planted:
    """Unpickling this creates the file `marker`: a planted pickle that was loaded would show."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def damage(kind, path, tmp_path, other_shard):
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind == "pickle":
        path.write_bytes(pickle.dumps(Planted(tmp_path / "pickle-was-loaded")))
    elif kind == "foreign":
        path.write_bytes(other_shard.read_bytes())
    elif kind == "other schema":
        table = pa.ipc.open_file(pa.BufferReader(path.read_bytes())).read_all()  # not mapped: rewritten below
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.drop(["runs/dead_units"]).schema) as w:
            w.write_table(table.drop(["runs/dead_units"]))
    elif kind == "not a shard":
        table = pa.table({"x": [1, 2]})
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)


@pytest.mark.parametrize(
    "kind, reason",
    [
        ("truncated", "not a complete Arrow file"),
        ("pickle", "not a complete Arrow file"),
        ("foreign", "foreign"),
        ("other schema", "of another schema"),
        ("not a shard", "not an nn47 shard"),
    ],
)
def test_an_unfit_shard_is_named_and_retrained_never_loaded(kind, reason, small, tmp_path, capsys):
    out, other = tmp_path / "out", tmp_path / "other"
    sweep(small, out, quiet=True, chunk_runs=4)
    whole = all_bytes(out)
    tiny = spec.load(TINY)
    sweep(tiny, other, quiet=True, chunk_runs=4)
    target = sorted((out / "chunks").glob("chunk-000002-*"))[0]
    damage(kind, target, tmp_path, sorted((other / "chunks").glob("chunk-*"))[0])
    for name in TABLES:
        (out / name).unlink()
    capsys.readouterr()
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet", "--chunk-runs", "4"]) == 0
    err = capsys.readouterr().err
    assert f"{target}: " in err and reason in err and "trained again" in err
    assert not (tmp_path / "pickle-was-loaded").exists()
    assert all_bytes(out) == whole


def test_only_the_unfit_chunk_is_retrained(small, tmp_path):
    out = tmp_path / "out"
    sweep(small, out, quiet=True, chunk_runs=4)
    target = sorted((out / "chunks").glob("chunk-000003-*"))[0]
    target.write_bytes(b"PK\x03\x04 not arrow")
    report = sweep(small, out, quiet=True, chunk_runs=4)
    assert report.ran == len(plan_chunks(small, 4)[3].seeds)
    assert [path for path, _ in report.rejected] == [target]


def test_a_shard_damaged_after_its_check_is_retrained_when_the_tables_are_written(small, tmp_path, monkeypatch, capsys):
    from engine.sweep import store

    out = tmp_path / "out"
    sweep(small, out, quiet=True, chunk_runs=4)
    whole = all_bytes(out)
    real = store.Store.consolidate
    damaged = []

    def consolidate(self, *args, **kwargs):
        if not damaged:  # the first time only: e.g. a disk error after the shard was checked
            damaged.append(sorted(self.chunks.glob("chunk-000001-*"))[0])
            damaged[0].write_bytes(b"garbage")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(store.Store, "consolidate", consolidate)
    report = sweep(small, out, quiet=True, chunk_runs=4)
    assert report.ran == len(plan_chunks(small, 4)[1].seeds)
    assert f"{damaged[0]}: not a complete Arrow file" in capsys.readouterr().err
    assert all_bytes(out) == whole


# ---------------------------------------------------------------- consolidation


def test_tables_are_the_same_whatever_the_chunks_and_batches(small, tmp_path, monkeypatch):
    """Parquet too: row groups have a fixed size, whatever the chunking."""
    from engine.sweep import store

    names = (*TABLES, "runs.parquet", "curves.parquet", "params.parquet")
    sweep(small, tmp_path / "a", quiet=True, chunk_runs=3)
    monkeypatch.setattr(store, "BATCH_RUNS", 4)
    monkeypatch.setattr(store, "ROW_GROUP", 7)
    monkeypatch.setattr(store, "OPEN_SHARDS", 1)
    sweep(small, tmp_path / "b", quiet=True, chunk_runs=5)
    sweep(small, tmp_path / "c", quiet=True, chunk_runs=512)
    assert all_bytes(tmp_path / "b", names) == all_bytes(tmp_path / "c", names)
    assert all_bytes(tmp_path / "a") == all_bytes(tmp_path / "b")
    assert pa.parquet.ParquetFile(tmp_path / "b" / "curves.parquet").metadata.num_row_groups > 1


def test_parquet_and_csv_give_the_same_tables(small, tmp_path):
    sweep(small, tmp_path / "out", quiet=True, chunk_runs=4)
    for table in ("runs", "curves", "params"):
        from_csv = pd.read_csv(tmp_path / "out" / f"{table}.csv")
        from_parquet = pd.read_parquet(tmp_path / "out" / f"{table}.parquet")
        assert list(from_parquet.columns) == list(from_csv.columns)
        pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)


def test_tables_option_writes_the_chosen_formats_only(small, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet", "--tables", "parquet"]) == 0
    assert (out / "runs.parquet").exists() and not (out / "runs.csv").exists()
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet", "--tables", "csv"]) == 0
    assert (out / "runs.csv").exists() and not (out / "runs.parquet").exists()  # no stale copy left
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet", "--tables", "csv,xlsx"]) == 2
    assert "--tables: must be one or more of csv, parquet" in capsys.readouterr().err


KILL_IN_CONSOLIDATION = """
import os, signal, sys
from engine.sweep import csvtext
from engine.cli import main
real = csvtext.write_rows
calls = []
def write_rows(file, columns):
    real(file, columns)
    calls.append(1)
    if len(calls) == 2:   # part of the tables written, none renamed yet
        os.kill(os.getpid(), signal.SIGKILL)
csvtext.write_rows = write_rows
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_kill_9_while_writing_the_tables_then_rerun_gives_the_same_tables(small, tmp_path):
    command = ["sweep", str(small.path), "--quiet", "--chunk-runs", "4"]
    killed = subprocess.run([sys.executable, "-c", KILL_IN_CONSOLIDATION, *command, "--out", str(tmp_path / "k")])
    assert killed.returncode == -9
    assert not any((tmp_path / "k" / name).exists() for name in TABLES)
    assert list((tmp_path / "k").glob(".*.tmp"))  # what the kill left
    assert main([*command, "--out", str(tmp_path / "k")]) == 0
    assert not list((tmp_path / "k").rglob(".*.tmp"))
    assert main([*command, "--out", str(tmp_path / "whole")]) == 0
    names = (*TABLES, "runs.parquet", "curves.parquet", "params.parquet", "chunks.csv")
    whole = all_bytes(tmp_path / "whole", names)
    del whole["chunks.csv"]  # seconds differ
    assert all_bytes(tmp_path / "k", whole) == whole


PEAK = """
import sys, tracemalloc
import pyarrow as pa
from engine.sweep import spec, store
from engine.model.layout import Layout
from engine.schema import shard_schema
from engine.sweep.driver import plan_chunks
store.BATCH_RUNS, store.ROW_GROUP = 16, 64
experiment = spec.load(sys.argv[1])
s = store.Store(sys.argv[2], shard_schema(Layout().names))
s.key = store.shard_key(experiment)
configs = experiment.config_frame()
configs["batch_size"] = configs["batch_size"].fillna(experiment.data["n_train"])
chunks = plan_chunks(experiment, 16)
tracemalloc.start()
s.consolidate(chunks, configs, (sys.argv[3],))
print(pa.default_memory_pool().max_memory(), tracemalloc.get_traced_memory()[1])
"""


@pytest.mark.slow
def test_consolidation_memory_does_not_grow_with_the_number_of_shards(tmp_path):
    """Peak memory (Arrow's pool and Python's allocations) of consolidating
    ten times the runs (chunks of 16 runs) in batches of 16 runs, for
    each format: it grows by a small part of what the data grows by (all
    shards at once would need more than the data; today about 3 %)."""
    peaks, data = {}, {}
    for seeds in (32, 320):
        path = tmp_path / f"s{seeds}.toml"
        path.write_text(
            SMALL.replace("seeds = 5", f"seeds = {seeds}")
            .replace("epochs = 30", "epochs = 20")
            .replace("record_every = 10", "record_every = 1")
        )
        sweep(spec.load(path), tmp_path / f"o{seeds}", quiet=True, chunk_runs=16)
        for table_format in ("parquet", "csv"):
            done = subprocess.run(
                [sys.executable, "-c", PEAK, str(path), str(tmp_path / f"o{seeds}"), table_format],
                capture_output=True,
                text=True,
                check=True,
            )
            peaks[seeds, table_format] = sum(int(x) for x in done.stdout.split()[-2:])
        data[seeds] = sum(path.stat().st_size for path in (tmp_path / f"o{seeds}" / "chunks").iterdir())
    assert len(pd.read_csv(tmp_path / "o320" / "runs.csv")) == 320 * 6
    # what grows: a few numbers per chunk and per Parquet row group
    for table_format in ("parquet", "csv"):
        assert peaks[320, table_format] - peaks[32, table_format] < 0.1 * (data[320] - data[32]), (peaks, data)


# ---------------------------------------------------------------- the folder


def test_overwrite_removes_what_the_old_experiment_produced(small, tmp_path):
    out = tmp_path / "out"
    sweep(small, out, quiet=True)
    derived = ["report.md", "summary.csv", "main_effects.csv", "paired_tests.csv", "learning_curves.png"]
    for name in derived:
        (out / name).write_text("about the old runs")
    (out / "notes.txt").write_text("the user's own")
    (out / "chunks" / "README").write_text("the user's own too")
    assert main(["sweep", str(TINY), "--out", str(out), "--quiet", "--overwrite", "--tables", "csv"]) == 0
    assert not any((out / name).exists() for name in derived)
    assert not (out / "runs.parquet").exists()
    assert (out / "notes.txt").exists() and (out / "chunks" / "README").exists()
    assert len(pd.read_csv(out / "runs.csv")) == 6
    assert len(list((out / "chunks").glob("chunk-*"))) == len(plan_chunks(spec.load(TINY)))


def test_analyze_of_an_unfinished_sweep_gives_the_command_that_finishes_it(small, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet", "--chunk-runs", "4"]) == 0
    whole = all_bytes(out)
    for path in [
        *(out / "chunks").glob("chunk-00000[12]-*"),
        *out.glob("runs.*"),
        *out.glob("curves.*"),
        *out.glob("params.*"),
    ]:
        path.unlink()
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err
    command = f"nn47 sweep {small.path} --out {out} --chunk-runs 4"
    saved = 30 - sum(len(c.seeds) for c in plan_chunks(small, 4)[1:3])
    assert "unfinished" in err and f"{saved} of 30 runs saved" in err and err.strip().endswith(command)
    assert main(command.split()[1:] + ["--quiet"]) == 0
    assert all_bytes(out) == whole
