"""The results folder: one shard per finished chunk, the consolidated CSVs,
and the manifest. Every file appears whole or not at all (written to a
temporary name, then renamed), so a killed sweep leaves only finished
chunks behind, and a re-run finishes the rest.

    results/NAME/manifest.json   the experiment, its hash, versions, machine
    results/NAME/chunks/         one pickle per finished chunk (runs, curves, params, seconds),
                                 named by the chunk's id and a hash of its runs
    results/NAME/runs.csv        one row per configuration × seed
    results/NAME/curves.csv      long learning curves
    results/NAME/params.csv      final flat vectors, columns named as on the slides
    results/NAME/chunks.csv      seconds per chunk (wall times live here only)
    results/NAME/*.parquet       the three tables again, when pyarrow is installed
"""
import hashlib
import importlib.util
import json
import os
import pickle
import tempfile
from pathlib import Path

import pandas as pd

from ..kernels.cache import source_digest
from .provenance import manifest_of

TABLES = ("runs", "curves", "params")


class ResultsFolderError(RuntimeError):
    """The results folder cannot take this sweep."""


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()   # what open() would give; mkstemp makes 0600


def write_atomic(path, write):
    """Call write(tmp_path), then rename tmp_path to path (atomic on POSIX)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def parquet_engine():
    return importlib.util.find_spec("pyarrow") is not None


class Store:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.chunks = self.folder / "chunks"

    def claim(self, experiment, overwrite=False):
        """Make the folder this experiment's: refuse one that holds another
        experiment's results (or chunks of unknown origin) unless overwrite;
        keep finished chunks of the same experiment and kernels."""
        manifest = self.folder / "manifest.json"
        held = None
        if manifest.exists():
            try:
                held = json.loads(manifest.read_text())
            except json.JSONDecodeError as error:
                held = {"spec": f"an unreadable manifest ({error})", "spec_sha256": None}
        elif self.chunks.exists() and any(self.chunks.iterdir()):
            held = {"spec": "chunks with no manifest", "spec_sha256": None}
        if held is not None and held.get("spec_sha256") != experiment.sha256:
            if not overwrite:
                raise ResultsFolderError(
                    f"{self.folder} holds the results of {held.get('spec')} "
                    f"(sha256 {str(held.get('spec_sha256'))[:12]}…), not of {experiment.path} "
                    f"(sha256 {experiment.sha256[:12]}…); pass --overwrite to replace them or "
                    f"--out to write elsewhere")
            self.clear()
        # a shard is this experiment's under these kernels: an edited kernel retrains
        self.key = experiment.sha256 + source_digest()
        self.chunks.mkdir(parents=True, exist_ok=True)
        write_atomic(manifest, lambda tmp: Path(tmp).write_text(json.dumps(manifest_of(experiment), indent=2)))

    def clear(self):
        """Remove the results, the manifest last: a kill part-way leaves a folder
        that is still refused."""
        if self.chunks.exists():
            for shard in self.chunks.iterdir():
                shard.unlink()
        for name in (*(f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")), "chunks.csv", "manifest.json"):
            (self.folder / name).unlink(missing_ok=True)

    def shard(self, chunk):
        """A chunk's file, named by a hash of the experiment, the kernels and
        the chunk's runs: a chunk of another chunking (another --chunk-runs),
        file or kernel version is never taken for this one."""
        runs = repr((self.key, chunk.configs, chunk.seeds, chunk.settings, chunk.hyper))
        return self.chunks / f"chunk-{chunk.id:06d}-{hashlib.sha256(runs.encode()).hexdigest()[:16]}.pkl"

    def is_done(self, chunk):
        return self.shard(chunk).exists()

    def save_chunk(self, chunk, tables, seconds):
        def write(tmp):
            with open(tmp, "wb") as f:
                pickle.dump({**tables, "seconds": seconds}, f, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(self.shard(chunk), write)

    def consolidate(self, chunks, configs):
        """Join the chunks' shards, in (config, seed) order, into the CSV
        tables; runs get every setting of their configuration (configs: one
        row per config). Shards of no chunk here are stale and removed."""
        shards = {}
        for chunk in chunks:
            with open(self.shard(chunk), "rb") as f:
                shards[chunk.id] = pickle.load(f)
        for table in TABLES:
            frame = pd.concat([s[table] for s in shards.values()], ignore_index=True)
            keys = ["config", "seed", "epoch"] if table == "curves" else ["config", "seed"]
            frame = frame.sort_values(keys, kind="stable", ignore_index=True)
            if table == "runs":
                outcomes = frame.columns.drop(["config", "seed"]).tolist()
                frame = frame.merge(configs, on="config", how="left")
                frame = frame[["config", "seed", *configs.columns.drop("config"), *outcomes]]
            write_atomic(self.folder / f"{table}.csv", lambda tmp: frame.to_csv(tmp, index=False))
            if parquet_engine():
                write_atomic(self.folder / f"{table}.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
        seconds = pd.DataFrame({"chunk": list(shards), "runs": [len(s["runs"]) for s in shards.values()],
                                "seconds": [s["seconds"] for s in shards.values()]})
        write_atomic(self.folder / "chunks.csv", lambda tmp: seconds.to_csv(tmp, index=False))
        for stale in set(self.chunks.glob("chunk-*.pkl")) - {self.shard(c) for c in chunks}:
            stale.unlink()
