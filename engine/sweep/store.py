"""The results folder: one shard per finished chunk, the consolidated tables,
and the manifest. Every file appears whole or not at all, and stays whole
after a power cut (written to a temporary name, fsynced, renamed, its folder
fsynced: engine.sweep.durable), so a killed sweep leaves only finished
chunks behind, and a re-run finishes the rest. The manifest's "written"
lists the tables and their sizes once they are all on disk (null while a
sweep is unfinished). A write that fails (a full disk) raises WriteError
naming the file; the finished chunks stay, and the same command finishes
the sweep once there is room.

    results/NAME/manifest.json   the experiment, its hash, versions, machine, sweep options
    results/NAME/chunks/         one Arrow IPC file per finished chunk, named by the chunk's id
                                 and a hash of its runs: one row per run, its outcomes (runs/…),
                                 final parameters (params/…) and learning curve as lists
                                 (curves/…); the experiment's key and the chunk's seconds in the
                                 schema's metadata
    results/NAME/runs.csv        one row per configuration × seed
    results/NAME/curves.csv      long learning curves
    results/NAME/params.csv      final flat vectors, columns named as on the slides
    results/NAME/*.parquet       the same three tables in Parquet (--tables chooses the formats)
    results/NAME/chunks.csv      seconds and lane-epochs computed per chunk (wall times live here only)

Shards are data, never code: nothing in a results folder is unpickled. A
shard that cannot be read, belongs to another experiment or kernel version,
or has other columns is named and its chunk trained again.
"""

import contextlib
import hashlib
import json
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..kernels.cache import source_digest
from ..schema import (
    ANALYSIS_FILES,
    CHUNK_TIMES,
    CHUNKS,
    FORMATS,
    KEY,
    MANIFEST,
    SHARD_FAMILIES,
    TABLES,
    curve_points,
    table_file,
)
from . import csvtext
from .durable import make_folder, publish, temporary, write_atomic, write_error
from .provenance import manifest_of

CHUNK_RUNS = 512  # runs per kernel call (default): four blocks of 128 lanes
SHARD_FORMAT = b"nn47 shard 1"
# Shard metadata: epochs computed summed over lanes (TrainResult.lane_epochs), kept in chunks.csv
LANE_EPOCHS = b"nn47.lane_epochs"
BATCH_RUNS = 1 << 14  # runs consolidated at once: bounds the driver's memory
ROW_GROUP = 1 << 16  # rows per Parquet row group, fixed so the files do not depend on chunking
OPEN_SHARDS = 8  # shards kept mapped while consolidating


def shard_metadata(key, name, seconds):
    """What marks a shard in its schema's metadata (besides LANE_EPOCHS, which the training adds)."""
    return {
        b"nn47.format": SHARD_FORMAT,
        b"nn47.key": key.encode(),
        b"nn47.chunk": name.encode(),
        b"nn47.seconds": repr(seconds).encode(),
    }


class ResultsFolderError(RuntimeError):
    """The results folder cannot take this sweep."""


class ShardError(ValueError):
    """A file in chunks/ that is not a finished shard of this chunk; the message names it and says why."""


def shard_key(experiment):
    """What a shard of this experiment is marked with: a hash of the file,
    the kernel sources and the shard format (an edit of any retrains)."""
    return hashlib.sha256((experiment.sha256 + source_digest()).encode() + SHARD_FORMAT).hexdigest()


def shard_table(configs, result, param_names=None):
    """A chunk's TrainResult as one Arrow table, one row per run: config,
    seed, outcomes (runs/…), final parameters (params/…) and the learning
    curve's columns as lists (curves/…). param_names: the params columns
    (None: the result's own; none: no params); a parameter the result's network lacks
    (a narrower layer) is empty (NaN)."""
    runs = result.columns  # arrays: no pandas frame per chunk
    n_runs = len(runs["seed"])
    columns = {"config": pa.array(np.asarray(configs, np.int64)), "seed": pa.array(runs["seed"], pa.int64())}
    prefix = SHARD_FAMILIES
    columns.update({prefix["runs"] + name: pa.array(values) for name, values in runs.items() if name != "seed"})
    index = {name: l for l, name in enumerate(result.layout.names)}
    empty = np.full(n_runs, np.nan)
    columns.update(
        {
            prefix["params"] + name: pa.array(result.params[:, index[name]] if name in index else empty)
            for name in (result.layout.names if param_names is None else param_names)
        }
    )
    # curve points come run by run, in epoch order (from the arrays: no pandas frame per chunk)
    run, curves = curve_points(result.slots)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(run, minlength=n_runs))]).astype(np.int32)
    columns.update(
        {
            prefix["curves"] + name: pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))
            for name, values in curves.items()
        }
    )
    return pa.table(columns)


class Store:
    def __init__(self, folder, schema=None):
        """`schema`: the columns a shard must have (none: not checked)."""
        self.folder = Path(folder)
        self.chunks = self.folder / CHUNKS
        self.schema = schema
        self.rejected = []  # (shard path, message) of files found unfit, in the order met
        self._paths = {}  # chunk id -> shard path (hashing a chunk's runs is not free)
        self.manifest = None  # what claim() wrote
        self.key = None  # shard_key of the experiment claimed

    def claim(self, experiment, overwrite=False, **options):
        """Make the folder this experiment's: refuse one that holds another
        experiment's results (or chunks of unknown origin) unless overwrite;
        keep finished chunks of the same experiment and kernels. `options`
        (the sweep's chunk_runs, tables) go into the manifest."""
        manifest = self.folder / MANIFEST
        held = None
        if manifest.exists():
            try:
                held = json.loads(manifest.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                held = {"spec": f"an unreadable manifest ({error})", "spec_sha256": None}
            if not isinstance(held, dict):  # JSON, but not a manifest (a list, a number)
                held = {"spec": "a manifest that is not a JSON object", "spec_sha256": None}
        elif self.chunks.exists() and any(self.chunks.glob("chunk-*")):
            held = {"spec": "chunks with no manifest", "spec_sha256": None}
        if held is not None and held.get("spec_sha256") != experiment.sha256:
            if not overwrite:
                # the same path: the file (or, for a tuning rung, what it is made from) has changed
                what = "an earlier version of " if held.get("spec") == experiment.path else ""
                raise ResultsFolderError(
                    f"{self.folder} holds the results of {what}{held.get('spec')} "
                    f"(sha256 {str(held.get('spec_sha256'))[:12]}…), not of {experiment.path} "
                    f"(sha256 {experiment.sha256[:12]}…); pass --overwrite to replace them or "
                    f"--out to write elsewhere"
                )
            self.clear()
        self.key = shard_key(experiment)
        self._paths = {}
        make_folder(self.chunks)
        self.remove_temporaries()  # what a killed writer left
        self.manifest = {**manifest_of(experiment), "sweep": options, "written": None}
        self.write_manifest()

    def write_manifest(self):
        text = json.dumps(self.manifest, indent=2)
        write_atomic(self.folder / MANIFEST, lambda tmp: Path(tmp).write_text(text), lambda: len(text))

    def clear(self):
        """Remove what nn47 wrote here (shards, tables, chunks.csv, the
        analysis: its CSV tables, report.md and every PNG), the manifest last:
        a kill part-way leaves a folder that is still refused. Other files stay."""
        if self.chunks.exists():
            for shard in self.chunks.glob("chunk-*"):
                shard.unlink()
        derived = [table_file(t, f) for t in TABLES for f in FORMATS] + [CHUNK_TIMES, *ANALYSIS_FILES]
        for path in [*(self.folder / name for name in derived), *self.folder.glob("*.png")]:
            path.unlink(missing_ok=True)
        (self.folder / MANIFEST).unlink(missing_ok=True)

    def shard(self, chunk):
        """A chunk's file, named by a hash of the experiment, the kernels and
        the chunk's runs: a chunk of another chunking (another --chunk-runs),
        file or kernel version is never taken for this one."""
        if chunk.id not in self._paths:
            # pickled, not repr'd: a float's shortest repr took 0.6 ms a chunk of 432 runs
            runs = pickle.dumps((self.key, chunk.configs, chunk.seeds, chunk.settings, chunk.hyper), protocol=5)
            self._paths[chunk.id] = self.chunks / f"chunk-{chunk.id:06d}-{hashlib.sha256(runs).hexdigest()[:16]}.arrow"
        return self._paths[chunk.id]

    def read_shard(self, chunk, full=True):
        """The chunk's shard as an Arrow table (memory-mapped), or ShardError
        saying why the file is not one. full: check every value's layout too
        (not needed again for a shard checked or written by this process)."""
        path = self.shard(chunk)
        try:
            table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        except (pa.ArrowInvalid, OSError) as error:
            raise ShardError(
                f"{path}: not a complete Arrow file (truncated, or another kind of file: {error})"
            ) from None
        metadata = table.schema.metadata or {}
        if metadata.get(b"nn47.format") != SHARD_FORMAT:
            raise ShardError(f"{path}: an Arrow file but not an nn47 shard of this version")
        if metadata.get(b"nn47.key", b"").decode() != self.key:
            raise ShardError(f"{path}: foreign: written for another experiment file or kernel version")
        if self.schema is not None and not table.schema.remove_metadata().equals(self.schema):
            raise ShardError(f"{path}: of another schema (its columns differ from what this version writes)")
        try:
            table.validate(full=full)
        except pa.ArrowInvalid as error:
            raise ShardError(f"{path}: damaged ({error})") from None
        if (
            table.num_rows != len(chunk.seeds)
            or table["config"].to_pylist() != list(chunk.configs)
            or table["seed"].to_pylist() != list(chunk.seeds)
        ):
            raise ShardError(f"{path}: holds other runs than its chunk")
        return table

    def is_done(self, chunk):
        """Whether the chunk's shard is there and sound; an unsound one is
        recorded in self.rejected (and replaced when the chunk is trained)."""
        if not self.shard(chunk).exists():
            return False
        try:
            self.read_shard(chunk)
        except ShardError as error:
            self.rejected.append((self.shard(chunk), str(error)))
            return False
        return True

    def remove_temporaries(self):
        """Delete the temporary files of writes that never finished (a signal
        can land between a temporary file's creation and the cleanup that
        guards it)."""
        for folder in (self.folder, self.chunks):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def save_chunk(self, chunk, table, seconds):
        metadata = {
            **(table.schema.metadata or {}),  # what the training said of itself (LANE_EPOCHS)
            **shard_metadata(self.key, self.shard(chunk).stem, seconds),
        }
        table = table.replace_schema_metadata(metadata)

        def write(sink):
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)

        def size():  # for the message of a full disk: the bytes the file takes, counted
            write(counter := pa.MockOutputStream())
            return counter.size()

        def write_file(tmp):
            with pa.OSFile(str(tmp), "wb") as sink:
                write(sink)

        write_atomic(self.shard(chunk), write_file, size)

    def consolidate(self, chunks, configs, formats=FORMATS, keep_runs=False):
        """Stream the chunks' shards, in (config, seed) order, into the tables
        in `formats`, a batch of runs at a time; runs get every setting of
        their configuration (configs: one row per config, in config order).
        Shards of no chunk here and tables not written (formats not chosen, a
        params table the experiment does not keep) are removed;
        then the manifest lists the tables written. A full disk raises
        WriteError naming the table and about how much it needs. Returns the
        runs table as a DataFrame if keep_runs, else None."""
        tables = TableFiles(self.folder, formats, keep_runs)
        done, total = 0, sum(len(c.seeds) for c in chunks)
        shards, seconds, lane_epochs = OrderedDict(), {}, {}
        try:
            settings = configs.drop(columns="config")
            settings_text = pa.array(csvtext.frame_records(settings), pa.string())
            settings_arrow = pa.Table.from_pandas(settings, preserve_index=False).replace_schema_metadata()
            batch, size = [], 0
            for chunk, start, stop in segments(chunks):
                if chunk.id not in shards:
                    shards[chunk.id] = self.read_shard(chunk, full=False)  # is_done checked it, or we wrote it
                    metadata = shards[chunk.id].schema.metadata
                    seconds[chunk.id] = float(metadata[b"nn47.seconds"])
                    lane_epochs[chunk.id] = int(metadata.get(LANE_EPOCHS, b"-1"))  # -1: a shard from before
                    if len(shards) > OPEN_SHARDS:
                        shards.popitem(last=False)
                shards.move_to_end(chunk.id)
                batch.append(shards[chunk.id].slice(start, stop - start))
                size += stop - start
                if size >= BATCH_RUNS:
                    tables.write(pa.concat_tables(batch).combine_chunks(), settings_text, settings_arrow)
                    batch, done, size = [], done + size, 0
            if batch:
                tables.write(pa.concat_tables(batch).combine_chunks(), settings_text, settings_arrow)
                done, size = done + size, 0
            shards.clear()
            per_chunk = pd.DataFrame(
                {
                    "chunk": [c.id for c in chunks],
                    "runs": [len(c.seeds) for c in chunks],
                    "seconds": [seconds[c.id] for c in chunks],
                    "lane_epochs": [lane_epochs[c.id] for c in chunks],
                }
            )
            tables.finish()
            write_atomic(self.folder / CHUNK_TIMES, lambda tmp: per_chunk.to_csv(tmp, index=False))
        except OSError as error:
            # what the tables took for the runs written so far, scaled to all runs
            needed = tables.size() * total // max(done + size, 1)
            raise write_error(tables.current, error, needed) from None
        finally:
            tables.discard()
        for name in {table_file(t, f) for t in TABLES for f in FORMATS} - tables.written:
            (self.folder / name).unlink(missing_ok=True)  # other formats', or a params table not kept
        for stale in set(self.chunks.glob("chunk-*")) - {self.shard(c) for c in chunks}:
            stale.unlink()
        names = [name for name in (table_file(t, f) for t in TABLES for f in formats) if name in tables.written]
        names.append(CHUNK_TIMES)
        if self.manifest is not None:
            self.manifest["written"] = {name: (self.folder / name).stat().st_size for name in names}
            self.write_manifest()
        return None if tables.runs is None else pa.concat_tables(tables.runs).to_pandas()

    def saved_runs(self):
        """Runs in the shards now in chunks/ (any shard readable as Arrow)."""
        total = 0
        for path in self.chunks.glob("chunk-*.arrow"):
            try:
                reader = pa.ipc.open_file(pa.memory_map(str(path)))
                total += sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
            except (pa.ArrowInvalid, OSError):
                pass
        return total


def segments(chunks):
    """(chunk, first row, end row) of each configuration's runs in each
    chunk, in (config, seed) order. Within a chunk the runs are in (config,
    seed) order; the chunks of one call key follow each other."""
    found = []
    for chunk in chunks:
        configs = np.asarray(chunk.configs)
        bounds = [0, *(np.flatnonzero(np.diff(configs)) + 1), len(configs)]
        found += [(configs[a], chunk.seeds[a], chunk, a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    found.sort(key=lambda s: s[:2])
    return [s[2:] for s in found]


class TableFiles:
    """runs, curves and params in the chosen formats, each written to a
    temporary file and renamed into place only when all are complete."""

    def __init__(self, folder, formats, keep_runs=False):
        self.folder, self.formats = Path(folder), formats
        self.runs = [] if keep_runs else None  # the runs table's batches, kept in memory when asked
        self.tmp = {}  # final path -> temporary path
        self.written = set()  # the tables' file names, as each is begun
        self.current = self.folder  # the table being written (named by a failed write)
        self.csv = {}  # table -> open file
        self.parquet = {}  # table -> RowGroups

    def write(self, batch, settings_text, settings_arrow):
        """Append a batch of shard rows (one chunk per column, in table order) to every table."""
        column = {name: batch[name].chunk(0) for name in batch.schema.names}
        key = {name: column[name] for name in KEY}
        family = {
            prefix: {n.removeprefix(prefix): column[n] for n in batch.schema.names if n.startswith(prefix)}
            for prefix in SHARD_FAMILIES.values()
        }
        outcomes, params, lists = (family[SHARD_FAMILIES[t]] for t in ("runs", "params", "curves"))
        parent = pc.list_parent_indices(next(iter(lists.values())))  # the run of each curve point
        curves = {**{k: v.take(parent) for k, v in key.items()}, **{n: l.flatten() for n, l in lists.items()}}
        if "csv" in self.formats:
            self._csv(
                "runs",
                ["config", "seed", *settings_arrow.schema.names, *outcomes],
                [key["config"], key["seed"], csvtext.Text(settings_text.take(key["config"])), *outcomes.values()],
            )
            self._csv("curves", list(curves), list(curves.values()))
            if params:  # none: the experiment keeps no params table
                self._csv("params", [*key, *params], [*key.values(), *params.values()])
        if "parquet" in self.formats or self.runs is not None:
            settings = settings_arrow.take(key["config"])
            runs = pa.table(
                [*key.values(), *settings.columns, *outcomes.values()],
                names=[*key, *settings.schema.names, *outcomes],
            )
            if self.runs is not None:
                self.runs.append(runs)
        if "parquet" in self.formats:
            self._parquet("runs", runs)
            self._parquet("curves", pa.table(curves))
            if params:
                self._parquet("params", pa.table({**key, **params}))

    def _path(self, name):
        path = self.folder / name
        self.current = path
        self.written.add(name)
        if path not in self.tmp:
            self.tmp[path] = temporary(path)
        return self.tmp[path]

    def _csv(self, table, columns, arrays):
        path = self._path(table_file(table, "csv"))
        if table not in self.csv:
            self.csv[table] = open(path, "wb")
            self.csv[table].write(csvtext.header(columns))
        csvtext.write_rows(self.csv[table], arrays)

    def _parquet(self, table, rows):
        path = self._path(table_file(table, "parquet"))
        if table not in self.parquet:
            self.parquet[table] = RowGroups(path, rows.schema)
        self.parquet[table].write(rows)

    def finish(self):
        """Close every file and publish each (engine.sweep.durable)."""
        for table, file in self.csv.items():
            self.current = self.folder / table_file(table, "csv")
            file.close()
        for table, groups in self.parquet.items():
            self.current = self.folder / table_file(table, "parquet")
            groups.close()
        for path, tmp in self.tmp.items():
            publish(tmp, path)
        self.tmp.clear()

    def size(self):
        """Bytes in the temporary files so far."""
        return sum(tmp.stat().st_size for tmp in self.tmp.values() if tmp.exists())

    def discard(self):
        """Remove the temporary files of an unfinished consolidation (closing
        a file on a full disk fails again: it has been reported once)."""
        for file in self.csv.values():
            with contextlib.suppress(OSError):
                file.close()
        for groups in self.parquet.values():
            with contextlib.suppress(OSError):
                groups.abandon()
        for tmp in self.tmp.values():
            tmp.unlink(missing_ok=True)


class RowGroups:
    """A Parquet file written in row groups of exactly ROW_GROUP rows (the
    last one shorter), whatever the sizes of the pieces appended."""

    def __init__(self, path, schema):
        self.writer = pq.ParquetWriter(str(path), schema)
        self.pending, self.rows = [], 0

    def write(self, table):
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= ROW_GROUP:
            whole = pa.concat_tables(self.pending)
            full = self.rows - self.rows % ROW_GROUP
            self.writer.write_table(whole.slice(0, full), row_group_size=ROW_GROUP)
            self.pending, self.rows = [whole.slice(full)], self.rows - full

    def close(self):
        if self.rows:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=ROW_GROUP)
        self.pending = []
        self.writer.close()

    def abandon(self):
        self.pending = []
        if self.writer.is_open:
            self.writer.close()


def complete(folder, manifest):
    """Whether the tables the manifest lists as written are there, of the sizes
    listed (a folder of an older version lists none: its runs table tells)."""
    if "written" not in manifest:
        return any((folder / table_file("runs", f)).exists() for f in FORMATS)
    written = manifest["written"] or {}
    if not isinstance(written, dict) or not all(isinstance(name, str) and "/" not in name for name in written):
        return False  # a damaged manifest: its tables are not known to be whole
    sizes = {name: (folder / name).stat().st_size for name in written if (folder / name).exists()}
    return bool(written) and sizes == written


def unfinished(folder):
    """A message with the command that finishes the sweep in `folder`, when
    it holds a sweep's manifest whose tables are not all written; None otherwise."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or complete(folder, manifest):
        return None
    options = manifest.get("sweep")
    options = options if isinstance(options, dict) else {}  # a damaged manifest: the command's defaults
    command = f"nn47 sweep {manifest.get('spec', 'EXPERIMENT.toml')} --out {folder}"
    if options.get("chunk_runs") not in (None, CHUNK_RUNS):
        command += f" --chunk-runs {options['chunk_runs']}"
    tables = options.get("tables")
    if isinstance(tables, list) and tables != list(FORMATS):
        command += f" --tables {','.join(map(str, tables))}"
    saved = Store(folder).saved_runs()
    return (
        f"{folder}: the sweep is unfinished ({saved} of {manifest.get('n_runs', '?')} runs saved in "
        f"{folder / 'chunks'}, its tables not all written); finish it with: {command}"
    )
