"""How fast each optimizer reaches the target on the C/T task: tuned by the
protocol of experiments/default.toml's [tune] section (on seeds of its own),
and at its textbook default; with every optimizer's learning-rate grid
beside them, to show how sensitive each one is."""

import json
from itertools import product

import numpy as np
import pandas as pd

from ..analysis.stats import median_ci
from ..analysis.tables import lr_sensitivity
from ..model.data import make_dataset
from ..options import OPTIMIZER_OWN, TRAIN_DEFAULTS
from ..schema import CONVERGED, DEAD_UNITS, DIVERGED, EPOCHS_RUN, EPOCHS_TO_TARGET, GRAD_EVALS, MANIFEST, TRAIN_ACC
from ..sweep import spec, tune
from ..training import train
from .sizes import FULL, BenchError

# ---------------------------------------------------------------- settings

# Learning rates "at their default": the values of Saito's book (Deep Learning
# from Scratch, ch. 6: SGD, Momentum, Nesterov, AdaGrad, RMSprop 0.01, Adam 0.001).
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.01, "adam": 0.001}
# Eight rates in 1-3-10 steps (3.5 decades) per optimizer: each holds the default
# and reaches past the rates where runs start to fail on this network and data.
LR_GRID = {
    "sgd": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "momentum": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "nesterov": (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    "adagrad": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
    "rmsprop": (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    "adam": (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
}
PROBLEMS = tuple(product(("sigmoid", "tanh", "relu"), ("xavier", "he")))  # (activation, init)
N_TRAIN = 32
# Mean cross-entropy: a misclassified sample has e ≥ log 2, so E < 0.02 with
# n ≤ 34 samples implies 100 % training accuracy (checked anyway).
TARGET = 0.02
PROFILE_TAUS = (1.0, 2.0, 10.0)  # performance-profile points quoted in the tables


# The tuned half runs the [tune] protocol of experiments/default.toml (tests
# check they agree): Sobol points of each optimizer's default space (lr and its
# own hyperparameters), successive halving, ERT to ε, seeds after the
# evaluation seeds; one tuned setting per optimizer over all six problems.
TUNE_HALVING = 3
TUNE_OBJECTIVE = "ert"
CHOICES = ("tuned", "default")


CONVERGENCE_COLUMNS = [
    "optimizer",
    "lr_choice",
    "lr",
    "settings",
    "runs",
    "success_rate",
    "ert_epochs",
    "ert_epochs_half_budget",
    DIVERGED,
    "epochs_median",
    "epochs_lo",
    "epochs_hi",
    "grad_evals_median",
    "grad_evals_lo",
    "grad_evals_hi",
    *(f"profile_tau_{tau:g}" for tau in PROFILE_TAUS),
]


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
            result = train(
                d.X_train,
                d.T_train,
                np.tile(seeds, len(grid)),
                init=init,
                optimizer=optimizer,
                lr=lr,
                activation=activation,
                epochs=sizes.budget,
                target_loss=TARGET,
                record_every=sizes.budget,
            )
            frames.append(result.runs.assign(optimizer=optimizer, lr=lr, activation=activation, init=init))
    runs = pd.concat(frames, ignore_index=True)
    runs["optimizer"] = pd.Categorical(runs["optimizer"], categories=list(LR_GRID))
    runs["success"] = runs[CONVERGED] & (runs[TRAIN_ACC] == 1)
    runs = runs.assign(
        epochs=sizes.budget,
        target_loss=TARGET,
        n_train=N_TRAIN,
        lr_choice="grid",
        default_lr=runs["lr"] == runs["optimizer"].map(DEFAULT_LR).astype(float),
        settings=[
            settings_text({"lr": lr, **{k: TRAIN_DEFAULTS[k] for k in OPTIMIZER_OWN[o]}})
            for o, lr in zip(runs["optimizer"], runs["lr"])
        ],
    )
    return runs[RUN_COLUMNS + [c for c in runs.columns if c not in RUN_COLUMNS]]


RUN_COLUMNS = ["lr_choice", "optimizer", "lr", "settings", "default_lr", "activation", "init", "seed", "success"]


def settings_text(settings):
    return ", ".join(f"{key} {value:g}" for key, value in settings.items())


def tuning_spec(sizes):
    """The experiment file of the tuned half: every optimizer with its default
    search space, tuned over the six problems, then run on the evaluation seeds."""
    activations = sorted({a for a, _ in PROBLEMS}, key=[a for a, _ in PROBLEMS].index)
    inits = sorted({i for _, i in PROBLEMS}, key=[i for _, i in PROBLEMS].index)
    return "\n".join(
        [
            "# Written by `nn47 bench convergence`: the tuned half of the optimizer benchmark.",
            'description = "Each optimizer tuned by the [tune] protocol of experiments/default.toml"',
            f"seeds = {sizes.seeds}",
            f"record_every = {sizes.budget}",
            "[data]",
            f"n_train = {N_TRAIN}",
            "n_test = 1",
            "seed = 0",
            "[settings]",
            f"epochs = {sizes.budget}",
            f"target_loss = {TARGET}",
            "[factors]",
            f"activation = {activations!r}".replace("'", '"'),
            f"init = {inits!r}".replace("'", '"'),
            "[factors.optimizer]",
            *(f"{o} = {{}}" for o in LR_GRID),
            "[tune]",
            'factors = ["optimizer"]',
            f"trials = {sizes.tune_trials}",
            f"seeds = {sizes.tune_seeds}",
            f'objective = "{TUNE_OBJECTIVE}"',
            f"halving = {TUNE_HALVING}",
            "",
        ]
    )


def tuned_runs(sizes, out):
    """The tuned half, as a sweep into out/convergence_tuning (crash safe,
    resumable like any sweep): runs on the evaluation seeds at each
    optimizer's tuned settings, in convergence_runs' columns."""
    path = out / "convergence_tuning.toml"
    path.write_text(tuning_spec(sizes))
    *_, report = tune.tune_and_sweep(
        spec.load(path), out / "convergence_tuning", overwrite=True, quiet=True, keep_runs=True
    )
    if report.failures:
        raise BenchError(f"the tuned half failed in {report.folder}: {report.failures[0][1]}")
    runs = report.runs
    tuning = json.loads((report.folder / MANIFEST).read_text())["tuning"]
    chosen = {group["levels"]["optimizer"]: group["chosen"] for group in tuning["groups"]}
    runs["optimizer"] = pd.Categorical(runs["optimizer"], categories=list(LR_GRID))
    runs = runs.assign(
        lr_choice="tuned",
        success=runs[CONVERGED] & (runs[TRAIN_ACC] == 1),
        default_lr=False,
        settings=runs["optimizer"].map(lambda o: settings_text(chosen[o])).astype(str),
        epochs_to_target=runs[EPOCHS_TO_TARGET].astype("Int64"),
        dead_units=runs[DEAD_UNITS].astype("Int64"),
    )
    return runs


def as_success(runs):
    """The runs with `converged` meaning success and epochs to ε kept only for
    successes, so the analysis helpers count a run that reached ε but missed a
    sample as never done."""
    return runs.assign(converged=runs["success"], epochs_to_target=runs[EPOCHS_TO_TARGET].where(runs["success"]))


def time_to_target(runs, column):
    """Epochs or gradient evaluations to success; +∞ for runs that never succeeded."""
    return np.where(runs["success"], runs[column].to_numpy(float, na_value=np.nan), np.inf)


def performance_ratios(times):
    """Dolan–Moré ratios t_ps / min_s t_ps for problems (rows) × solvers (columns)
    of positive times; +∞ where a solver failed (t = +∞)."""
    t = np.asarray(times, dtype=float)
    with np.errstate(invalid="ignore"):  # ∞/∞ where every solver failed
        ratios = t / t.min(axis=1, keepdims=True)
    return np.where(np.isfinite(t), ratios, np.inf)


def performance_profile(times, taus):
    """ρ_s(τ): the share of problems that solver s solved within τ × the best
    solver's time. times: DataFrame, problems × solvers; returns taus × solvers."""
    ratios = performance_ratios(times)
    shares = (ratios[None, :, :] <= np.asarray(taus, dtype=float)[:, None, None]).mean(axis=1)
    return pd.DataFrame(shares, index=pd.Index(taus, name="tau"), columns=times.columns)


def expected_running_time(runs, keys, budget=None):
    """COCO's expected running time per group: all epochs run, by successful and
    failed runs alike, per success (+∞ without one): the epochs it takes to
    succeed once if failed runs are restarted. With a budget below the one the
    runs had, as if they had stopped there: a run counts at most `budget`
    epochs and succeeds if it did by then (a run stops at success, so the
    epochs before are the same under either budget)."""
    if budget is not None:
        runs = runs.assign(
            epochs_run=runs[EPOCHS_RUN].clip(upper=budget),
            success=runs["success"] & (runs[EPOCHS_TO_TARGET].to_numpy(float, na_value=np.inf) <= budget),
        )
    totals = runs.groupby(keys, observed=True).agg(epochs=(EPOCHS_RUN, "sum"), successes=("success", "sum"))
    return (totals["epochs"] / totals["successes"]).where(totals["successes"] > 0, np.inf).rename("ert_epochs")


def lr_table_of(runs):
    """Outcomes of the grid per optimizer × lr (analyze.lr_sensitivity: `best`
    is its rule, highest success rate, then lowest median epochs), with the
    epochs' median and bootstrap interval (never counted as +∞), the expected
    running time, and `lowest_ert`: the grid's lr of lowest ERT. These are
    measured on the evaluation seeds, so they show sensitivity; the tuned
    settings come from tuning seeds."""
    grid = runs[runs["lr_choice"] == "grid"]
    table = lr_sensitivity(as_success(grid)).merge(
        expected_running_time(grid, ["optimizer", "lr"]).reset_index(), on=["optimizer", "lr"]
    )
    intervals = {
        key: median_ci(time_to_target(group, EPOCHS_TO_TARGET))
        for key, group in grid.groupby(["optimizer", "lr"], observed=True)
    }
    lo_hi = [intervals[(o, lr)] for o, lr in zip(table["optimizer"], table["lr"])]
    table["epochs_lo"] = [np.nan if np.isinf(lo) else lo for _, lo, _ in lo_hi]
    table["epochs_hi"] = [np.nan if np.isinf(hi) else hi for _, _, hi in lo_hi]
    fastest = table.sort_values(["ert_epochs", "success_rate"], ascending=[True, False], kind="stable")
    table["lowest_ert"] = table.index.isin(fastest.groupby("optimizer", observed=True).head(1).index)
    return table


def chosen_runs(runs, choice):
    """Each optimizer's runs at its tuned settings or at its default lr."""
    if choice == "default":
        return runs[(runs["lr_choice"] == "grid") & runs["default_lr"]]
    return runs[runs["lr_choice"] == "tuned"]


def problem_times(runs):
    """Epochs to success, problems (activation, init, seed) × optimizers."""
    return runs.assign(t=time_to_target(runs, EPOCHS_TO_TARGET)).pivot_table(
        index=["activation", "init", "seed"], columns="optimizer", values="t", observed=True
    )


def convergence_summary(runs):
    """Per optimizer at its tuned settings and at its default lr: success,
    expected running time (also at half the epoch budget), time to target in
    epochs and gradient evaluations (median, bootstrap 95 % interval; never =
    empty), and points of the performance profile among the optimizers at the
    same choice."""
    rows = []
    for choice in CHOICES:
        chosen = chosen_runs(runs, choice)
        profile = performance_profile(problem_times(chosen), PROFILE_TAUS)
        ert = expected_running_time(chosen, "optimizer")
        ert_half = expected_running_time(chosen, "optimizer", chosen["epochs"].iloc[0] // 2)
        for optimizer, group in chosen.groupby("optimizer", observed=True):
            row = {
                "optimizer": optimizer,
                "lr_choice": choice,
                "lr": group["lr"].iloc[0],
                "settings": group["settings"].iloc[0],
                "runs": len(group),
                "success_rate": group["success"].mean(),
                "ert_epochs": ert[optimizer],
                "ert_epochs_half_budget": ert_half[optimizer],
                DIVERGED: int(group[DIVERGED].sum()),
            }
            for column, name in ((EPOCHS_TO_TARGET, "epochs"), (GRAD_EVALS, GRAD_EVALS)):
                median, lo, hi = (np.nan if np.isinf(x) else x for x in median_ci(time_to_target(group, column)))
                row |= {f"{name}_median": median, f"{name}_lo": lo, f"{name}_hi": hi}
            row |= {f"profile_tau_{tau:g}": profile.loc[tau, optimizer] for tau in PROFILE_TAUS}
            rows.append(row)
    return pd.DataFrame(rows, columns=CONVERGENCE_COLUMNS)


def convergence_tables(out, sizes=FULL):
    """(every run: the grid's and the tuned half's, the grid per optimizer × lr,
    the summary per optimizer and choice); the tuned half's sweep goes to out."""
    grid = convergence_runs(sizes)
    runs = pd.concat([grid, tuned_runs(sizes, out)[grid.columns]], ignore_index=True)
    runs["optimizer"] = pd.Categorical(runs["optimizer"], categories=list(LR_GRID))
    return runs, lr_table_of(runs), convergence_summary(runs)
