"""How fast each optimizer reaches the target on the C/T task, with its
learning rate tuned on a grid and at its textbook default."""
from itertools import product

import numpy as np
import pandas as pd

from ..analysis.stats import median_ci
from ..analysis.tables import lr_sensitivity
from ..model.data import make_dataset
from ..training import train
from .sizes import FULL

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
