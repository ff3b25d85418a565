"""The sweep driver: an experiment's grid × seeds -> chunks -> kernel calls
-> shards -> CSV tables.

A chunk is a set of runs that one kernel call trains: they share every
setting except the per-run numbers (options.HYPER), which the kernel takes
side by side. Chunks are cut from the experiment alone, never from the
number of jobs or the backend, so a run's numbers do not depend on how the
work is spread, and a re-run after a crash finds the same chunk ids.
"""
import contextlib
import functools
import time
import traceback
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..model.data import make_dataset
from ..options import HYPER
from ..training import compile_kernels, train
from .store import Store

BACKENDS = ("loky", "threading", "dask")
CHUNK_RUNS = 512   # runs per kernel call: four blocks of 128 lanes


@dataclass(frozen=True)
class Chunk:
    id: int
    settings: dict          # call-level settings the runs share
    hyper: dict             # per-run numbers: name -> tuple with one value per run
    configs: tuple          # config index of each run
    seeds: tuple            # seed of each run
    data: dict
    record_every: int

    def describe(self):
        return ", ".join(f"{k}={v}" for k, v in self.settings.items()) + f"; configs {sorted(set(self.configs))}"


def call_key(config):
    """What runs must share to be trained in one kernel call. Dropout > 0
    changes how the kernel measures E, so it is part of the key."""
    return tuple((k, v) for k, v in config.items() if k not in HYPER) + (config["dropout"] > 0,)


def plan_chunks(experiment, chunk_runs=CHUNK_RUNS):
    """Runs grouped by call key (groups in grid order), each group cut into
    chunks of at most chunk_runs runs, in (config, seed) order."""
    groups = {}
    for index, config in enumerate(experiment.configs):
        groups.setdefault(call_key(config), []).append(index)
    chunks = []
    for indices in groups.values():
        runs = [(c, s) for c in indices for s in experiment.seeds]
        for start in range(0, len(runs), chunk_runs):
            configs, seeds = zip(*runs[start:start + chunk_runs])
            first = experiment.configs[configs[0]]
            chunks.append(Chunk(
                id=len(chunks),
                settings={k: v for k, v in first.items() if k not in HYPER and k not in experiment.labels},
                hyper={k: tuple(experiment.configs[c][k] for c in configs) for k in HYPER},
                configs=configs, seeds=seeds, data=dict(experiment.data),
                record_every=experiment.record_every))
    return chunks


@functools.lru_cache(maxsize=4)
def dataset(n_train, n_test, flip, noise, seed):
    return make_dataset(n_train, n_test, flip, noise, seed)


def run_chunk(chunk, threads=1):
    """Train one chunk. Returns (chunk id, tables keyed by config and seed,
    seconds in train(), error text or None): a failure is reported, not
    raised, so the other chunks go on."""
    start = time.perf_counter()
    try:
        d = dataset(**chunk.data)
        result = train(d.X_train, d.T_train, list(chunk.seeds), X_test=d.X_test, T_test=d.T_test,
                       record_every=chunk.record_every, threads=threads, **chunk.settings, **chunk.hyper)
    except Exception:
        return chunk.id, None, time.perf_counter() - start, traceback.format_exc()
    seconds = time.perf_counter() - start
    configs = np.array(chunk.configs)
    runs = result.runs
    runs.insert(0, "config", configs)
    curves = result.curves
    curves.insert(0, "config", configs[curves.pop("run").to_numpy()])
    params = pd.DataFrame(result.params, columns=result.layout.names)
    params.insert(0, "seed", np.array(chunk.seeds))
    params.insert(0, "config", configs)
    return chunk.id, {"runs": runs, "curves": curves, "params": params}, seconds, None


@contextlib.contextmanager
def dask_client(scheduler, jobs):
    """A client of the cluster at `scheduler`, or of a local cluster of
    `jobs` single-threaded worker processes."""
    from dask.distributed import Client, LocalCluster   # heavy and optional: only for --backend dask
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


def execute(chunks, jobs, backend, scheduler):
    """Yield run_chunk results as chunks finish, on the chosen backend."""
    if backend == "dask":
        from dask.distributed import as_completed   # as above
        with dask_client(scheduler, jobs) as client:
            # numba threads: one per worker, set in the task (dask workers do not set it)
            futures = client.map(run_chunk, chunks, threads=1, pure=False)
            for future in as_completed(futures):
                yield future.result()
        return
    # one process: numba's threads share out the blocks; several: one thread each
    threads = None if jobs == 1 else 1
    yield from Parallel(n_jobs=jobs, backend=backend, return_as="generator_unordered")(
        delayed(run_chunk)(chunk, threads) for chunk in chunks)


@dataclass
class SweepReport:
    folder: object
    n_runs: int
    ran: int           # runs trained by this call (the rest were done already)
    seconds: float     # wall time of this call, tables written
    train_seconds: float   # of which inside train() (summed over workers)
    write_seconds: float   # of which writing the tables
    failures: list     # (chunk, error text)


def sweep(experiment, out, *, jobs=1, backend="loky", scheduler=None, overwrite=False,
          quiet=False, chunk_runs=CHUNK_RUNS):
    """Run every chunk not yet finished in `out`, then write the tables."""
    if backend not in BACKENDS:
        raise ValueError(f"backend: unknown value {backend!r}; allowed: {', '.join(BACKENDS)}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: must be an integer >= 1, got {jobs!r}")
    if scheduler and backend != "dask":
        raise ValueError("scheduler: only the dask backend takes a scheduler address")
    store = Store(out)
    store.claim(experiment, overwrite)
    chunks = plan_chunks(experiment, chunk_runs)
    todo = [c for c in chunks if not store.is_done(c)]
    by_id = {c.id: c for c in todo}
    # here, not in each worker: one compilation, announced instead of a bar frozen at 0
    compile_kernels({c.settings["dtype"] for c in todo}, say=None if quiet else print)
    failures, start, train_seconds, write_seconds = [], time.perf_counter(), 0.0, 0.0
    with tqdm(total=experiment.n_runs, initial=experiment.n_runs - sum(len(c.seeds) for c in todo),
              unit="run", disable=quiet, desc=experiment.name, smoothing=0.1) as bar:
        for chunk_id, tables, seconds, error in execute(todo, jobs, backend, scheduler):
            train_seconds += seconds
            if error is None:
                store.save_chunk(by_id[chunk_id], tables, seconds)
            else:
                failures.append((by_id[chunk_id], error))
            bar.update(len(by_id[chunk_id].seeds))
    if not failures:
        configs = experiment.config_frame()
        # full batch is written as the training-set size, so the column stays numeric
        configs["batch_size"] = configs["batch_size"].fillna(experiment.data["n_train"])
        writing = time.perf_counter()
        store.consolidate(chunks, configs)
        write_seconds = time.perf_counter() - writing
    return SweepReport(store.folder, experiment.n_runs, sum(len(c.seeds) for c in todo),
                       time.perf_counter() - start, train_seconds, write_seconds, failures)
