"""The results folder is defined once (engine/schema.py): what the store
writes is what the schema says, and a column added there reaches every table."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from experiment_files import EXACT_FLOATS

from engine import load_results, schema
from engine.model.layout import Layout
from engine.sweep import driver, spec

ROOT = Path(__file__).parents[1]
TINY = Path(__file__).parent / "tiny.toml"


def test_a_shard_has_the_schemas_columns_and_types(tmp_path):
    driver.sweep(spec.load(TINY), tmp_path, quiet=True, backend="threading")
    shards = sorted((tmp_path / schema.CHUNKS).glob("chunk-*.arrow"))
    assert shards
    for shard in shards:
        written = pa.ipc.open_file(pa.memory_map(str(shard))).schema.remove_metadata()
        assert written == schema.shard_schema(Layout().names)


def test_an_outcome_added_to_the_schema_reaches_every_table(tmp_path, monkeypatch):
    # a column no kernel fills: NaN everywhere, but present in shards, tables and load_results
    outcomes = {**schema.OUTCOMES, "extra": schema.Outcome("float")}
    monkeypatch.setattr(schema, "OUTCOMES", outcomes)
    monkeypatch.setattr(schema, "STATS", tuple(outcomes))
    driver.sweep(spec.load(TINY), tmp_path, quiet=True, backend="threading")
    shard = next((tmp_path / schema.CHUNKS).glob("chunk-*.arrow"))
    assert "runs/extra" in pa.ipc.open_file(pa.memory_map(str(shard))).schema.names
    for fmt in schema.FORMATS:
        path = tmp_path / schema.table_file("runs", fmt)
        runs = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
        assert list(runs.columns[-len(outcomes) :]) == list(outcomes), fmt
        assert runs["extra"].isna().all()
    loaded = load_results(tmp_path).runs
    assert "extra" in loaded and loaded["extra"].dtype == np.float64


def test_the_runs_kept_in_memory_are_the_runs_table(tmp_path):
    report = driver.sweep(spec.load(TINY), tmp_path, quiet=True, backend="threading", keep_runs=True)
    on_disk = pd.read_csv(tmp_path / schema.table_file("runs", "csv"), **EXACT_FLOATS)
    pd.testing.assert_frame_equal(report.runs, on_disk, check_dtype=False, check_exact=True)


def test_the_runs_tables_column_names_are_spelled_in_the_schema_only():
    # outside tests and docs, a runs-table column name appears as a string literal in one module
    names = [*schema.OUTCOMES, *schema.VALIDATION]
    pattern = "|".join(f"[\"']{name}[\"']" for name in names)
    found = subprocess.run(
        ["git", "grep", "-lE", pattern, "--", "engine", "experiments"], cwd=ROOT, capture_output=True, text=True
    )
    if found.returncode > 1:
        pytest.skip(f"git grep failed: {found.stderr.strip()}")
    assert found.stdout.split() == ["engine/schema.py"]
