"""Tuning before the comparison: an experiment with a [tune] section first
runs its trials, then the comparison with each tuned combination at the
settings its best trial found.

Each rung of the search is an ordinary sweep (driver.sweep) of a derived
experiment into `OUT/tuning/rung-K`: every trial × configuration of its
combination × tuning seed, trials side by side in the kernel calls (trials
differ only in per-run numbers). So tuning inherits the sweep's crash safety
(a killed run resumes from its finished chunks), its determinism across
jobs, backends and chunking, and its checks. Successive halving makes one
rung per budget: the best 1/η of a rung's trials go on with η× the epochs.

    OUT/tuning.csv        every trial at every rung: its settings, objective and rank
    OUT/tuning/rung-K/    the sweep of rung K (runs.csv ...)
    OUT/manifest.json     "tuning": the protocol and the settings chosen
"""

import dataclasses
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..schema import CHOSEN, CONVERGED, EPOCHS_RUN, FORMATS, TUNING_FOLDER, TUNING_TABLE, VAL_ACC, VAL_LOSS
from . import driver
from .disk import Need, check_disk, free_space
from .durable import make_folder
from .limits import check_memory
from .lock import hold
from .search import order, rung_epochs, rungs, samples, survivors
from .store import CHUNK_RUNS, Store, write_atomic


def tune_and_sweep(experiment, out, *, overwrite=False, **options):
    """Tune (if the experiment has a [tune] section), then run the comparison.

    Parameters
    ----------
    experiment : spec.Experiment
    out : path of the results folder
    overwrite, **options : as driver.sweep (jobs, backend, scheduler, quiet, chunk_runs, tables, keep_runs)

    Returns
    -------
    list of driver.SweepReport: one per tuning rung, then the comparison's;
    it stops at the first sweep with failed chunks (run again to finish).
    Before anything is written, a ValueError refuses a plan whose chunks
    would not fit in memory or whose files would not fit on the disk even
    if every run stopped at once (engine.sweep.disk); a note on stderr says
    when they would not if every run trained to its epoch budget.
    """
    out = Path(out)
    chunk_runs = options.get("chunk_runs", CHUNK_RUNS)
    # before the folder is made; a rung's epochs are at most the comparison's
    check_memory(experiment, chunk_runs, driver.in_flight(options.get("jobs", 1)))
    free, block = free_space(out)  # and the disk, for the rungs and the comparison
    need = disk_need(experiment, out, chunk_runs, tuple(options.get("tables", FORMATS)), block)
    note = check_disk(experiment, out, need, free)
    if note:
        print(f"nn47 sweep: {note}", file=sys.stderr)
    make_folder(out)
    with hold(out):  # the rungs and the comparison sweep inside it
        return locked_sweep(experiment, out, overwrite, options)


def disk_need(experiment, out, chunk_runs, tables, block):
    """What tuning and sweeping `experiment` into `out` still writes
    (disk.Need). Which trials go on is known only as the rungs end, so each
    rung is counted with its first trials (the same sizes) and the comparison
    at the first trial's settings: a resumed tuned sweep counts the shards of
    its later rungs and of its comparison whole."""
    if experiment.tune is None:
        return driver.disk_need(experiment, out, chunk_runs, tables, block)
    out, tune, need = Path(out), experiment.tune, Need(0, 0, 0)
    points = [samples(group.space, tune.trials, tune.sampler_seed, g) for g, group in enumerate(tune.groups)]
    for k, (keep, fraction) in enumerate(rungs(tune.trials, tune.halving)):
        rung = rung_experiment(experiment, points, [list(range(keep))] * len(tune.groups), k, fraction)
        need += driver.disk_need(rung, out / TUNING_FOLDER / f"rung-{k}", chunk_runs, ("csv",), block)
    configs = list(experiment.configs)
    for g, group in enumerate(tune.groups):
        for c in group.configs:
            configs[c] = {**configs[c], **trial_settings(points, g, 0)}
    final = dataclasses.replace(experiment, configs=tuple(configs))
    return need + driver.disk_need(final, out, chunk_runs, tables, block)


def locked_sweep(experiment, out, overwrite, options):
    """sweep() with `out` locked."""
    if experiment.tune is None:
        report = driver.sweep(experiment, out, overwrite=overwrite, **options)
        if not report.failures:  # a folder overwritten by an untuned experiment keeps no old tuning
            (out / TUNING_TABLE).unlink(missing_ok=True)
            shutil.rmtree(out / TUNING_FOLDER, ignore_errors=True)
        return [report]
    Store(out).claim(experiment, overwrite)  # refuse another experiment's folder before any training
    reports, trials, objectives = [], None, None
    tune = experiment.tune
    points = [samples(group.space, tune.trials, tune.sampler_seed, g) for g, group in enumerate(tune.groups)]
    table = []
    for k, (keep, fraction) in enumerate(rungs(tune.trials, tune.halving)):
        trials = (
            [list(range(tune.trials))] * len(tune.groups)
            if trials is None
            else [
                survivors(alive, objective, keep, tune.higher_is_better) for alive, objective in zip(trials, objectives)
            ]
        )
        rung = rung_experiment(experiment, points, trials, k, fraction)
        # a rung's record is its CSV, whatever formats the comparison writes
        rung_options = {**options, "tables": ("csv",), "keep_runs": True}
        reports.append(driver.sweep(rung, out / TUNING_FOLDER / f"rung-{k}", overwrite=overwrite, **rung_options))
        if reports[-1].failures:
            return reports
        mine = list(trial_runs(reports[-1].runs, trials, tune))  # sorted and sliced once a rung
        objectives = trial_objectives(mine, tune)
        table += trial_rows(experiment, points, trials, objectives, k, rung, mine)
    settings = list(dict.fromkeys(key for group in tune.groups for key in group.space))
    table = pd.DataFrame(table)
    table = table[
        [
            "group",
            *tune.factors,
            "trial",
            "rung",
            "epochs",
            *settings,
            *table.columns.drop(["group", *tune.factors, "trial", "rung", "epochs", *settings]),
        ]
    ]
    chosen = {g: trials[g][order(objectives[g], tune.higher_is_better)[0]] for g in range(len(tune.groups))}
    table[CHOSEN] = (table["rung"] == k) & (table["trial"] == table["group"].map(chosen))
    write_atomic(out / TUNING_TABLE, lambda tmp: table.to_csv(tmp, index=False))
    for folder in (out / TUNING_FOLDER).glob("rung-*"):  # rungs left by an overwritten experiment
        if folder.name not in {f"rung-{i}" for i in range(k + 1)}:
            shutil.rmtree(folder)
    final = tuned_experiment(experiment, points, chosen, table)
    reports.append(driver.sweep(final, out, overwrite=overwrite, **options))
    return reports


def trial_settings(points, g, t):
    return {key: float(values[t]) for key, values in points[g].items()}


def rung_experiment(experiment, points, trials, k, fraction):
    """The sweep of rung k: for each group, each trial alive, each of the
    group's configurations with the trial's settings and the rung's epochs,
    on the tuning seeds. Its hash names the experiment, the rung and its trials."""
    tune = experiment.tune
    configs = []
    for g, group in enumerate(tune.groups):
        for t in trials[g]:
            for c in group.configs:
                config = experiment.configs[c]
                configs.append(
                    {**config, **trial_settings(points, g, t), "epochs": rung_epochs(config["epochs"], fraction)}
                )
    epochs = max(config["epochs"] for config in configs)
    key = repr((experiment.sha256, k, fraction, trials))
    return dataclasses.replace(
        experiment,
        name=f"{experiment.name}-tuning-rung-{k}",
        seeds=tune.seeds,
        sha256=hashlib.sha256(key.encode()).hexdigest(),
        configs=tuple(configs),
        record_every=epochs,
        tune=None,
        tuning=None,
        test_set=False,
        params=False,
    )  # curves: the first and last epoch only


def objective_of(runs, objective):
    """A trial's objective over its runs (a table, or columns by name): expected
    running time to ε (all epochs run, by every run, per run that reached ε:
    +∞ without one), the median validation loss (a diverged run counts as +∞),
    or the mean validation accuracy (a diverged run counts as 0)."""
    if objective == "ert":
        successes = np.asarray(runs[CONVERGED]).sum()
        return np.asarray(runs[EPOCHS_RUN]).sum() / successes if successes else np.inf
    if objective == VAL_LOSS:
        loss = np.asarray(runs[VAL_LOSS])
        return float(np.median(np.where(np.isnan(loss), np.inf, loss)))
    accuracy = np.asarray(runs[VAL_ACC])
    return float(np.where(np.isnan(accuracy), 0.0, accuracy).mean())


def trial_slices(trials, tune):
    """(group, trial, first config, last config + 1) in the rung's config order."""
    start = 0
    for g, group in enumerate(tune.groups):
        for t in trials[g]:
            yield g, t, start, start + len(group.configs)
            start += len(group.configs)


def trial_runs(runs, trials, tune):
    """(group, trial, its runs: the columns the objectives read, by name) in the
    rung's config order. The runs are sorted by config once and sliced as arrays:
    a mask over every run per trial took seconds on default.toml's first rung
    (486 trials, 46,656 runs), pandas slices a tenth of a second."""
    runs = runs.sort_values("config", kind="stable")  # keeps each config's runs in their order
    columns = {c: runs[c].to_numpy() for c in (CONVERGED, EPOCHS_RUN, VAL_LOSS, VAL_ACC) if c in runs}
    slices = list(trial_slices(trials, tune))
    edges = np.searchsorted(runs["config"].to_numpy(), [(first, stop) for *_, first, stop in slices])
    for (g, t, _, _), (lo, hi) in zip(slices, edges):
        yield g, t, {c: x[lo:hi] for c, x in columns.items()}


def trial_objectives(mine, tune):
    """Per group, the objective of each trial alive, in `trials` order (mine: trial_runs')."""
    objectives = [[] for _ in tune.groups]
    for g, _, runs in mine:
        objectives[g].append(objective_of(runs, tune.objective))
    return [np.array(x) for x in objectives]


def trial_rows(experiment, points, trials, objectives, k, rung, mine):
    """tuning.csv's rows of rung k: one per trial alive, ranked within its
    group, with the share of its runs (mine: trial_runs') that reached ε."""
    tune = experiment.tune
    reached = {(g, t): float(runs[CONVERGED].mean()) for g, t, runs in mine}
    ranks = [np.empty(len(x), int) for x in objectives]
    for g, x in enumerate(objectives):
        ranks[g][order(x, tune.higher_is_better)] = np.arange(1, len(x) + 1)
    rows = []
    position = [0] * len(tune.groups)
    for g, t, first, _ in trial_slices(trials, tune):
        i = position[g]
        position[g] += 1
        rows.append(
            {
                "group": g,
                **dict(tune.groups[g].levels),
                "trial": t,
                "rung": k,
                "epochs": rung.configs[first]["epochs"],
                **trial_settings(points, g, t),
                "objective": tune.objective,
                "value": objectives[g][i],
                "rank": int(ranks[g][i]),
                "reached": reached[(g, t)],
            }
        )
    return rows


def tuned_experiment(experiment, points, chosen, table):
    """The comparison: every configuration of a group at its chosen trial's
    settings; the manifest's `tuning` records the protocol and the choices."""
    tune = experiment.tune
    configs = list(experiment.configs)
    groups = []
    for g, group in enumerate(tune.groups):
        settings = trial_settings(points, g, chosen[g])
        for c in group.configs:
            configs[c] = {**configs[c], **settings}
        best = table[(table["group"] == g) & table["chosen"]].iloc[0]
        groups.append(
            {
                "levels": dict(group.levels),
                "configs": list(group.configs),
                "space": {key: [r.scale, r.low, r.high] for key, r in group.space.items()},
                "trial": int(chosen[g]),
                "chosen": settings,
                "value": float(best["value"]),
            }
        )
    tuning = {
        "method": "scrambled Sobol random search"
        + (f" with successive halving (η = {tune.halving})" if tune.halving else ""),
        "factors": list(tune.factors),
        "trials": tune.trials,
        "objective": tune.objective,
        "halving": tune.halving,
        "rungs": [list(rung) for rung in rungs(tune.trials, tune.halving)],
        "sampler_seed": tune.sampler_seed,
        "seeds": list(tune.seeds),
        "evaluation_seeds": list(experiment.seeds),
        "groups": groups,
    }
    return dataclasses.replace(experiment, configs=tuple(configs), tuning=tuning)
