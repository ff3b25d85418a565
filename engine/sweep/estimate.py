"""`nn47 sweep --dry-run`: what an experiment file will cost, before it runs.

Counted from the file: configurations, runs, tuning trials and runs, and the
sample-steps of every run trained to its epoch budget (an upper bound: runs
that reach ε stop sooner). Time is that work at the rate of a short
calibration call on this machine (the first configuration, LANES runs, a few
epochs), memory is what one chunk's arrays hold, disk what the sweep still
writes into its folder (engine.sweep.disk, the estimate a sweep checks
before it starts) against the free space there. Nothing is written.
"""

import time

import numpy as np

from ..kernels.entry import LANES
from ..model import datasets
from ..training import train
from .disk import check_disk, free_space
from .durable import amount
from .limits import chunk_bytes
from .search import rung_epochs, rungs
from .tune import disk_need

CALIBRATION_EPOCHS = 100


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


def dry_run(experiment, chunk_runs, out, tables, rate=None):
    """The lines `nn47 sweep --dry-run` prints for a sweep into `out` in
    `tables`' formats; `rate`: sample-steps/s (calibrated when None)."""
    n_train, seeds = experiment.data["n_train"], len(experiment.seeds)
    epochs = [config["epochs"] for config in experiment.configs]
    steps = seeds * n_train * sum(epochs)
    trials, tuning, tuning_steps = tuning_runs(experiment)
    rate = calibrate(experiment) if rate is None else rate
    chunk = chunk_bytes(experiment, chunk_runs)
    free, block = free_space(out)
    need = disk_need(experiment, out, chunk_runs, tables, block)
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
        f"disk: {amount(need.least)} (every run stopping at once) to {amount(need.most)} (every run to its "
        f"epoch budget, {amount(need.curves)} of it learning curves) still to write into {out}, "
        f"{amount(free)} free there (fewer curve points: record_every; one format: --tables)",
        disk_verdict(experiment, out, need, free),
        "nothing was written",
    ]
    return lines


def disk_verdict(experiment, out, need, free):
    """What the sweep's own disk check would say."""
    try:
        note = check_disk(experiment, out, need, free)
    except ValueError:
        return "the sweep would be refused before writing anything: even its least does not fit"
    return "the sweep may fill the disk: its most does not fit" if note else "the sweep fits"
