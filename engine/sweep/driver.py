"""The sweep driver: an experiment's grid × seeds -> chunks -> kernel calls
-> shards -> CSV tables.

A chunk is a set of runs that one kernel call trains: they share every
setting except the per-run numbers (options.HYPER), which the kernel takes
side by side, and init, which sets a run's initial parameters alone.
Chunks are cut from the experiment alone, never from the number of jobs or
the backend, so a run's numbers do not depend on how the work is spread,
and a re-run after a crash finds the same chunk ids.
"""

import contextlib
import logging
import os
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from ..model import datasets
from ..options import BACKENDS, HYPER, check_integer, hidden_widths
from ..schema import FORMATS, shard_schema
from ..training import compile_kernels, thread_count, train
from . import csvtext
from .disk import sweep_need
from .durable import make_folder
from .limits import check_memory
from .lock import hold
from .spec import Experiment
from .store import CHUNK_RUNS, LANE_EPOCHS, ShardError, Store, shard_key, shard_table


@dataclass(frozen=True)
class Chunk:
    id: int
    settings: dict  # call-level settings the runs share
    hyper: dict  # per-run settings (PER_RUN): name -> tuple with one value per run
    configs: tuple  # config index of each run
    seeds: tuple  # seed of each run
    data: dict
    record_every: int
    test_set: bool = True  # measure the test set (tuning rungs, whose objective never reads it, do not)
    param_names: tuple = None  # the params columns of every shard (the experiment's); None: the network's

    def describe(self):
        return ", ".join(f"{k}={v}" for k, v in self.settings.items()) + f"; configs {sorted(set(self.configs))}"


# What train() takes one per run
PER_RUN = (*HYPER, "init")
# in one process, a phase of at least SIDE_BY_SIDE chunks per thread trains a chunk per thread (execute)
SIDE_BY_SIDE = 2


def call_key(config, labels=()):
    """What runs must share to be trained in one kernel call: not the per-run
    settings, nor labels, which name settings without being one. Dropout > 0
    changes how the kernel measures E, so it is part of the key."""
    return tuple((k, v) for k, v in config.items() if k not in PER_RUN and k not in labels) + (config["dropout"] > 0,)


def plan_chunks(experiment, chunk_runs=CHUNK_RUNS):
    """Runs grouped by call key (groups in grid order), each group cut into
    chunks of at most chunk_runs runs, as even as can be (a small last chunk
    would train on few lanes), in (config, seed) order."""
    groups = {}
    for index, config in enumerate(experiment.configs):
        groups.setdefault(call_key(config, experiment.labels), []).append(index)
    chunks, names = [], tuple(experiment.param_names())
    per_run = [tuple(config[k] for k in PER_RUN) for config in experiment.configs]
    for indices in groups.values():
        runs = [(c, s) for c in indices for s in sorted(experiment.seeds)]
        n = -(-len(runs) // chunk_runs)
        for i in range(n):  # sizes differ by one at most
            configs, seeds = zip(*runs[len(runs) * i // n : len(runs) * (i + 1) // n])
            first = experiment.configs[configs[0]]
            chunks.append(
                Chunk(
                    id=len(chunks),
                    settings={k: v for k, v in first.items() if k not in PER_RUN and k not in experiment.labels},
                    hyper=dict(zip(PER_RUN, zip(*(per_run[c] for c in configs)))),
                    configs=configs,
                    seeds=seeds,
                    data=dict(experiment.data),
                    record_every=experiment.record_every,
                    test_set=experiment.test_set,
                    param_names=names,
                )
            )
    return chunks


def run_chunk(chunk, threads=1):
    """Train one chunk. Returns (chunk id, its shard table, seconds in
    train(), error text or None): a failure is reported, not raised, so the
    other chunks go on."""
    start = time.perf_counter()
    try:
        d = datasets.load(chunk.data)
        result = train(
            d.X_train,
            d.T_train,
            list(chunk.seeds),
            X_test=d.X_test if chunk.test_set else None,
            T_test=d.T_test if chunk.test_set else None,
            X_val=d.X_val,
            T_val=d.T_val,
            record_every=chunk.record_every,
            threads=threads,
            **chunk.settings,
            **chunk.hyper,
        )
    except Exception:
        return chunk.id, None, time.perf_counter() - start, traceback.format_exc()
    table = shard_table(chunk.configs, result, chunk.param_names).replace_schema_metadata(
        {LANE_EPOCHS: str(result.lane_epochs).encode()}  # for chunks.csv: the lanes' occupancy
    )
    return chunk.id, table, time.perf_counter() - start, None


@contextlib.contextmanager
def dask_client(scheduler, jobs):
    """A client of the cluster at `scheduler`, or of a local cluster of
    `jobs` single-threaded worker processes."""
    from dask.distributed import Client, LocalCluster  # heavy and optional: only for --backend dask

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # the workers inherit an ignored SIGINT: Ctrl-C reaches them too, but only the driver acts on it
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # silence_logs: a worker still in a kernel when an interrupted sweep closes the cluster logs
        # its lost heartbeat; a task's own failure comes back through its result
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
        )
    finally:
        signal.signal(signal.SIGINT, before)
    with cluster, Client(cluster) as client:
        yield client


def in_flight(jobs):
    """Chunks trained at once: one per worker, or (jobs 1: this process) at most one per numba thread."""
    return thread_count(None) if jobs == 1 else jobs


def side_by_side(n_chunks, jobs):
    """Whether a phase of n_chunks chunks trains them one a numba thread, in
    this process (execute): with jobs 1, enough chunks that no thread idles long."""
    threads = thread_count(None)
    return jobs == 1 and threads > 1 and n_chunks >= SIDE_BY_SIDE * threads


def execute(chunks, jobs, backend, scheduler):
    """Yield run_chunk results as chunks finish, on the chosen backend. Each
    result reaches the driver once, when it is yielded: nothing else holds
    it. Closing the generator (an interrupt) stops the workers."""
    if backend == "dask":
        from dask.distributed import as_completed  # heavy and optional: only for --backend dask

        with dask_client(scheduler, jobs) as client:
            # numba threads: one per worker, set in the task (dask workers do not set it)
            futures = client.map(run_chunk, chunks, threads=1, pure=False)
            ids = {future.key: chunk.id for future, chunk in zip(futures, chunks)}
            pending = as_completed(futures)
            try:
                for future in pending:
                    try:
                        result = future.result()
                    except Exception as error:  # KilledWorker: its worker died on every try (docs/faults.md)
                        result = ids[future.key], None, 0.0, f"{type(error).__name__}: {error}"
                    future.release()  # the cluster forgets it: its memory stays bounded too
                    yield result
            finally:
                client.cancel(list(pending.futures))
        return
    # One process: the chunks side by side, one per numba thread, each call on its thread alone.
    # A kernel releases the GIL, so one chunk's Python overlaps another's kernel, and a call's
    # runs fill its own blocks instead of two half as wide that wait for each other. A phase of
    # fewer chunks (a thread would idle through the last) splits each call's blocks across threads.
    if side_by_side(len(chunks), jobs):
        backend, jobs = "threading", thread_count(None)
    threads = None if jobs == 1 else 1  # several workers: one thread each
    workers = {"initializer": ignore_interrupt} if backend == "loky" else {}
    with parallel_config(backend=backend, **workers):
        results = Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(run_chunk)(chunk, threads) for chunk in chunks
        )
    try:
        for result in results:  # not `yield from`, which would close `results` outside the filter below
            yield result
    finally:
        with warnings.catch_warnings():  # chunks finished but not saved are trained again: no news
            warnings.filterwarnings("ignore", "[0-9]+ tasks have been successfully executed", UserWarning)
            results.close()  # an interrupted sweep: joblib stops its workers


def ignore_interrupt():
    """In a worker process: Ctrl-C reaches the terminal's whole process group,
    but only the driver acts on it (it stops the workers itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C (or SIGTERM): its finished chunks are saved."""

    def __init__(self, saved, n_runs, folder):
        super().__init__(f"{saved} of {n_runs} runs saved in {folder / 'chunks'}; run the same command again to finish")
        self.saved, self.n_runs, self.folder = saved, n_runs, folder


@dataclass
class SweepReport:
    folder: object
    n_runs: int
    ran: int  # runs trained by this call (the rest were done already)
    seconds: float  # wall time of this call, tables written
    train_seconds: float  # of which inside train() (summed over workers)
    write_seconds: float  # of which writing the tables
    failures: list  # (chunk, error text)
    rejected: list = field(default_factory=list)  # (shard path, message): files in chunks/ trained again
    runs: pd.DataFrame | None = None  # the runs table, with keep_runs


def check_options(jobs=1, backend="loky", scheduler=None, chunk_runs=CHUNK_RUNS, tables=FORMATS, names=None):
    """Check the sweep's options (before anything is written). `names` maps
    an option to the name shown (e.g. the command line's --chunk-runs)."""
    names = {
        "jobs": "jobs",
        "chunk_runs": "chunk_runs",
        "backend": "backend",
        "scheduler": "scheduler",
        "tables": "tables",
        **(names or {}),
    }
    if backend not in BACKENDS:
        raise ValueError(f"{names['backend']}: unknown value {backend!r}; allowed: {', '.join(BACKENDS)}")
    check_integer(names["jobs"], jobs, 1)
    check_integer(names["chunk_runs"], chunk_runs, 1)
    if scheduler and backend != "dask":
        raise ValueError(f"{names['scheduler']}: only the dask backend takes a scheduler address")
    unknown = [t for t in tables if t not in FORMATS]
    if unknown or not tables or len(set(tables)) != len(tables):
        raise ValueError(
            f"{names['tables']}: must be one or more of {', '.join(FORMATS)}, each once, "
            f"got {','.join(tables) or 'nothing'}"
        )


def sweep(
    experiment: Experiment,
    out: str | os.PathLike,
    *,
    jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    chunk_runs: int = CHUNK_RUNS,
    tables: Sequence[str] = FORMATS,
    keep_runs: bool = False,
) -> SweepReport:
    """Run every chunk not yet finished in `out`, then write the tables.

    Parameters
    ----------
    experiment : spec.Experiment
    out : path of the results folder
    jobs, backend, scheduler : how the chunks are spread (the tables never depend on it)
    overwrite : replace another experiment's results in `out`
    quiet : no progress bar
    chunk_runs : runs per kernel call
    tables : formats of the tables, among "csv" and "parquet"
    keep_runs : return the runs table in the report too (as the files hold it)

    The disk is not checked here: tune.tune_and_sweep checks its whole plan
    (the rungs and this sweep) before the first writes.

    Returns
    -------
    SweepReport. Raises SweepInterrupted (a KeyboardInterrupt) on Ctrl-C,
    with the finished chunks saved; lock.FolderBusy when another process
    sweeps into `out`; durable.WriteError when a file cannot be written.
    """
    tables = tuple(tables)
    check_options(jobs, backend, scheduler, chunk_runs, tables)
    check_memory(experiment, chunk_runs, in_flight(jobs))
    make_folder(out)
    with hold(out):
        return locked_sweep(experiment, out, jobs, backend, scheduler, overwrite, quiet, chunk_runs, tables, keep_runs)


def settings_frame(experiment):
    """The settings of each configuration as the runs table has them."""
    configs = experiment.config_frame()
    # full batch is written as the training-set size, so the column stays numeric
    configs["batch_size"] = configs["batch_size"].fillna(experiment.data["n_train"])
    return configs


def disk_need(experiment, out, chunk_runs, tables, block):
    """What sweeping `experiment` into `out` still writes (disk.Need): the
    shards not there yet, and every table; `block`: the filesystem's block size."""
    chunks = plan_chunks(experiment, chunk_runs)
    store = Store(out)
    store.key = shard_key(experiment)
    # a shard's name starts with its chunk's id: only those chunks need their name (a hash) made
    names = {path.name for path in store.chunks.glob("chunk-*")} if store.chunks.is_dir() else set()
    ids = {name[: len("chunk-000000")] for name in names}
    todo = [c for c in chunks if f"chunk-{c.id:06d}" not in ids or store.shard(c).name not in names]
    settings = settings_frame(experiment).drop(columns="config")
    records = csvtext.frame_records(settings)
    return sweep_need(experiment, chunks, todo, tables, records, len(settings.columns), block)


def locked_sweep(experiment, out, jobs, backend, scheduler, overwrite, quiet, chunk_runs, tables, keep_runs):
    """sweep() with `out` locked."""
    names = experiment.param_names()  # every network's: a run leaves the others' columns empty
    store = Store(out, shard_schema(names, validation=experiment.data.get("n_val", 0) > 0))
    store.claim(experiment, overwrite, chunk_runs=chunk_runs, tables=list(tables))
    chunks = plan_chunks(experiment, chunk_runs)
    start, ran, train_seconds, write_seconds, failures, rejected = time.perf_counter(), 0, 0.0, 0.0, [], []
    runs = None
    try:
        for attempt in range(2):  # a shard found damaged while consolidating is trained again, once
            todo = [c for c in chunks if not store.is_done(c)]
            for _, message in store.rejected:
                print(f"nn47 sweep: {message}; its chunk is trained again", file=sys.stderr)
            rejected += store.rejected
            store.rejected = []
            seconds, failures = train_chunks(store, experiment, chunks, todo, jobs, backend, scheduler, quiet)
            ran, train_seconds = ran + sum(len(c.seeds) for c in todo), train_seconds + seconds
            if failures:
                break
            configs = settings_frame(experiment)
            writing = time.perf_counter()
            try:
                runs = store.consolidate(chunks, configs, tables, keep_runs)
            except ShardError:
                if attempt:
                    raise
                continue  # is_done names it on the next pass
            write_seconds = time.perf_counter() - writing
            break
    except KeyboardInterrupt:
        store.remove_temporaries()
        saved = sum(len(c.seeds) for c in chunks if store.shard(c).exists())
        raise SweepInterrupted(saved, experiment.n_runs, store.folder) from None
    return SweepReport(
        store.folder,
        experiment.n_runs,
        ran,
        time.perf_counter() - start,
        train_seconds,
        write_seconds,
        failures,
        rejected,
        runs,
    )


class Progress(tqdm):
    # No monitor thread: it would outlive the bar, and `nn47 sweep --analyze` then draws
    # every figure in one process (the analysis forks a drawing process only when alone).
    monitor_interval = 0


def train_chunks(store, experiment, chunks, todo, jobs, backend, scheduler, quiet):
    """Train the chunks in `todo`, saving each shard as it arrives. Returns
    (seconds in train(), failures)."""
    by_id = {c.id: c for c in todo}
    # here, not in each worker: one compilation, announced instead of a bar frozen at 0
    kinds = {(c.settings["dtype"], len(hidden_widths(c.settings["hidden"])) > 1) for c in todo}
    for deep in sorted({deep for _, deep in kinds}):
        compile_kernels({dtype for dtype, d in kinds if d == deep}, say=None if quiet else print, deep=deep)
    failures, seconds = [], 0.0
    with Progress(
        total=experiment.n_runs,
        initial=experiment.n_runs - sum(len(c.seeds) for c in todo),
        unit="run",
        disable=quiet,
        desc=experiment.name,
        smoothing=0.1,
    ) as bar:
        for chunk_id, table, chunk_seconds, error in execute(todo, jobs, backend, scheduler):
            seconds += chunk_seconds
            if error is None:
                store.save_chunk(by_id[chunk_id], table, chunk_seconds)
            else:
                failures.append((by_id[chunk_id], error))
            bar.update(len(by_id[chunk_id].seeds))
    return seconds, failures
