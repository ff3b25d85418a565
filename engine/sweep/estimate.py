"""`nn47 sweep --dry-run`: what an experiment file will cost, before it runs.

Counted from the file: configurations, runs, tuning trials and runs, and the
sample-steps of every run trained to its epoch budget (an upper bound: runs
that reach ε stop sooner). Time is that work at the rate of a short
calibration call on this machine (the first configuration, LANES runs, a few
epochs), memory is what one chunk's arrays hold, disk what the CSV tables
take (Parquet is smaller). Nothing is written.
"""

import time

import numpy as np

from ..kernels.entry import LANES
from ..model import datasets
from ..training import train
from .limits import chunk_bytes
from .search import rung_epochs, rungs

CALIBRATION_EPOCHS = 100
CSV_BYTES = {"run": 300, "parameter": 22, "point": 90}  # typical bytes per row or number in the CSV tables


def tuning_runs(experiment):
    """(trials in all rungs, runs, sample-steps at most) of the [tune] section, zeros without one."""
    tune = experiment.tune
    if tune is None:
        return 0, 0, 0
    trials = runs = steps = 0
    n_train = experiment.data["n_train"]
    for keep, fraction in rungs(tune.trials, tune.halving):
        for group in tune.groups:
            trials += keep
            for c in group.configs:
                epochs = rung_epochs(experiment.configs[c]["epochs"], fraction)
                runs += keep * len(tune.seeds)
                steps += keep * len(tune.seeds) * epochs * n_train
    return trials, runs, steps


def calibrate(experiment):
    """Sample-steps per second of one call of LANES runs of the first configuration."""
    config = experiment.configs[0]
    d = datasets.load(experiment.data)
    settings = {k: v for k, v in config.items() if k not in experiment.labels}
    settings.update(epochs=min(CALIBRATION_EPOCHS, settings["epochs"]), target_loss=None)
    seeds = np.arange(LANES)
    train(d.X_train, d.T_train, seeds[:1], **{**settings, "epochs": 1})  # load the kernels first
    start = time.perf_counter()
    train(
        d.X_train, d.T_train, seeds, X_test=d.X_test, T_test=d.T_test, record_every=experiment.record_every, **settings
    )
    return LANES * settings["epochs"] * experiment.data["n_train"] / (time.perf_counter() - start)


def dry_run(experiment, chunk_runs, rate=None):
    """The lines `nn47 sweep --dry-run` prints; `rate`: sample-steps/s (calibrated when None)."""
    n_train, seeds = experiment.data["n_train"], len(experiment.seeds)
    epochs = [config["epochs"] for config in experiment.configs]
    steps = seeds * n_train * sum(epochs)
    trials, tuning, tuning_steps = tuning_runs(experiment)
    rate = calibrate(experiment) if rate is None else rate
    points = sum(e // experiment.record_every + 2 for e in epochs) * seeds  # curve points at most
    P = len(experiment.param_names())  # the params table's columns: every network's
    chunk = chunk_bytes(experiment, chunk_runs)
    disk = experiment.n_runs * (CSV_BYTES["run"] + P * CSV_BYTES["parameter"]) + points * CSV_BYTES["point"]
    lines = [
        f"{experiment.path}: {len(experiment.configs):,} configurations × {seeds:,} seeds = "
        f"{experiment.n_runs:,} runs, at most {max(epochs):,} epochs each",
    ]
    if experiment.tune is not None:
        lines.append(
            f"tuning: {trials:,} trials over {len(experiment.tune.groups)} group(s), {tuning:,} runs "
            f"on {len(experiment.tune.seeds)} tuning seeds"
        )
    lines += [
        f"work at most: {steps + tuning_steps:.3g} sample-steps (every run to its epoch budget; "
        "runs that reach ε stop sooner)",
        f"time at most: {(steps + tuning_steps) / rate:,.0f} s at {rate:.3g} sample-steps/s "
        "(a calibration call on this machine)",
        f"memory: about {chunk / 2**20:,.1f} MiB of arrays per chunk of {chunk_runs:,} runs "
        "(fewer runs per chunk: --chunk-runs; fewer curve points: record_every)",
        f"disk: about {disk / 2**20:,.1f} MiB of CSV tables (Parquet is smaller; --tables picks the formats)",
        "nothing was written",
    ]
    return lines
