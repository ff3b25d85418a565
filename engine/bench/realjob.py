"""`nn47 bench realjob`: the user's own job at the kernel's speed?

The job is what `make sweep` runs: experiments/default.toml, tuning then the
comparison, trained into a fresh scratch folder each time, then analysed.
Its useful work is Σ epochs_run × n_train over every runs.csv the sweep
writes (each tuning rung's and the comparison's): the sample-steps that moved
a run forward. Its rate per second of sweep is set against the throughput
job's (throughput.py: the engine's own best case) measured in the same run,
before and after the sweep. Lane occupancy is Σ epochs_run ÷ the lane-epochs
computed (chunks.csv: a free lane computes until a run takes it or its
block narrows). Inside train() is the chunks' seconds in train() and their
shards' making (chunks.csv) over the threads that ran them side by side: the
rate there is what the kernels make of the job's own settings (32 samples,
E every epoch, dropout's draws, the test set at curve points); the rest of
the sweep's time is its tables, its disk check and tuning's sampler, and
threads idle at a phase's end. The saturating case (ReLU, He, momentum with
a large step, as tuning once chose) is timed against the throughput job too:
subnormals would slow it. Where JAX is installed, the throughput job at 1, 10
and 100 runs per call is timed against `jax.jit(vmap)` (a few runs fill a few
lanes only).
"""

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.analyze import analyze
from ..model.data import make_dataset
from ..schema import CHUNK_TIMES, EPOCHS_RUN, TUNING_FOLDER, table_file
from ..sweep import spec
from ..sweep.driver import side_by_side
from ..sweep.tune import tune_and_sweep
from ..training import thread_count, train
from .sizes import BenchError
from .throughput import implementations, measure, round_ratios, train_engine

DEFAULT = Path(__file__).parents[2] / "experiments" / "default.toml"
# --quick: a small tuned experiment of the same shape (the numbers mean little)
QUICK_SPEC = """
description = "bench realjob --quick: a small tuned sweep."
seeds = 8

[data]
n_train = 32
n_test = 100
n_val = 100

[settings]
epochs = 200
target_loss = 0.02

[factors]
activation = ["tanh", "relu"]

[factors.optimizer]
momentum = {}
adam = {}

[tune]
factors = ["optimizer", "activation"]
trials = 4
seeds = 4
objective = "ert"
halving = 2
"""
SATURATING = dict(activation="relu", init="he", optimizer="momentum", lr=0.3623, momentum=0.9964)
REALJOB_COLUMNS = ["measure", "value", "unit", "reference", "ratio", "ratio_lo", "ratio_hi"]
FEW_RUNS = (1, 10, 100)


def folders(out):
    """The results folders a tuned sweep into `out` wrote: each rung's, then the comparison's."""
    return sorted((out / TUNING_FOLDER).glob("rung-*")) + [out]


def folder_totals(folder, n_train):
    """(useful sample-steps, useful lane-epochs, computed lane-epochs, wall
    seconds in train()) of one results folder, trained afresh in this process.
    A phase of enough chunks trains one a thread (driver.execute): their
    seconds add up over the threads; a smaller one splits each call across them."""
    epochs = pd.read_csv(folder / table_file("runs", "csv"), usecols=[EPOCHS_RUN])[EPOCHS_RUN].sum()
    chunks = pd.read_csv(folder / CHUNK_TIMES, usecols=["seconds", "lane_epochs"])
    inside = chunks["seconds"].sum() / (thread_count(None) if side_by_side(len(chunks), jobs=1) else 1)
    return int(epochs) * n_train, int(epochs), int(chunks["lane_epochs"].sum()), float(inside)


def throughput_rate(sizes):
    """Sample-steps per second of the throughput job (float64, best call)."""
    runs, epochs, samples = sizes.job
    timing = measure({"engine": train_engine}, runs, epochs, samples, sizes.repeats)["engine"]
    return runs * epochs * samples / timing.best


def saturating_rate(sizes):
    """Useful sample-steps per second of the saturating case at the throughput job's size."""
    runs, epochs, samples = sizes.job
    d = make_dataset(samples, 1, seed=0)
    kw = dict(epochs=epochs, record_every=epochs, **SATURATING)
    train(d.X_train, d.T_train, np.arange(runs), **{**kw, "epochs": 1})  # warm
    best = np.inf
    for _ in range(sizes.repeats):
        start = time.perf_counter()
        result = train(d.X_train, d.T_train, np.arange(runs), **kw)
        best = min(best, time.perf_counter() - start)
    return result.runs[EPOCHS_RUN].sum() * samples / best


def few_runs_rows(sizes):
    """Rows of the throughput job at FEW_RUNS runs per call, engine and JAX in
    sizes.rounds alternate rounds (none without JAX); ratio: JAX's time ÷ the
    engine's, the median over rounds, with the lowest and highest round's (a
    call of a few milliseconds varies by a third on a shared machine)."""
    trainers = implementations()
    if "jax_batched" not in trainers:
        return []
    _, epochs, samples = sizes.job
    rows = []
    for runs in FEW_RUNS:
        pair = {name: trainers[name] for name in ("engine", "jax_batched")}
        timing = measure(pair, runs, epochs, samples, sizes.rounds)
        lo, median, hi = round_ratios(timing["jax_batched"], timing["engine"])
        rate = runs * epochs * samples / timing["engine"].best
        rows.append(
            (
                f"{runs} runs per call",
                rate,
                "sample-steps/s",
                "jax.jit(vmap)",
                float(median),
                float(lo),
                float(hi),
            )
        )
    return rows


def realjob_table(out, sizes):
    """The measures of the real job (see the module notes) as rows of REALJOB_COLUMNS."""
    experiment_path = out / "realjob.toml"
    if sizes.job[0] >= 256:
        if not DEFAULT.exists():
            raise BenchError(f"realjob: {DEFAULT} is missing (the bench runs from a checkout)")
        experiment_path.write_text(DEFAULT.read_text())
    else:
        experiment_path.write_text(QUICK_SPEC)
    experiment = spec.load(experiment_path)
    folder = out / "realjob"
    shutil.rmtree(folder, ignore_errors=True)  # measured afresh: a finished folder would train nothing
    before = throughput_rate(sizes)
    start = time.perf_counter()
    reports = tune_and_sweep(experiment, folder, quiet=True)
    swept = time.perf_counter() - start
    if any(r.failures for r in reports):
        raise BenchError(f"realjob: the sweep into {folder} failed: {reports[-1].failures[0][1]}")
    start = time.perf_counter()
    analyze(folder, quiet=True)
    analysed = time.perf_counter() - start
    after = throughput_rate(sizes)
    reference = max(before, after)
    n_train = experiment.data["n_train"]
    useful, lane_useful, lane_computed, inside = (
        sum(x) for x in zip(*(folder_totals(f, n_train) for f in folders(folder)))
    )
    tuning = sum(r.seconds for r in reports[:-1])
    writing = sum(r.write_seconds for r in reports)
    if swept <= 0 or lane_computed <= 0:
        raise BenchError(f"realjob: the sweep into {folder} took no time or computed nothing")
    saturating = saturating_rate(sizes)
    rows = [
        ("throughput job", reference, "sample-steps/s", "", np.nan),
        ("sweep, useful work", useful / swept, "sample-steps/s", "throughput job", useful / swept / reference),
        ("inside train()", inside / swept, "share of the sweep's time", "", np.nan),
        (
            "useful work inside train()",
            useful / inside,
            "sample-steps/s",
            "throughput job",
            useful / inside / reference,
        ),
        ("lane occupancy", lane_useful / lane_computed, "useful ÷ computed lane-epochs", "", np.nan),
        ("saturating case", saturating, "sample-steps/s", "throughput job", saturating / reference),
        ("tuning", tuning, "s", "", np.nan),
        ("comparison", reports[-1].seconds, "s", "", np.nan),
        ("writing tables", writing, "s", "", np.nan),
        ("analysis", analysed, "s", "", np.nan),
        ("sweep and analysis", swept + analysed, "s", "", np.nan),
        ("throughput job, before and after", after / before, "ratio", "", np.nan),
        *few_runs_rows(sizes),
    ]
    rows = [(*row, *[np.nan] * (len(REALJOB_COLUMNS) - len(row))) for row in rows]  # a short row: no spread
    return pd.DataFrame(rows, columns=REALJOB_COLUMNS)
