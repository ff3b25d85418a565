"""How fast the engine trains one job compared with other ways to run it
(numpy, PyTorch, JAX), how that scales, and what a start costs.

Speed is reported as sample-steps per second: runs · samples · epochs / seconds
(one forward and backward pass of one sample in one run is one sample-step).
Every timed call follows a one-epoch warm-up call (compilation, caches, thread
pools) and is repeated; tables give the best and the median. Every
implementation starts from the same weights and must end at the engine's
losses (BenchError otherwise), so the numbers compare the same work.
"""

import contextlib
import functools
import importlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from ..model.data import make_dataset
from ..model.initial import initial_params
from ..model.layout import Layout
from ..schema import TRAIN_LOSS
from ..sweep.provenance import cpu_text
from ..training import train
from . import references
from .sizes import FULL, BenchError

# The throughput job: full-batch Adam on sigmoid hidden units, softmax, cross-entropy, mean.
JOB_SETTINGS = dict(optimizer="adam", activation="sigmoid", output="softmax", loss="cross_entropy", reduction="mean")
JOB_LR = 0.01
LOSS_RTOL = 1e-9
# float32 runs of the same job end within float32's accumulated rounding of each other (and of float64)
FLOAT32_LOSS_RTOL = 1e-3
FLOAT32_REFERENCES = ("numpy_batched", "torch_batched", "jax_batched")
MEMORY_EPOCHS = 10  # memory peaks within the first epoch; more epochs would only cost time
# The largest runs per call each reference is timed at: beyond, one call takes too long here.
REFERENCE_MAX_RUNS = {"numpy_loop": 10, "numpy_batched": 1000, "torch_batched": 1000, "jax_batched": 10000}


@functools.cache
def job_data(samples):
    d = make_dataset(n_train=samples, n_test=1, seed=0)
    return d.X_train, d.T_train


def job_params(runs):
    return initial_params(Layout(), "xavier", np.arange(runs))


def train_engine(params0, X, T, epochs, lr, threads=None, dtype=np.float64, settings=JOB_SETTINGS):
    """The job in the engine (or another, by its `settings`), with the references'
    signature and return values."""
    result = train(
        X,
        T,
        np.arange(len(params0)),
        params0=params0,
        lr=lr,
        epochs=epochs,
        record_every=max(epochs, 1),
        threads=threads,
        dtype=np.dtype(dtype).name,
        **settings,
    )
    return result.params, result.columns[TRAIN_LOSS]


def train_engine_processes(params0, X, T, epochs, lr, jobs=2):
    """The job split over `jobs` loky processes with one thread each (as `nn47 sweep --jobs`)."""
    parts = Parallel(n_jobs=jobs, backend="loky")(
        delayed(train_engine)(part, X, T, epochs, lr, threads=1) for part in np.array_split(params0, jobs)
    )
    return np.concatenate([w for w, _ in parts]), np.concatenate([E for _, E in parts])


@contextlib.contextmanager
def one_thread():
    """numpy's BLAS (by threadpoolctl, where installed) and torch (where imported) on
    one thread within. Their pools spin-wait between this job's many small
    operations, so more threads made the same call slower and more variable
    (docs/performance.md has the measurement and its machine)."""
    with contextlib.ExitStack() as stack:
        try:
            import threadpoolctl  # optional (the bench extra): only here

            stack.enter_context(threadpoolctl.threadpool_limits(1))
        except ImportError:
            pass
        torch = sys.modules.get("torch")
        if torch is not None:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, threads)
        yield


def on_one_thread(trainer, library=None):
    """trainer, called within one_thread(), its optional library imported first (so
    that one_thread() finds torch)."""

    @functools.wraps(trainer)
    def call(*args, **kwargs):
        if library:
            importlib.import_module(library)
        with one_thread():
            return trainer(*args, **kwargs)

    return call


# JAX splits the runs over one CPU device per core itself (references.JAX_DEVICES_FLAG).
TRAINERS = {
    "engine": train_engine,
    **{
        name: trainer if name == "jax_batched" else on_one_thread(trainer, references.NEEDS.get(name))
        for name, trainer in references.TRAINERS.items()
    },
}


def implementations():
    """name -> trainer for the engine and every reference whose library imports here."""
    found = references.available()
    return {name: t for name, t in TRAINERS.items() if found.get(name, True)}


@dataclass(frozen=True)
class Timing:
    best: float
    median: float
    loss: np.ndarray
    rounds: tuple = ()  # seconds of each round's call


def throughput_job(runs, samples):
    """(params0, X, T, lr) of the throughput job."""
    return (job_params(runs), *job_data(samples), JOB_LR)


SPREAD = ("engine_speedup_lo", "engine_speedup_median", "engine_speedup_hi")


def round_ratios(timing, engine):
    """(lowest, median, highest) over rounds of timing's call ÷ the engine's in the same round."""
    ratios = np.divide(timing.rounds, engine.rounds)
    return np.array([ratios.min(), np.median(ratios), ratios.max()])


def measure(trainers, runs, epochs, samples, repeats, job=throughput_job):
    """name -> Timing of `repeats` calls of the job (job(runs, samples) -> params0, X, T,
    lr) by each trainer, after a one-epoch warm-up call of each. The calls go in rounds,
    one of each trainer per round, so that a busy spell of a shared machine falls on all
    of them alike rather than on whichever was being timed (one call's time varies from
    minute to minute)."""
    params0, X, T, lr = job(runs, samples)
    for trainer in trainers.values():
        trainer(params0, X, T, 1, lr)
    seconds, losses = {name: [] for name in trainers}, {}
    for _ in range(repeats):
        for name, trainer in trainers.items():
            start = time.perf_counter()
            _, loss = trainer(params0, X, T, epochs, lr)
            seconds[name].append(time.perf_counter() - start)
            losses[name] = np.asarray(loss, dtype=float)
    return {name: Timing(min(s), float(np.median(s)), losses[name], tuple(s)) for name, s in seconds.items()}


def loss_difference(name, loss, engine_loss, rtol=LOSS_RTOL):
    """Largest relative difference of final losses from the engine's; BenchError above rtol."""
    if loss.shape != engine_loss.shape:
        raise BenchError(f"{name}: {loss.shape} final losses, the engine has {engine_loss.shape}")
    difference = float(np.max(np.abs(loss - engine_loss) / np.abs(engine_loss)))
    if not difference <= rtol:  # NaN fails too
        worst = int(np.nanargmax(np.abs(loss - engine_loss))) if np.isfinite(difference) else 0
        raise BenchError(
            f"{name} ended at other losses than the engine: relative difference "
            f"{difference:.3g} > {rtol:g} (run {worst}: {loss[worst]!r} vs {engine_loss[worst]!r})"
        )
    return difference


def compare(study, trainers, runs, epochs, samples, repeats, rtol=LOSS_RTOL, job=throughput_job, base="engine"):
    """Rows of one job trained by each trainer (name -> function; "engine" first), with
    throughput, speed relative to the engine, and a check of the final losses (to rtol).
    Where the engine cannot run the job, `base` names the trainer whose losses the
    others must end at, and the columns relative to the engine are empty."""
    timings = measure(trainers, runs, epochs, samples, repeats, job)
    engine = timings[base]
    relative = 1.0 if base == "engine" else np.nan
    return [
        {
            "study": study,
            "implementation": name,
            "runs": runs,
            "epochs": epochs,
            "samples": samples,
            "repeats": repeats,
            "seconds_best": t.best,
            "seconds_median": t.median,
            "sample_steps_per_s": runs * epochs * samples / t.best,
            "engine_speedup": relative * t.best / engine.best,
            # the spread of the same ratio round by round: one call of a shared machine varies
            **dict(zip(SPREAD, relative * round_ratios(t, engine))),
            "loss_rel_diff": loss_difference(name, t.loss, engine.loss, rtol),
        }
        for name, t in timings.items()
    ]


THROUGHPUT_COLUMNS = [
    "study",
    "implementation",
    "runs",
    "epochs",
    "samples",
    "repeats",
    "seconds_best",
    "seconds_median",
    "sample_steps_per_s",
    "engine_speedup",
    "engine_speedup_lo",
    "engine_speedup_median",
    "engine_speedup_hi",
    "loss_rel_diff",
    "process_s",
    "import_s",
    "first_call_s",
    "rss_after_import_mb",
    "peak_rss_mb",
    "note",
    "cpu",  # vendor, family, model and vector extensions of the machine that measured
]


def throughput_frame(rows):
    counts = {column: "Int64" for column in ("runs", "epochs", "samples", "repeats")}
    return pd.DataFrame(rows, columns=THROUGHPUT_COLUMNS).astype(counts).assign(cpu=cpu_text())


# ---------------------------------------------------------------- fresh-process probes

PROBE = """
import json, sys, time
start = time.perf_counter()
import engine
imported = time.perf_counter()
from engine.bench import throughput
print(json.dumps(throughput.probe(start, imported, *map(int, sys.argv[2:]), name=sys.argv[1])))
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
    TRAINERS[name](job_params(runs), X, T, epochs, JOB_LR)  # imports only what this one needs
    return {
        "import_s": imported - start,
        "first_call_s": time.perf_counter() - call,
        "rss_after_import_mb": rss_after_import,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_probe(study, name, runs, epochs, samples, env=None, note=""):
    """A row measured by `probe` in a fresh Python; process_s is its whole wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, name, str(runs), str(epochs), str(samples)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise BenchError(f"probe of {name} failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "study": study,
        "implementation": name,
        "runs": runs,
        "epochs": epochs,
        "samples": samples,
        "process_s": seconds,
        **measured,
        "note": note,
    }


def start_rows(cold):
    """A tiny engine train in a fresh process, from the warm on-disk cache and,
    if cold, from an empty one (NUMBA_CACHE_DIR pointed at a new folder)."""
    tiny = (1, 10, 32)  # runs, epochs, samples: the smallest real call
    rows = [run_probe("start", "engine", *tiny, note="warm cache: import + first call")]
    if cold:
        with tempfile.TemporaryDirectory() as empty:
            rows.append(
                run_probe(
                    "start",
                    "engine",
                    *tiny,
                    env={"NUMBA_CACHE_DIR": empty},
                    note="cold: empty NUMBA_CACHE_DIR, first call compiles",
                )
            )
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
    shown = pd.DataFrame(
        {
            "best s": speed["seconds_best"].map("{:.3f}".format),
            "median s": speed["seconds_median"].map("{:.3f}".format),
            "sample-steps/s": speed["sample_steps_per_s"].map("{:.3g}".format),
        }
    )
    ratio = speed.loc["numpy_batched", "seconds_best"] / speed.loc["engine", "seconds_best"]
    warm = start["import_s"] + start["first_call_s"]
    return "\n".join(
        [
            f"Kernel benchmark: {runs} runs × {epochs} epochs × {samples} samples, full-batch Adam, sigmoid, "
            f"softmax, cross-entropy, mean, float64; best and median of {speed['repeats'].iloc[0]} calls "
            f"after a warm-up; {numba.get_num_threads()} threads",
            shown.to_string(),
            "",
            f"engine / numpy_batched: {ratio:.1f}× the sample-steps per second",
            f"final losses agree: largest relative difference {speed['loss_rel_diff'].max():.2g} "
            f"(tolerance {LOSS_RTOL:g})",
            f"warm start (fresh Python: import engine + a 1-run, 10-epoch train): {warm:.2f} s "
            f"(import {start['import_s']:.2f} s, first call {start['first_call_s']:.2f} s; the probe's whole "
            f"process, with the benchmark's own imports, {start['process_s']:.2f} s); target < 2 s: "
            f"{'met' if warm < 2 else 'NOT met'}",
        ]
    )


# ---------------------------------------------------------------- throughput benchmark


def float32_trainers(trainers):
    """The job in float32 by the engine ("engine", the reference of the study) and
    each reference that takes it, and the engine in float64 for comparison."""
    in_float32 = {
        name: functools.partial(trainers[name], dtype=np.float32)
        for name in ("engine", *FLOAT32_REFERENCES)
        if name in trainers
    }
    return {**in_float32, "engine, float64": train_engine}


# Each run also costs E at its final weights and a final evaluation (forward
# passes that sample-steps do not count; until this branch, a whole extra
# gradient pass too): at the former floor of 5 epochs that made 100,000 runs
# per call look a third slower than 1,000 runs at 470 epochs.
MIN_EPOCHS = 50


def epochs_for(runs, sizes):
    """Epochs that give a runs-per-call point about sizes.work sample-steps (at least MIN_EPOCHS)."""
    samples = sizes.job[2]
    return int(np.clip(sizes.work // (runs * samples), MIN_EPOCHS, sizes.max_epochs))


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
    rows += compare(
        "parallel",
        {
            "engine": train_engine,
            "engine, 1 thread": functools.partial(train_engine, threads=1),
            "engine, 2 processes × 1 thread": train_engine_processes,
        },
        *sizes.parallel_job,
        sizes.repeats,
    )
    rows += compare("float32", float32_trainers(trainers), *sizes.job, sizes.repeats, rtol=FLOAT32_LOSS_RTOL)
    if "jax_batched" in trainers:  # the engine against JAX in many rounds: the ratio's spread on this machine
        for dtype, rtol in ((np.float64, LOSS_RTOL), (np.float32, FLOAT32_LOSS_RTOL)):
            pair = {name: functools.partial(trainers[name], dtype=dtype) for name in ("engine", "jax_batched")}
            rows += compare(f"rounds {np.dtype(dtype).name}", pair, *sizes.job, sizes.rounds, rtol=rtol)
    rows += start_rows(sizes.cold_compile)
    note = "one call in a fresh process"
    for name in sizes.memory_of or trainers:
        rows.append(run_probe("memory", name, runs, MEMORY_EPOCHS, samples, note=note))
    rows.append(run_probe("memory", "engine", max(sizes.runs_per_call), MEMORY_EPOCHS, samples, note=note))
    return throughput_frame(rows)
