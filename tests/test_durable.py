"""Durable writes: every file of a results folder is fsynced before it is
renamed into place, and its folder fsynced after; the manifest lists the
tables as written only once they all are."""

import json
import os
from pathlib import Path

import pytest
from test_sweep import SMALL

from engine.sweep import spec, tune
from engine.sweep.driver import sweep

TUNE_TINY = Path(__file__).parent / "tune_tiny.toml"


def record(monkeypatch):
    """Wrap os.fsync and os.replace: the list of ("fsync", path) and ("replace", source, target) they get."""
    events = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(fd):
        events.append(("fsync", Path(os.readlink(f"/proc/self/fd/{fd}"))))
        fsync(fd)

    def recorded_replace(source, target):
        events.append(("replace", Path(source).resolve(), Path(target).resolve()))
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    return events


def check_order(events):
    """Every rename follows an fsync of its file and is followed by an fsync of its folder, before the next rename."""
    renames = [i for i, event in enumerate(events) if event[0] == "replace"]
    for i in renames:
        _, source, target = events[i]
        assert ("fsync", source) in events[:i], f"{target} renamed before its data was fsynced"
        after = events[i + 1 : next((j for j in renames if j > i), len(events))]
        assert ("fsync", target.parent) in after, f"{target}'s folder not fsynced after the rename"
    return {events[i][2] for i in renames}


def test_every_file_is_fsynced_renamed_and_its_folder_fsynced(tmp_path, monkeypatch):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = (tmp_path / "out").resolve()
    events = record(monkeypatch)
    sweep(spec.load(path), out, quiet=True, chunk_runs=4)
    renamed = check_order(events)
    written = {p.resolve() for p in [*out.glob("*.*"), *(out / "chunks").glob("chunk-*")]}
    assert written == renamed  # shards, tables in both formats, chunks.csv, manifest.json: nothing else
    assert len(renamed) == 3 * 2 + 2 + len(list((out / "chunks").glob("chunk-*")))
    # the manifest, written last, lists the tables with their sizes
    kind, _, target = events[-2]
    assert (kind, target) == ("replace", out / "manifest.json")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["written"] == {name: (out / name).stat().st_size for name in manifest["written"]}
    assert set(manifest["written"]) == {
        f"{t}.{f}" for t in ("runs", "curves", "params") for f in ("csv", "parquet")
    } | {"chunks.csv"}


def test_tuning_files_too(tmp_path, monkeypatch):
    out = (tmp_path / "out").resolve()
    events = record(monkeypatch)
    tune.tune_and_sweep(spec.load(TUNE_TINY), out, quiet=True)
    renamed = check_order(events)
    assert out / "tuning.csv" in renamed and out / "tuning" / "rung-0" / "runs.csv" in renamed


def test_the_manifest_says_unwritten_while_the_tables_are_not_all_written(tmp_path, monkeypatch):
    from engine.sweep import store

    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = tmp_path / "out"

    def power_cut(self, *args):
        raise KeyboardInterrupt  # stands for a stop after the shards, before the tables

    monkeypatch.setattr(store.Store, "consolidate", power_cut)
    with pytest.raises(KeyboardInterrupt):
        sweep(spec.load(path), out, quiet=True)
    assert json.loads((out / "manifest.json").read_text())["written"] is None
    assert store.unfinished(out).startswith(f"{out}: the sweep is unfinished")
