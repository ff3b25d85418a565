"""`nn47 bench scale`: what a sweep and its analysis cost as the runs grow.

The grid of experiments/scale.toml (24 configurations of short runs: at most
200 epochs, curves at the first and last epoch) with as many seeds as make
10^4, 10^5 and 10^6 runs. For each size, in fresh processes: the sweep
(train() seconds, seconds writing the tables, its peak memory), then
`nn47 analyze` (seconds, peak memory), and the bytes on disk per format.
"""

import json
import math
import shutil
import subprocess
import sys
import time

import pandas as pd
from matplotlib.figure import Figure

from ..analysis.figures import DPI
from ..analysis.format import markdown_table
from .sizes import BenchError

# experiments/scale.toml without its seeds (tests/test_bench_scale.py checks they agree)
GRID = """
description = "Scale benchmark: the grid of experiments/scale.toml at RUNS runs."
seeds = SEEDS
record_every = 200

[data]
n_train = 32
n_test = 100

[settings]
epochs = 200
target_loss = 0.02

[factors]
init = ["xavier", "he"]
activation = ["sigmoid", "tanh", "relu"]

[factors.optimizer]
sgd = { lr = 1.0 }
momentum = { lr = 0.3 }
adagrad = { lr = 0.3 }
adam = { lr = 0.03 }
"""
CONFIGS = 24


def grid(seeds):
    """The experiment file of the grid with `seeds` seeds."""
    return GRID.replace("RUNS", f"{seeds * CONFIGS:,}").replace("SEEDS", str(seeds))


SCALE_COLUMNS = [
    "runs",
    "sweep_s",
    "train_s",
    "write_s",
    "sweep_peak_rss_mb",
    "analyze_s",
    "analyze_peak_rss_mb",
    "csv_bytes",
    "parquet_bytes",
    "shard_bytes",
]

# Each step runs in a fresh Python: its peak memory is its own (VmHWM), not the benchmark's.
SWEEP = """
import json, sys, time
from engine.bench.throughput import peak_rss_mb
from engine.sweep import spec
from engine.sweep.driver import sweep
start = time.perf_counter()
report = sweep(spec.load(sys.argv[1]), sys.argv[2], quiet=True, overwrite=True)
assert not report.failures, report.failures
print(json.dumps({"sweep_s": time.perf_counter() - start, "train_s": report.train_seconds,
                  "write_s": report.write_seconds, "sweep_peak_rss_mb": peak_rss_mb()}))
"""
ANALYZE = """
import json, sys, time
from engine.bench.throughput import peak_rss_mb
from engine.analysis.analyze import analyze
start = time.perf_counter()
analyze(sys.argv[1], quiet=True)
print(json.dumps({"analyze_s": time.perf_counter() - start, "analyze_peak_rss_mb": peak_rss_mb()}))
"""


def fresh(script, *args):
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"scale step {' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale_row(target, out):
    """Sweep and analyse the grid at about `target` runs in out/scale-RUNS."""
    seeds = math.ceil(target / CONFIGS)
    runs = seeds * CONFIGS
    folder = out / f"scale-{runs}"
    # a fresh folder each time: a sweep resumes a finished one and would train nothing (train_s = 0)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    experiment = folder.parent / f"scale-{runs}.toml"
    experiment.write_text(grid(seeds))
    tables = ("runs", "curves", "params")
    sweep = fresh(SWEEP, experiment, folder)
    for column in ("train_s", "write_s"):
        if not sweep[column] > 0:  # the table divides by them
            raise BenchError(f"scale: the sweep of {runs:,} runs in {folder} measured {column} = {sweep[column]}")
    return {
        "runs": runs,
        **sweep,
        **fresh(ANALYZE, folder),
        **{f"{f}_bytes": sum((folder / f"{t}.{f}").stat().st_size for t in tables) for f in ("csv", "parquet")},
        "shard_bytes": sum(path.stat().st_size for path in (folder / "chunks").glob("chunk-*")),
    }


def scale_table(out, sizes):
    """One row per size of sizes.scale_runs (columns SCALE_COLUMNS); the
    sweeps' folders go to out/scale-RUNS."""
    rows = []
    for target in sizes.scale_runs:
        start = time.perf_counter()
        rows.append(scale_row(target, out))
        print(f"scale: {rows[-1]['runs']:,} runs in {time.perf_counter() - start:.0f} s")
    return pd.DataFrame(rows, columns=SCALE_COLUMNS)


def scale_figure(table, out, name="scale.png"):
    """Log-log: seconds, peak memory and bytes against runs."""
    fig = Figure(figsize=(14, 4.4), layout="constrained")
    seconds, memory, disk = fig.subplots(1, 3)
    for column, label in (("train_s", "train()"), ("write_s", "writing the tables"), ("analyze_s", "nn47 analyze")):
        seconds.plot(table["runs"], table[column], marker="o", label=label)
    for column, label in (("sweep_peak_rss_mb", "sweep"), ("analyze_peak_rss_mb", "nn47 analyze")):
        memory.plot(table["runs"], table[column], marker="o", label=label)
    for column, label in (
        ("csv_bytes", "CSV tables"),
        ("parquet_bytes", "Parquet tables"),
        ("shard_bytes", "shards (chunks/)"),
    ):
        disk.plot(table["runs"], table[column] / 2**20, marker="o", label=label)
    for ax, ylabel in ((seconds, "seconds"), (memory, "peak RSS, MiB"), (disk, "MiB on disk")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("runs (log scale)")
        ax.set_ylabel(ylabel + " (log scale)")
        ax.legend(fontsize="small")
    fig.savefig(out / name, dpi=DPI)
    return name


def scale_section(table, figure):
    """bench.md's section on the cost of scale."""
    per_run = table.assign(
        sweep_us=1e6 * table["sweep_s"] / table["runs"], analyze_us=1e6 * table["analyze_s"] / table["runs"]
    )
    rows = [
        [
            f"{r.runs:,}",
            f"{r.train_s:.1f}",
            f"{r.write_s:.1f}",
            f"{r.write_s / r.train_s:.0%}",
            f"{r.sweep_us:.0f}",
            f"{r.sweep_peak_rss_mb:.0f}",
            f"{r.analyze_s:.1f}",
            f"{r.analyze_us:.0f}",
            f"{r.analyze_peak_rss_mb:.0f}",
            f"{r.csv_bytes / 2**20:.1f}",
            f"{r.parquet_bytes / 2**20:.1f}",
            f"{r.shard_bytes / 2**20:.1f}",
        ]
        for r in per_run.itertuples()
    ]
    header = [
        "runs",
        "train() s",
        "writing s",
        "writing ÷ train()",
        "sweep µs/run",
        "sweep peak MiB",
        "analyze s",
        "analyze µs/run",
        "analyze peak MiB",
        "CSV MiB",
        "Parquet MiB",
        "shards MiB",
    ]
    return [
        "## The cost of scale",
        "",
        f"The grid of `experiments/scale.toml` ({CONFIGS} configurations: init × activation × optimizer, at "
        "most 200 epochs, curves at the first and last epoch) with as many seeds as give each number of "
        "runs. Each size: `nn47 sweep` (one process, all cores) into a fresh folder, then `nn47 analyze`, "
        "each in a fresh Python process; peak memory is that process's VmHWM. train() s is the time inside "
        "the kernels' wrapper, writing s the time streaming the shards into the CSV and Parquet tables; "
        "sweep µs/run is the sweep's whole wall time per run. A cost that grows linearly has a constant "
        "per-run column.",
        "",
        markdown_table(header, rows),
        "",
        f"![Cost against runs]({figure})",
        "",
        "Table: `scale.csv` (every row above).",
        "",
    ]
