"""What reaching ε costs, in three units: epochs (what the ranking counts
unless the experiment file's `[analysis] cost` names another unit),
updates (grad_evals: one per mini-batch step) and sample-gradients (one per
training image per epoch: the kernel checks ε at the end of an epoch and
every epoch passes each training image once, so epochs × n_train). A run
that never reached ε costs +∞ ("never") in every unit, as in the tables.

With a fixed training set the sample-gradients are the epochs times one
constant, so they rank configurations exactly as epochs do; only updates
rank differently, where the batch size varies."""

import numpy as np
import pandas as pd

from ..schema import CONVERGED, EPOCHS_RUN, EPOCHS_TO_TARGET, GRAD_EVALS
from .stats import UNITS, median_ci, run_costs
from .tables import paired_values, ranked


def cost_table(runs, factors, summary):
    """One row per configuration in summary's rank order: its factor levels
    and, per unit, the median cost to ε with its order-statistic 95 %
    interval (empty: never, as in the other tables)."""
    costs = run_costs(runs)
    rows = []
    for config in ranked(summary.drop(columns="rank"))["config"]:
        mine = runs["config"] == config
        row = {"config": int(config), **{f: runs.loc[mine, f].iloc[0] for f in factors}}
        for unit in UNITS:
            median, lo, hi = median_ci(costs.loc[mine, unit])
            row |= {f"{unit}_median": median, f"{unit}_lo": lo, f"{unit}_hi": hi}
        rows.append(row)
    table = pd.DataFrame(rows)
    number = [c for c in table if c.endswith(("_median", "_lo", "_hi"))]
    table[number] = table[number].where(np.isfinite(table[number].astype(float)))
    return table


def cheapest(table, unit):
    """The row of the configuration with the lowest median cost in a unit
    (ties: the better ranked); None when none reached ε."""
    finite = table[table[f"{unit}_median"].notna()]
    return None if finite.empty else finite.loc[finite[f"{unit}_median"].idxmin()]


def batch_varies(runs):
    """Whether configurations take different numbers of updates per epoch."""
    return "batch_size" in runs and runs["batch_size"].nunique() > 1


def paired_cost(runs, unit):
    """The cost to ε per run in a unit, oriented and censored as
    tables.paired_values orients epochs to ε (negated; a run that never
    reached ε costs one epoch past the budget, in updates at its own rate of
    updates per epoch)."""
    epochs = paired_values(runs, EPOCHS_TO_TARGET)
    if unit == "samples":
        return epochs * runs["n_train"].to_numpy(float)
    if unit == "updates":
        per_epoch = runs[GRAD_EVALS].to_numpy(float) / np.maximum(runs[EPOCHS_RUN].to_numpy(float), 1)
        return np.where(runs[CONVERGED], -runs[GRAD_EVALS].to_numpy(float), epochs * per_epoch)
    return epochs
