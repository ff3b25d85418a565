"""Benchmarks: how fast each optimizer reaches the target on the C/T task, and
how fast the engine trains compared with other ways to run the same job.

    nn47 bench kernel        the kernel against batched numpy on one job; the warm-start cost
    nn47 bench convergence   success and time to ε per optimizer, lr tuned and at its default
    nn47 bench throughput    one job by every implementation; scaling; compile time; memory
    nn47 bench all           convergence and throughput, with bench.md

Speed is reported as sample-steps per second: runs · samples · epochs / seconds
(one forward and backward pass of one sample in one run is one sample-step).
Every timed call follows a one-epoch warm-up call (compilation, caches, thread
pools) and is repeated; tables give the best and the median. Every
implementation starts from the same weights and must end at the engine's
losses (BenchError otherwise), so the numbers compare the same work.
"""
import functools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from . import references
from .analyze import lr_sensitivity, median_ci
from .data import make_dataset
from .init import initial_params
from .layout import Layout
from .store import machine, versions
from .training import train

# ---------------------------------------------------------------- settings

# Learning rates "at their default": the values of Saito's book (Deep Learning
# from Scratch, ch. 6: SGD, Momentum, Nesterov, AdaGrad, RMSprop 0.01, Adam 0.001).
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.01,
              "adam": 0.001}
# Eight rates in 1-3-10 steps (3.5 decades) per optimizer: each holds the default
# and reaches past the rates where runs start to fail (measured on this task).
LR_GRID = {
    "sgd": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "momentum": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "nesterov": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "adagrad": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
    "rmsprop": (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    "adam": (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
}
PROBLEMS = tuple(product(("sigmoid", "tanh", "relu"), ("xavier", "he")))   # (activation, init)
N_TRAIN = 32
# Mean cross-entropy: a misclassified sample has e ≥ log 2, so E < 0.02 with
# n ≤ 34 samples implies 100 % training accuracy (checked anyway).
TARGET = 0.02
PROFILE_TAUS = (1.0, 2.0, 10.0)   # performance-profile points quoted in the tables

# The throughput job: full-batch Adam on sigmoid hidden units, softmax, cross-entropy, mean.
JOB_SETTINGS = dict(optimizer="adam", activation="sigmoid", output="softmax", loss="cross_entropy",
                    reduction="mean")
JOB_LR = 0.01
LOSS_RTOL = 1e-9
MEMORY_EPOCHS = 10   # memory peaks within the first epoch; more epochs would only cost time
# The largest runs per call each reference is timed at: beyond, one call takes too long here.
REFERENCE_MAX_RUNS = {"numpy_loop": 10, "numpy_batched": 1000, "torch_batched": 1000,
                      "jax_batched": 10000}


@dataclass(frozen=True)
class Sizes:
    seeds: int              # convergence: seeds per optimizer × lr × problem
    budget: int             # convergence: epoch budget
    repeats: int            # throughput: timed calls per point
    job: tuple              # throughput: (runs, epochs, samples) every implementation trains
    runs_per_call: tuple    # engine scaling with runs per call ...
    work: float             # ... each point about this many sample-steps,
    max_epochs: int         # ... with at most this many epochs
    epochs: tuple           # engine scaling with epochs, at job's runs and samples
    parallel_job: tuple     # (runs, epochs, samples) for 1 or 2 threads or processes
    cold_compile: bool      # time a compilation from an empty cache (about 30 s)
    memory_of: tuple        # implementations whose peak memory is measured (None: all available)


FULL = Sizes(seeds=50, budget=2000, repeats=3, job=(256, 500, 64),
             runs_per_call=(1, 10, 100, 1000, 10_000, 100_000), work=3e7, max_epochs=5000,
             epochs=(1, 10, 100, 1000, 3000), parallel_job=(512, 500, 64), cold_compile=True,
             memory_of=None)
QUICK = Sizes(seeds=3, budget=300, repeats=1, job=(64, 50, 64), runs_per_call=(1, 100, 1000),
              work=2e6, max_epochs=200, epochs=(1, 10, 50), parallel_job=(128, 50, 64),
              cold_compile=False, memory_of=("engine", "numpy_batched"))


class BenchError(RuntimeError):
    """An implementation ended at other losses than the engine, or a probe failed."""


# ---------------------------------------------------------------- the throughput job

@functools.cache
def job_data(samples):
    d = make_dataset(n_train=samples, n_test=1, seed=0)
    return d.X_train, d.T_train


def job_params(runs):
    return initial_params(Layout(), "xavier", np.arange(runs))


def train_engine(params0, X, T, epochs, lr, threads=None):
    """The job in the engine, with the references' signature and return values."""
    result = train(X, T, np.arange(len(params0)), params0=params0, lr=lr, epochs=epochs,
                   record_every=max(epochs, 1), threads=threads, **JOB_SETTINGS)
    return result.params, result.runs["train_loss"].to_numpy()


def train_engine_processes(params0, X, T, epochs, lr, jobs=2):
    """The job split over `jobs` loky processes with one numba thread each (as `nn47 sweep --jobs`)."""
    parts = Parallel(n_jobs=jobs, backend="loky")(
        delayed(train_engine)(part, X, T, epochs, lr, threads=1) for part in np.array_split(params0, jobs))
    return np.concatenate([w for w, _ in parts]), np.concatenate([E for _, E in parts])


def train_torch_one_thread(params0, X, T, epochs, lr):
    """references' torch_batched on one intra-op thread. With torch's default (one
    per core) its OpenMP threads spin-wait, and on this shared machine the same call
    took anywhere from 0.4 s to 20 s."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return references.train_adam_torch_batched(params0, X, T, epochs, lr)
    finally:
        torch.set_num_threads(threads)


TRAINERS = {"engine": train_engine, **references.TRAINERS, "torch_batched": train_torch_one_thread}


def implementations():
    """name -> trainer for the engine and every reference whose library imports here."""
    found = references.available()
    return {name: t for name, t in TRAINERS.items() if found.get(name, True)}


@dataclass(frozen=True)
class Timing:
    best: float
    median: float
    loss: np.ndarray


def measure(trainer, runs, epochs, samples, repeats):
    """Seconds of `repeats` calls of the job after a one-epoch warm-up call."""
    X, T = job_data(samples)
    params0 = job_params(runs)
    trainer(params0, X, T, 1, JOB_LR)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        _, loss = trainer(params0, X, T, epochs, JOB_LR)
        seconds.append(time.perf_counter() - start)
    return Timing(min(seconds), float(np.median(seconds)), np.asarray(loss, dtype=float))


def loss_difference(name, loss, engine_loss, rtol=LOSS_RTOL):
    """Largest relative difference of final losses from the engine's; BenchError above rtol."""
    if loss.shape != engine_loss.shape:
        raise BenchError(f"{name}: {loss.shape} final losses, the engine has {engine_loss.shape}")
    difference = float(np.max(np.abs(loss - engine_loss) / np.abs(engine_loss)))
    if not difference <= rtol:   # NaN fails too
        worst = int(np.nanargmax(np.abs(loss - engine_loss))) if np.isfinite(difference) else 0
        raise BenchError(f"{name} ended at other losses than the engine: relative difference "
                         f"{difference:.3g} > {rtol:g} (run {worst}: {loss[worst]!r} vs {engine_loss[worst]!r})")
    return difference


def compare(study, trainers, runs, epochs, samples, repeats):
    """Rows of one job trained by each trainer (name -> function; "engine" first), with
    throughput, speed relative to the engine, and a check of the final losses."""
    timings = {name: measure(trainer, runs, epochs, samples, repeats) for name, trainer in trainers.items()}
    engine = timings["engine"]
    return [{"study": study, "implementation": name, "runs": runs, "epochs": epochs, "samples": samples,
             "repeats": repeats, "seconds_best": t.best, "seconds_median": t.median,
             "sample_steps_per_s": runs * epochs * samples / t.best, "engine_speedup": t.best / engine.best,
             "loss_rel_diff": loss_difference(name, t.loss, engine.loss)}
            for name, t in timings.items()]


THROUGHPUT_COLUMNS = ["study", "implementation", "runs", "epochs", "samples", "repeats", "seconds_best",
                      "seconds_median", "sample_steps_per_s", "engine_speedup", "loss_rel_diff", "process_s",
                      "import_s", "first_call_s", "rss_after_import_mb", "peak_rss_mb", "note"]


def throughput_frame(rows):
    counts = {column: "Int64" for column in ("runs", "epochs", "samples", "repeats")}
    return pd.DataFrame(rows, columns=THROUGHPUT_COLUMNS).astype(counts)


# ---------------------------------------------------------------- fresh-process probes

PROBE = """
import json, sys, time
start = time.perf_counter()
import engine
imported = time.perf_counter()
from engine import bench
print(json.dumps(bench.probe(start, imported, *map(int, sys.argv[2:]), name=sys.argv[1])))
"""


def peak_rss_mb():
    """Peak resident memory of this process so far: VmHWM on Linux, where ru_maxrss
    would carry the parent's peak over fork and exec; ru_maxrss (bytes) elsewhere."""
    status = Path("/proc/self/status")
    if status.exists():
        return int(re.search(r"VmHWM:\s*(\d+) kB", status.read_text())[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def probe(start, imported, runs, epochs, samples, name):
    """Run inside a fresh process: the time to import engine, the first call's time
    (compilation or cache loading included, and importing torch or jax), peak memory."""
    rss_after_import = peak_rss_mb()
    X, T = job_data(samples)
    call = time.perf_counter()
    TRAINERS[name](job_params(runs), X, T, epochs, JOB_LR)   # imports only what this one needs
    return {"import_s": imported - start, "first_call_s": time.perf_counter() - call,
            "rss_after_import_mb": rss_after_import, "peak_rss_mb": peak_rss_mb()}


def run_probe(study, name, runs, epochs, samples, env=None, note=""):
    """A row measured by `probe` in a fresh Python; process_s is its whole wall time."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, name, str(runs), str(epochs), str(samples)],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if done.returncode:
        raise BenchError(f"probe of {name} failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {"study": study, "implementation": name, "runs": runs, "epochs": epochs, "samples": samples,
            "process_s": seconds, **measured, "note": note}


def start_rows(cold):
    """A tiny engine train in a fresh process, from the warm on-disk cache and,
    if cold, from an empty one (NUMBA_CACHE_DIR pointed at a new folder)."""
    tiny = (1, 10, N_TRAIN)
    rows = [run_probe("start", "engine", *tiny, note="warm cache: import + first call")]
    if cold:
        with tempfile.TemporaryDirectory() as empty:
            rows.append(run_probe("start", "engine", *tiny, env={"NUMBA_CACHE_DIR": empty},
                                  note="cold: empty NUMBA_CACHE_DIR, first call compiles"))
    return rows


# ---------------------------------------------------------------- kernel benchmark

def kernel_benchmark(sizes=FULL):
    """The engine and batched numpy on sizes.job, and the warm-start cost."""
    trainers = {name: TRAINERS[name] for name in ("engine", "numpy_batched")}
    return throughput_frame(compare("kernel", trainers, *sizes.job, sizes.repeats) + start_rows(cold=False))


def kernel_text(table):
    speed = table[table["study"] == "kernel"].set_index("implementation")
    runs, epochs, samples = speed.iloc[0][["runs", "epochs", "samples"]].astype(int)
    start = table[table["study"] == "start"].iloc[0]
    shown = pd.DataFrame({"best s": speed["seconds_best"].map("{:.3f}".format),
                          "median s": speed["seconds_median"].map("{:.3f}".format),
                          "sample-steps/s": speed["sample_steps_per_s"].map("{:.3g}".format)})
    ratio = speed.loc["numpy_batched", "seconds_best"] / speed.loc["engine", "seconds_best"]
    warm = start["import_s"] + start["first_call_s"]
    return "\n".join([
        f"Kernel benchmark: {runs} runs × {epochs} epochs × {samples} samples, full-batch Adam, sigmoid, "
        f"softmax, cross-entropy, mean, float64; best and median of {speed['repeats'].iloc[0]} calls "
        f"after a warm-up; {numba.get_num_threads()} numba threads",
        shown.to_string(), "",
        f"engine / numpy_batched: {ratio:.1f}× the sample-steps per second",
        f"final losses agree: largest relative difference {speed['loss_rel_diff'].max():.2g} "
        f"(tolerance {LOSS_RTOL:g})",
        f"warm start (fresh Python: import engine + a 1-run, 10-epoch train): {warm:.2f} s "
        f"(import {start['import_s']:.2f} s, first call {start['first_call_s']:.2f} s; the probe's whole "
        f"process, with the benchmark's own imports, {start['process_s']:.2f} s); target < 2 s: "
        f"{'met' if warm < 2 else 'NOT met'}"])


# ---------------------------------------------------------------- throughput benchmark

def epochs_for(runs, sizes):
    """Epochs that give a runs-per-call point about sizes.work sample-steps."""
    samples = sizes.job[2]
    return int(np.clip(sizes.work // (runs * samples), 5, sizes.max_epochs))


def throughput_table(sizes=FULL):
    """Every measurement of the throughput benchmark, one row each (THROUGHPUT_COLUMNS)."""
    trainers = implementations()
    runs, _, samples = sizes.job
    rows = compare("implementations", trainers, *sizes.job, sizes.repeats)
    for n in sizes.runs_per_call:
        timed = {name: t for name, t in trainers.items() if n <= REFERENCE_MAX_RUNS.get(name, np.inf)}
        rows += compare("runs_per_call", timed, n, epochs_for(n, sizes), samples, sizes.repeats)
    for epochs in sizes.epochs:
        rows += compare("epochs", {"engine": train_engine}, runs, epochs, samples, sizes.repeats)
    rows += compare("parallel", {
        "engine": train_engine,
        "engine, 1 thread": functools.partial(train_engine, threads=1),
        "engine, 2 processes × 1 thread": train_engine_processes}, *sizes.parallel_job, sizes.repeats)
    rows.append({"study": "float32", "implementation": "engine",
                 "note": "the engine has no float32 mode yet: every number here is float64"})
    rows += start_rows(sizes.cold_compile)
    note = "one call in a fresh process"
    for name in sizes.memory_of or trainers:
        rows.append(run_probe("memory", name, runs, MEMORY_EPOCHS, samples, note=note))
    rows.append(run_probe("memory", "engine", max(sizes.runs_per_call), MEMORY_EPOCHS, samples, note=note))
    return throughput_frame(rows)


# ---------------------------------------------------------------- convergence benchmark

CONVERGENCE_COLUMNS = ["optimizer", "lr_choice", "lr", "runs", "success_rate", "ert_epochs", "diverged",
                       "epochs_median", "epochs_lo", "epochs_hi", "grad_evals_median", "grad_evals_lo",
                       "grad_evals_hi", *(f"profile_tau_{tau:g}" for tau in PROFILE_TAUS)]


def convergence_runs(sizes=FULL):
    """One row per optimizer × lr × problem × seed; seeds are paired (the same
    initial weights) across optimizers and lrs. success: E < ε and every
    training sample classified right."""
    d = make_dataset(n_train=N_TRAIN, n_test=1, seed=0)
    seeds = np.arange(sizes.seeds)
    frames = []
    for optimizer, grid in LR_GRID.items():
        lr = np.repeat(grid, seeds.size)
        for activation, init in PROBLEMS:
            result = train(d.X_train, d.T_train, np.tile(seeds, len(grid)), init=init, optimizer=optimizer,
                           lr=lr, activation=activation, epochs=sizes.budget, target_loss=TARGET,
                           record_every=sizes.budget)
            frames.append(result.runs.assign(optimizer=optimizer, lr=lr, activation=activation, init=init))
    runs = pd.concat(frames, ignore_index=True)
    runs["optimizer"] = pd.Categorical(runs["optimizer"], categories=list(LR_GRID))
    runs["success"] = runs["converged"] & (runs["train_acc"] == 1)
    runs = runs.assign(epochs=sizes.budget, target_loss=TARGET, n_train=N_TRAIN,
                       default_lr=runs["lr"] == runs["optimizer"].map(DEFAULT_LR).astype(float))
    first = ["optimizer", "lr", "default_lr", "activation", "init", "seed", "success"]
    return runs[first + [c for c in runs.columns if c not in first]]


def as_success(runs):
    """The runs with `converged` meaning success and epochs to ε kept only for
    successes, so the analysis helpers count a run that reached ε but missed a
    sample as never done."""
    return runs.assign(converged=runs["success"],
                       epochs_to_target=runs["epochs_to_target"].where(runs["success"]))


def time_to_target(runs, column):
    """Epochs or gradient evaluations to success; +∞ for runs that never succeeded."""
    return np.where(runs["success"], runs[column].to_numpy(float, na_value=np.nan), np.inf)


def performance_ratios(times):
    """Dolan–Moré ratios t_ps / min_s t_ps for problems (rows) × solvers (columns)
    of positive times; +∞ where a solver failed (t = +∞)."""
    t = np.asarray(times, dtype=float)
    with np.errstate(invalid="ignore"):   # ∞/∞ where every solver failed
        ratios = t / t.min(axis=1, keepdims=True)
    return np.where(np.isfinite(t), ratios, np.inf)


def performance_profile(times, taus):
    """ρ_s(τ): the share of problems that solver s solved within τ × the best
    solver's time. times: DataFrame, problems × solvers; returns taus × solvers."""
    ratios = performance_ratios(times)
    shares = (ratios[None, :, :] <= np.asarray(taus, dtype=float)[:, None, None]).mean(axis=1)
    return pd.DataFrame(shares, index=pd.Index(taus, name="tau"), columns=times.columns)


def expected_running_time(runs, keys):
    """COCO's expected running time per group: all epochs run, by successful and
    failed runs alike, per success (+∞ without one): the epochs it takes to
    succeed once if failed runs are restarted."""
    totals = runs.groupby(keys, observed=True).agg(epochs=("epochs_run", "sum"), successes=("success", "sum"))
    return (totals["epochs"] / totals["successes"]).where(totals["successes"] > 0, np.inf).rename("ert_epochs")


def lr_table_of(runs):
    """Outcomes per optimizer × lr (analyze.lr_sensitivity: `best` is its rule,
    highest success rate, then lowest median epochs), the expected running time,
    and `tuned`: the lr of lowest expected running time. Success rates of the
    good lrs differ by a run or two of hundreds (runs that fail at every lr), so
    ranking by them first picks much slower lrs on that noise."""
    table = lr_sensitivity(as_success(runs)).merge(
        expected_running_time(runs, ["optimizer", "lr"]).reset_index(), on=["optimizer", "lr"])
    fastest = table.sort_values(["ert_epochs", "success_rate"], ascending=[True, False], kind="stable")
    table["tuned"] = table.index.isin(fastest.groupby("optimizer", observed=True).head(1).index)
    return table


def chosen_runs(runs, lr_table, choice):
    """Each optimizer's runs at its tuned or default lr."""
    if choice == "default":
        return runs[runs["default_lr"]]
    tuned = lr_table.loc[lr_table["tuned"], ["optimizer", "lr"]]
    return runs.merge(tuned.astype({"optimizer": runs["optimizer"].dtype}), on=["optimizer", "lr"])


def problem_times(runs):
    """Epochs to success, problems (activation, init, seed) × optimizers."""
    return (runs.assign(t=time_to_target(runs, "epochs_to_target"))
            .pivot_table(index=["activation", "init", "seed"], columns="optimizer", values="t", observed=True))


def convergence_summary(runs, lr_table):
    """Per optimizer at its tuned and at its default lr: success, expected running
    time, time to target in epochs and gradient evaluations (median, bootstrap 95 %
    interval; never = empty),
    and points of the performance profile among the optimizers at the same choice."""
    rows = []
    for choice in ("tuned", "default"):
        chosen = chosen_runs(runs, lr_table, choice)
        profile = performance_profile(problem_times(chosen), PROFILE_TAUS)
        ert = expected_running_time(chosen, "optimizer")
        for optimizer, group in chosen.groupby("optimizer", observed=True):
            row = {"optimizer": optimizer, "lr_choice": choice, "lr": group["lr"].iloc[0], "runs": len(group),
                   "success_rate": group["success"].mean(), "ert_epochs": ert[optimizer],
                   "diverged": int(group["diverged"].sum())}
            for column, name in (("epochs_to_target", "epochs"), ("grad_evals", "grad_evals")):
                median, lo, hi = (np.nan if np.isinf(x) else x for x in median_ci(time_to_target(group, column)))
                row |= {f"{name}_median": median, f"{name}_lo": lo, f"{name}_hi": hi}
            row |= {f"profile_tau_{tau:g}": profile.loc[tau, optimizer] for tau in PROFILE_TAUS}
            rows.append(row)
    return pd.DataFrame(rows, columns=CONVERGENCE_COLUMNS)


def convergence_tables(sizes=FULL):
    runs = convergence_runs(sizes)
    lr_table = lr_table_of(runs)
    return runs, lr_table, convergence_summary(runs, lr_table)


# ---------------------------------------------------------------- bench.md

def convergence_section(runs, lr_table, summary, figures, sizes):
    from .report import epochs_interval, markdown_table, never   # report imports matplotlib: only when writing
    budget = runs["epochs"].iloc[0]
    by_rule = lr_table.set_index("optimizer")
    best, tuned = by_rule[by_rule["best"]], by_rule[by_rule["tuned"]]
    slower = (best["ert_epochs"] / tuned["ert_epochs"]).max()
    gain = (best["success_rate"] - tuned["success_rate"]).max()
    header = ["optimizer", "lr", "runs", "success", "ERT epochs", "diverged", "epochs to target, median [95% CI]",
              "grad evals, median [95% CI]", *(f"profile ρ({tau:g})" for tau in PROFILE_TAUS)]
    tables = []
    for choice, group in summary.groupby("lr_choice", sort=False):
        rows = [[r.optimizer, f"{r.lr:g}", r.runs, f"{r.success_rate:.0%}", never(r.ert_epochs), r.diverged,
                 epochs_interval(r.epochs_median, r.epochs_lo, r.epochs_hi),
                 epochs_interval(r.grad_evals_median, r.grad_evals_lo, r.grad_evals_hi),
                 *(f"{getattr(r, f'profile_tau_{tau:g}'):.0%}" for tau in PROFILE_TAUS)]
                for r in group.itertuples()]
        tables += [f"**Learning rate {choice}**" + (" (the grid's lr of lowest ERT)" if choice == "tuned" else
                                                    " (Saito's book)"), "", markdown_table(header, rows), ""]
    tuned = chosen_runs(runs, lr_table, "tuned")
    per_problem = (tuned.assign(problem=tuned["activation"] + " · " + tuned["init"])
                   .pivot_table(index="optimizer", columns="problem", values="success", observed=True, sort=False))
    grid = "; ".join(f"{o} {', '.join(f'{lr:g}' for lr in g)}" for o, g in LR_GRID.items())
    return [
        "## Optimizer convergence", "",
        f"Each optimizer trains {sizes.seeds} seeds (the same initial weights for every optimizer and lr: "
        f"paired) on each of {len(PROBLEMS)} problems, activation × init "
        f"({', '.join(f'{a} · {i}' for a, i in PROBLEMS)}), at each lr of its grid ({grid}), on the "
        f"noisy C/T training set of {N_TRAIN} images: full batch, mean cross-entropy, softmax outputs, "
        f"at most {budget} epochs. Success: E < ε = {TARGET:g} and 100 % training accuracy (with the "
        f"mean cross-entropy a misclassified sample alone gives E ≥ log 2 / {N_TRAIN} = "
        f"{np.log(2) / N_TRAIN:.4f}, so E < ε implies it; it is checked anyway). Time to target counts "
        f"epochs and gradient evaluations (the same here: one full-batch gradient per epoch); a run that "
        f"never succeeded counts as never, so a median is 'never' unless more than half succeeded; "
        f"intervals are percentile-bootstrap 95 %. ERT, COCO's expected running time, is the epochs run "
        f"by all runs, successful or not, per success: the cost of one success when failed runs are "
        f"restarted. The tuned lr is the grid's lr of lowest ERT (`tuned` in `convergence_lr.csv`; "
        f"`best` there ranks by success rate first, as `nn47 analyze` does: its lrs have up to "
        f"{slower:.3g}× the tuned ERT here, for success rates that differ by "
        f"{gain:.1%} at most). ρ(τ) is the Dolan–Moré performance profile among "
        f"the six optimizers at the same lr choice: the share of (problem, seed) pairs on which the "
        f"optimizer succeeded within τ × the fastest optimizer's epochs (ρ(1): it was the fastest).", "",
        *tables,
        "**Success rate per problem at the tuned lr**", "",
        markdown_table(["optimizer", *per_problem.columns],
                       [[o, *(f"{v:.0%}" for v in values)] for o, values in per_problem.iterrows()]), "",
        *(f"![{caption}]({name})" for name, caption in figures.items()), "",
        "Tables: `convergence.csv` (the rows above), `convergence_lr.csv` (every optimizer × lr, "
        "pooled over problems and seeds), `convergence_runs.csv` (every run).", ""]


def throughput_section(table, figure, sizes):
    from .report import markdown_table, num
    def rows_of(study):
        return table[table["study"] == study]

    def speed_rows(study):
        return [[r.implementation, r.runs, r.epochs, f"{r.seconds_best:.3f}", f"{r.seconds_median:.3f}",
                 f"{r.sample_steps_per_s:.3g}", f"{r.engine_speedup:.3g}", f"{r.loss_rel_diff:.1e}"]
                for r in rows_of(study).itertuples()]

    speed_header = ["implementation", "runs", "epochs", "best s", "median s", "sample-steps/s",
                    "time ÷ engine's", "loss rel. diff."]
    runs, epochs, samples = sizes.job
    scaling = rows_of("runs_per_call").pivot(index="runs", columns="implementation", values="sample_steps_per_s")
    scaling = scaling[rows_of("runs_per_call")["implementation"].unique()]
    probe_header = ["study", "implementation", "runs", "epochs", "process s", "import s", "first call s",
                    "RSS after import MiB", "peak RSS MiB", "note"]
    probes = [[r.study, r.implementation, r.runs, r.epochs, f"{r.process_s:.2f}", f"{r.import_s:.2f}",
               f"{r.first_call_s:.2f}", f"{r.rss_after_import_mb:.0f}", f"{r.peak_rss_mb:.0f}", r.note]
              for r in table[table["study"].isin(["start", "memory"])].itertuples()]
    absent = [name for name, ok in references.available().items() if not ok]
    return [
        "## Engine throughput", "",
        f"The job: {runs} runs × {epochs} epochs × {samples} samples of full-batch Adam (lr {JOB_LR:g}), "
        f"sigmoid hidden units, softmax, cross-entropy, mean, float64, every run from its own Xavier "
        f"weights. Implementations: the engine's kernel ({numba.get_num_threads()} numba threads); "
        f"`engine.references`: plain numpy batched across runs, numpy one run at a time, PyTorch "
        f"batched with the gradient written out, and `jax.jit(jax.vmap(...))`, the last two where "
        f"installed. numpy runs on OpenBLAS's default threads, torch on one thread: the threads of "
        f"both spin-wait, and on this shared machine the batched job took 0.35–3.8 s in numpy between "
        f"runs of this benchmark, and 0.4–20 s in torch on its default threads"
        + (f" (not installed here: {', '.join(absent)})" if absent else "") + ". "
        f"Sample-steps/s = runs · samples · epochs / best seconds; 'time ÷ engine's' is the best time "
        f"over the engine's on the same job; every implementation must end at the engine's final losses "
        f"(largest relative difference shown; the benchmark stops above {LOSS_RTOL:g}). Each point: a "
        f"one-epoch warm-up call, then the best and median of {sizes.repeats} calls, all in one process.", "",
        "**The same job, every implementation**", "", markdown_table(speed_header, speed_rows("implementations")),
        "",
        "**Scaling with runs per call** (sample-steps/s; epochs chosen so that a point is about "
        f"{sizes.work:.0e} sample-steps, at most {sizes.max_epochs}; references only up to "
        + ", ".join(f"{n} {m:,}" for n, m in REFERENCE_MAX_RUNS.items()) + " runs: beyond, a call takes "
        "too long here)", "",
        markdown_table(["runs", *scaling.columns],
                       [[f"{n:,}", *(num(v) for v in row)] for n, row in scaling.iterrows()]), "",
        "**Scaling with epochs** (engine; the per-call cost shows at few epochs)", "",
        markdown_table(speed_header, speed_rows("epochs")), "",
        f"**Jobs**: the same runs in one process with {numba.get_num_threads()} numba threads (engine) or 1, "
        "or split over 2 loky processes with 1 thread each", "",
        markdown_table(speed_header, speed_rows("parallel")), "",
        "**float32**: " + rows_of("float32")["note"].iloc[0] + ".", "",
        "**Start-up, compilation and peak memory**, each in a fresh Python process: process s is the whole "
        "process from the parent's side, import s the time to import the engine, first call s the first "
        "training call (numba compilation or loading its cache; importing torch or jax and JAX's "
        "compilation for the references), memory the process's peak resident set size "
        "(VmHWM of `/proc/self/status`), after the imports and at the end. Target for a warm start: "
        "under 2 s" + ("" if sizes.cold_compile else "; the cold compilation is skipped in --quick mode")
        + ".", "", markdown_table(probe_header, probes), "",
        f"![Throughput]({figure})", "", "Table: `throughput.csv` (every row above).", ""]


def write_markdown(path, sections, command):
    info = machine()
    lines = ["# Benchmarks", "",
             f"Produced by `{command}` on {info['platform']} ({info['processor']}, {info['cpus']} CPUs); "
             + ", ".join(f"{k} {v}" for k, v in versions().items() if v) + ".", "",
             "Other work on the machine makes timings vary between calls and between runs: tables "
             "show the best and the median; the Jobs table shows how many cores this run had.", ""]
    path.write_text("\n".join(lines + [line for section in sections for line in section]), encoding="utf-8")


# ---------------------------------------------------------------- command line

def run_convergence(out, sizes):
    from . import bench_plots
    runs, lr_table, summary = convergence_tables(sizes)
    runs.to_csv(out / "convergence_runs.csv", index=False)
    lr_table.to_csv(out / "convergence_lr.csv", index=False, float_format="%.6g")
    summary.to_csv(out / "convergence.csv", index=False, float_format="%.6g")
    figures = bench_plots.convergence_figures(runs, lr_table, out)
    tuned = ", ".join(f"{r.optimizer} {r.lr:g} ({r.success_rate:.0%})"
                      for r in summary[summary["lr_choice"] == "tuned"].itertuples())
    print(f"convergence: {len(runs)} runs; tuned lr (success): {tuned}")
    return convergence_section(runs, lr_table, summary, figures, sizes)


def run_throughput(out, sizes):
    from . import bench_plots
    table = throughput_table(sizes)
    table.to_csv(out / "throughput.csv", index=False, float_format="%.6g")
    figure = bench_plots.throughput_figure(table, out)
    main = table[table["study"] == "implementations"]
    print("throughput (sample-steps/s): " + ", ".join(
        f"{r.implementation} {r.sample_steps_per_s:.3g}" for r in main.itertuples()))
    return throughput_section(table, figure, sizes)


STUDIES = {"convergence": run_convergence, "throughput": run_throughput}


def cmd_bench(args):
    sizes = QUICK if args.quick else FULL
    command = "nn47 bench " + args.what + (" --quick" if args.quick else "")
    try:
        if args.what == "kernel":
            print(kernel_text(kernel_benchmark(sizes)))
            return 0
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        sections = []
        for name, run in STUDIES.items():
            if args.what in (name, "all"):
                start = time.perf_counter()
                sections.append(run(out, sizes))
                print(f"{name}: {time.perf_counter() - start:.0f} s")
    except BenchError as error:
        print(f"nn47 bench: {error}", file=sys.stderr)
        return 1
    if args.what == "all":   # bench.md holds both studies; one alone leaves it as it was
        write_markdown(out / "bench.md", sections, command)
        print(f"wrote {out / 'bench.md'}")
    return 0
