"""Tables and statistics over a results folder (runs.csv, curves.csv, manifest).

The analysis reads only the files a sweep leaves behind, so results copied from
another machine work too. Conventions:

- Epochs to ε is a censored time: a run that never reached the target loss
  counts as +∞ ("never"), as DeepOBS and COCO do, so a median is "never"
  unless more than half of the runs reached ε. Tables write "never" as empty.
- Intervals are 95 %: percentile bootstrap of the median (a fixed-seed numpy
  Generator, so tables are deterministic) and a t interval for a mean.
- Paired comparisons match runs of two levels of one factor that agree on
  every other factor and on the seed (a seed fixes the initial weights).
"""
import json
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .layout import Layout

KEY = ["config", "seed"]
OUTCOMES = {  # column -> kind
    "train_loss": "float", "train_acc": "float", "test_loss": "float", "test_acc": "float",
    "epochs_to_target": "int", "converged": "bool", "diverged": "bool",
    "epochs_run": "int", "grad_evals": "int", "dead_units": "int",
}
CURVE_COLUMNS = {"epoch": "int", "train_loss": "float", "train_acc": "float",
                 "test_loss": "float", "test_acc": "float"}
# Metrics the paired tests compare, and which direction is better.
PAIRED_METRICS = {"epochs_to_target": "lower", "train_loss": "lower", "test_acc": "higher"}
LEVEL = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
ALPHA = 0.05


class ResultsError(ValueError):
    """A results file is missing, empty or malformed; the message names it."""


@dataclass
class Results:
    """A loaded results folder. `runs` and `curves` have proper dtypes: factors
    and other text settings are categorical (levels in grid order), censored
    epochs are nullable integers, flags are booleans."""
    path: Path
    runs: pd.DataFrame
    curves: pd.DataFrame
    params: pd.DataFrame | None
    manifest: dict
    factors: list
    layout: Layout = field(default_factory=Layout)
    notes: list = field(default_factory=list)

    @property
    def experiment(self):
        return self.manifest.get("experiment", self.path.name)


# ---------------------------------------------------------------- loading

def _read_csv(path):
    if not path.is_file():
        raise ResultsError(f"{path}: file not found")
    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ResultsError(f"{path}: file is empty (expected a header row and data)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not a valid CSV file ({err})") from None
    if df.empty:
        raise ResultsError(f"{path}: has a header but no rows")
    return df


def _require(df, columns, path):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ResultsError(f"{path}: missing column(s) {', '.join(missing)}")


def _as_kind(df, column, kind, path):
    """Convert one column, or raise naming the first bad row (line numbers
    count the header as line 1)."""
    raw = df[column]
    if kind == "bool":
        words = raw.astype("string").str.strip().str.lower()
        out = words.map({"true": True, "1": True, "1.0": True,
                         "false": False, "0": False, "0.0": False})
        bad = out.isna()
        out = out.astype(bool) if not bad.any() else out
    else:
        out = pd.to_numeric(raw, errors="coerce")
        bad = out.isna() & raw.notna()
        if kind == "int":
            bad |= out.notna() & (out != out.round())
            out = out.astype("Int64") if not bad.any() else out
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = raw.iloc[row]
        shown = "an empty value" if pd.isna(value) else repr(str(value))
        raise ResultsError(f"{path}: column {column!r} needs {kind} values; line {row + 2} has {shown}")
    return out


def _categorical(values, numeric):
    # Levels in grid order: numbers sorted, text in order of first appearance
    # (the runs are sorted by config, which follows the experiment file).
    levels = sorted(values.dropna().unique()) if numeric else list(values.dropna().unique())
    return pd.Categorical(values, categories=levels)


def _read_manifest(path):
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    factors = manifest.get("factors", [])
    if not isinstance(factors, list) or not all(isinstance(f, str) for f in factors):
        raise ResultsError(f"{path}: 'factors' must be a list of column names")
    return manifest


def _missing_runs(runs, manifest):
    """Notes on runs the manifest promises but runs.csv lacks."""
    expected = manifest.get("n_runs")
    if expected is None or len(runs) >= expected:
        return []
    note = f"Partial sweep: runs.csv has {len(runs)} of {expected} expected runs."
    if "n_configs" in manifest and "seeds" in manifest:
        present = set(zip(runs["config"], runs["seed"]))
        lacking = {}
        for config in range(manifest["n_configs"]):
            seeds = [s for s in manifest["seeds"] if (config, s) not in present]
            if seeds:
                lacking[config] = "all seeds" if len(seeds) == len(manifest["seeds"]) else \
                    "seeds " + ", ".join(map(str, seeds))
        shown = "; ".join(f"config {c} ({s})" for c, s in list(lacking.items())[:8])
        more = f"; and {len(lacking) - 8} more configs" if len(lacking) > 8 else ""
        note += f" Missing: {shown}{more}."
    return [note]


def load_results(path):
    """Load a results folder into a `Results` (runs, curves, params, manifest).

    runs.csv and curves.csv are required; manifest.json names the factors (they
    are inferred as the setting columns that vary when it is absent) and
    params.csv (final weights) is optional. Raises ResultsError with the file
    and the problem when something is missing, empty or malformed.
    """
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"{path}: results folder not found")
    notes = []
    manifest = _read_manifest(path / "manifest.json")

    runs_path = path / "runs.csv"
    runs = _read_csv(runs_path)
    _require(runs, KEY + list(OUTCOMES), runs_path)
    for column in KEY:
        runs[column] = _as_kind(runs, column, "int", runs_path)
        if runs[column].isna().any():
            raise ResultsError(f"{runs_path}: column {column!r} has empty values")
        runs[column] = runs[column].astype("int64")
    if runs.duplicated(KEY).any():
        config, seed = runs.loc[runs.duplicated(KEY), KEY].iloc[0]
        raise ResultsError(f"{runs_path}: (config, seed) = ({config}, {seed}) appears more than once")
    for column, kind in OUTCOMES.items():
        runs[column] = _as_kind(runs, column, kind, runs_path)
    runs = runs.sort_values(KEY, ignore_index=True)

    settings = [c for c in runs.columns if c not in KEY and c not in OUTCOMES]
    if "factors" in manifest:
        factors = manifest["factors"]
    else:
        factors = [c for c in settings if runs[c].nunique(dropna=False) > 1]
        notes.append("manifest.json is missing or names no factors: the factors were taken "
                     f"to be the setting columns that vary ({', '.join(factors) or 'none'}).")
    _require(runs, factors, f"{runs_path} (factors listed in manifest.json)")
    for column in settings:
        numeric = pd.api.types.is_numeric_dtype(runs[column])
        if column in factors or not numeric:
            runs[column] = _categorical(runs[column], numeric)

    curves_path = path / "curves.csv"
    curves = _read_csv(curves_path)
    _require(curves, KEY + list(CURVE_COLUMNS), curves_path)
    for column, kind in {"config": "int", "seed": "int", **CURVE_COLUMNS}.items():
        curves[column] = _as_kind(curves, column, kind, curves_path)
    curves = curves.sort_values(KEY + ["epoch"], ignore_index=True)

    layout = Layout(**manifest["layout"]) if "layout" in manifest else Layout()
    params_path = path / "params.csv"
    params = None
    if params_path.is_file():
        params = _read_csv(params_path)
        if params.shape[1] != len(KEY) + layout.size or list(params.columns[:2]) != KEY:
            raise ResultsError(f"{params_path}: expected columns config, seed and {layout.size} "
                               f"parameters, got {params.shape[1]} columns")
    else:
        notes.append("No params.csv: the learned hidden units are not drawn.")

    notes += _missing_runs(runs, manifest)
    lacking = len(runs.merge(curves[KEY].drop_duplicates(), on=KEY, how="left", indicator=True)
                  .query("_merge == 'left_only'"))
    if lacking:
        notes.append(f"curves.csv has no rows for {lacking} of the {len(runs)} runs.")
    return Results(path, runs, curves, params, manifest, list(factors), layout, notes)


# ---------------------------------------------------------------- statistics

def has_target(runs):
    """Whether the runs had a target loss ε (without one, every run trains
    for its whole budget and epochs to ε mean nothing)."""
    return bool(runs["target_loss"].notna().any() if "target_loss" in runs else runs["converged"].any())


def censored_epochs(runs):
    """Epochs to ε as floats, +∞ where the run never reached ε."""
    return runs["epochs_to_target"].to_numpy(dtype=float, na_value=np.inf)


def median_ci(x, *, level=LEVEL, n_resamples=N_RESAMPLES, seed=BOOTSTRAP_SEED):
    """Median of x with a percentile-bootstrap interval. +∞ values (censored)
    take part like any other, so any bound may be +∞ ("never")."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    medians = np.sort(np.median(x[rng.integers(0, x.size, (n_resamples, x.size))], axis=1))
    # Order statistics rather than interpolation: interpolating towards +∞ gives NaN.
    tail = (1 - level) / 2
    lo = medians[int(np.floor(tail * n_resamples))]
    hi = medians[int(np.ceil((1 - tail) * n_resamples)) - 1]
    return float(np.median(x)), float(lo), float(hi)


def mean_ci(x, *, level=LEVEL):
    """Mean of the finite values of x with a t interval (NaN bounds below 2 values)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return mean, mean - half, mean + half


def holm(p):
    """Holm's step-down adjustment of the p values (NaN stays NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite])]
    m = len(order)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def rank_biserial(d):
    """Matched-pairs rank-biserial correlation of differences d: (R+ − R−)/(R+ + R−),
    +1 when every nonzero difference is positive."""
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    r = stats.rankdata(np.abs(d))
    return float((r[d > 0].sum() - r[d < 0].sum()) / r.sum())


def _never(x):
    return np.where(np.isinf(x), np.nan, x)


DESCRIBE_COLUMNS = [
    "runs", "success_rate", "diverged", "epochs_median", "epochs_lo", "epochs_hi",
    "train_loss_median", "train_loss_iqr", "test_loss_median", "test_loss_iqr",
    "test_acc_mean", "test_acc_lo", "test_acc_hi", "dead_units_mean"]


def describe(runs, *, ci=True):
    """Outcomes of a group of runs as one row (a dict with DESCRIBE_COLUMNS):
    success and divergence counts, epochs to ε (median, bootstrap interval when
    ci), final losses (median, IQR, diverged runs left out), test accuracy
    (mean, t interval), dead hidden units (mean)."""
    epochs = median_ci(censored_epochs(runs)) if ci else (np.median(censored_epochs(runs)),) * 3
    acc = np.clip(mean_ci(runs["test_acc"].to_numpy(float)), 0, 1)
    row = {
        "runs": len(runs),
        "success_rate": runs["converged"].mean(),
        "diverged": int(runs["diverged"].sum()),
        "epochs_median": epochs[0], "epochs_lo": epochs[1], "epochs_hi": epochs[2],
    }
    for loss in ("train_loss", "test_loss"):
        q25, q50, q75 = np.nanquantile(runs[loss].to_numpy(float), [0.25, 0.5, 0.75]) \
            if runs[loss].notna().any() else (np.nan,) * 3
        row |= {f"{loss}_median": q50, f"{loss}_iqr": q75 - q25}
    row |= {"test_acc_mean": acc[0], "test_acc_lo": acc[1], "test_acc_hi": acc[2],
            "dead_units_mean": runs["dead_units"].astype(float).mean()}
    return {k: (_never(v).item() if k.startswith("epochs_") else v) for k, v in row.items()}


def summary_table(runs, factors):
    """One row per configuration: its factor levels and `describe` outcomes."""
    rows = [{"config": config, **{f: group[f].iloc[0] for f in factors}, **describe(group)}
            for config, group in runs.groupby("config", sort=True)]
    return _with_levels(pd.DataFrame(rows), runs, factors)


def main_effects(runs, factors):
    """Each level of each factor, pooled (averaged) over the other factors and seeds."""
    rows = [{"factor": f, "level": level, **describe(group)}
            for f in factors
            for level, group in runs.groupby(f, observed=True, sort=True)]
    return pd.DataFrame(rows, columns=["factor", "level", *DESCRIBE_COLUMNS])


def _with_levels(table, runs, columns):
    # Keep the factors' categorical level order in derived tables.
    for c in columns:
        if c in table and isinstance(runs[c].dtype, pd.CategoricalDtype):
            table[c] = pd.Categorical(table[c], categories=runs[c].cat.categories)
    return table


def _paired_values(runs, metric):
    """The metric per run, oriented so that larger is better, ready for pairing.
    Censored epochs become the budget + 1 (ties when neither run reached ε);
    NaN (a diverged run's loss) drops that pair."""
    if metric == "epochs_to_target":
        budget = runs["epochs"] if "epochs" in runs else runs["epochs_run"].max()
        x = np.where(runs["converged"], runs["epochs_to_target"].to_numpy(float, na_value=np.nan),
                     np.asarray(budget, dtype=float) + 1)
    else:
        x = runs[metric].to_numpy(float)
    return x if PAIRED_METRICS[metric] == "higher" else -x


def nested_factors(runs, factors, factor):
    """The other factors not crossed with `factor`: their levels differ between
    its levels, as each optimizer's own list of lrs does in a variant factor."""
    def crossed(other):
        pairs = runs.groupby([factor, other], observed=True).ngroups
        return pairs == runs[factor].nunique() * runs[other].nunique()
    return [f for f in factors if f != factor and not crossed(f)]


def composite_levels(runs, factor, nested):
    """Levels of `factor` as text, refined by the nested factors that vary
    within a level ("adam (lr=0.01)"; "weight_decay=0.001" for a level named
    after the setting it varies); a categorical in grid order."""
    details = [np.where(runs.groupby(factor, observed=True)[other].transform("nunique") > 1,
                        other + "=" + runs[other].astype(str), "") for other in nested]
    labels = []
    for level, *parts in zip(runs[factor].astype(str), *details):
        parts = [part for part in parts if part]
        if len(parts) == 1 and parts[0].startswith(level + "="):
            labels.append(parts[0])
        else:
            labels.append(f"{level} ({', '.join(parts)})" if parts else level)
    labels = pd.Series(labels, index=runs.index)
    return pd.Categorical(labels, categories=labels.unique())


def paired_comparisons(runs, factors, *, alpha=ALPHA):
    """Wilcoxon signed-rank tests between every two levels of each text factor,
    on runs that agree on the other factors and the seed; Holm-corrected within
    each (factor, metric). effect_size is the matched-pairs rank-biserial
    correlation, +1 when level_a is better in every pair that differs.

    A level with a sub-axis of its own (nested factors: adam's lrs, each
    regulariser's strengths) enters at its best sub-level for the metric, by
    median, and is named with it: "adam (lr=0.01)".
    """
    tables = []
    for factor in factors:
        if pd.api.types.is_numeric_dtype(runs[factor].cat.categories) or runs[factor].nunique() < 2:
            continue
        nested = nested_factors(runs, factors, factor)
        others = [f for f in factors if f != factor and f not in nested] + ["seed"]
        levels = composite_levels(runs, factor, nested)
        for metric in PAIRED_METRICS:
            if metric == "epochs_to_target" and not runs["converged"].any():
                continue  # nothing reached ε: the comparison would be all ties
            values = runs.assign(_x=_paired_values(runs, metric), _level=levels)
            if nested:
                median = values.groupby([factor, "_level"], observed=True)["_x"].median().fillna(-np.inf)
                best = [level for _, level in median.groupby(level=0, observed=True).idxmax()]
                values = values[values["_level"].isin(best)]
            # One row per pair key; mean() only guards against factors that miss a setting.
            wide = values.groupby(others + ["_level"], observed=True)["_x"].mean().unstack("_level")
            rows = [_paired_row(factor, metric, a, b, wide) for a, b in combinations(wide.columns, 2)]
            table = pd.DataFrame(rows)
            table["p_holm"] = holm(table["p_value"])
            better = np.where(table["effect_size"] > 0, table["level_a"], table["level_b"])
            table["winner"] = np.where(table["p_holm"] < alpha, better, "")
            tables.append(table)
    columns = ["factor", "metric", "level_a", "level_b", "n_pairs", "a_wins", "b_wins", "ties",
               "effect_size", "statistic", "p_value", "p_holm", "winner"]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)


def _paired_row(factor, metric, a, b, wide):
    both = wide[[a, b]].dropna()
    d = (both[a] - both[b]).to_numpy()
    n = len(d)
    if np.count_nonzero(d):
        test = stats.wilcoxon(d)
        statistic, p = float(test.statistic), float(test.pvalue)
    else:
        statistic, p = np.nan, (1.0 if n else np.nan)
    wins = [np.mean(d > 0), np.mean(d < 0), np.mean(d == 0)] if n else [np.nan] * 3
    return {"factor": factor, "metric": metric, "level_a": a, "level_b": b, "n_pairs": n,
            "a_wins": wins[0], "b_wins": wins[1], "ties": wins[2],
            "effect_size": rank_biserial(d), "statistic": statistic, "p_value": p}


def has_lr_axis(runs, factors):
    return "lr" in factors and runs["lr"].nunique() > 1


def lr_sensitivity(runs, *, good=0.9):
    """Outcomes per (optimizer, lr), pooled over the other factors and seeds.

    Per optimizer the best lr has the highest success rate, then the smallest
    median epochs to ε, then the smallest median final train loss; an lr is
    "good" when its success rate is at least `good` × the best one (no lr is
    good for an optimizer that never reached ε).
    """
    data = runs.assign(lr=runs["lr"].astype(float))
    group = "optimizer" if "optimizer" in runs else None
    keys = [group, "lr"] if group else ["lr"]
    rows = [{**dict(zip(keys, key)), **describe(g, ci=False)}
            for key, g in data.groupby(keys, observed=True, sort=True)]
    table = pd.DataFrame(rows)
    order = ["success_rate", "epochs_rank", "train_loss_rank"]
    table["epochs_rank"] = -table["epochs_median"].fillna(np.inf)
    table["train_loss_rank"] = -table["train_loss_median"].fillna(np.inf)
    by = table.groupby(group, observed=True, sort=False) if group else [(None, table)]
    table["best"] = False
    table["good"] = False
    for _, g in by:
        best = g.sort_values(order, ascending=False, kind="stable").index[0]  # ties: smallest lr
        table.loc[best, "best"] = True
        top = g["success_rate"].max()
        table.loc[g.index, "good"] = (g["success_rate"] >= good * top) & (top > 0)
    table = table.drop(columns=["epochs_rank", "train_loss_rank"])
    return _with_levels(table, runs, [group] if group else [])


def lr_ranges(table):
    """Per optimizer: the best lr and the span of good lrs (in decades)."""
    group = "optimizer" if "optimizer" in table else None
    rows = []
    for key, g in (table.groupby(group, observed=True, sort=True) if group else [("all", table)]):
        best = g[g["best"]].iloc[0]
        lrs = g.loc[g["good"], "lr"]
        rows.append({"optimizer": key, "best_lr": best["lr"], "success_rate": best["success_rate"],
                     "epochs_median": best["epochs_median"],
                     "good_lr_min": lrs.min() if len(lrs) else np.nan,
                     "good_lr_max": lrs.max() if len(lrs) else np.nan,
                     "good_levels": len(lrs),
                     "decades": np.log10(lrs.max() / lrs.min()) if len(lrs) else np.nan})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- entry point

@dataclass
class Tables:
    summary: pd.DataFrame
    main_effects: pd.DataFrame
    paired: pd.DataFrame
    lr: pd.DataFrame | None = None
    lr_ranges: pd.DataFrame | None = None

    def files(self):
        """File name -> table, for the tables that exist."""
        named = {"summary.csv": self.summary, "main_effects.csv": self.main_effects,
                 "paired_tests.csv": self.paired, "lr_sensitivity.csv": self.lr,
                 "lr_ranges.csv": self.lr_ranges}
        return {name: t for name, t in named.items() if t is not None}


def compute_tables(results):
    runs, factors = results.runs, results.factors
    lr = lr_sensitivity(runs) if has_lr_axis(runs, factors) else None
    return Tables(summary_table(runs, factors), main_effects(runs, factors),
                  paired_comparisons(runs, factors), lr, lr_ranges(lr) if lr is not None else None)


def parse_run(run):
    """'CONFIG:SEED' (or a (config, seed) pair) -> (int, int)."""
    if isinstance(run, str):
        parts = run.split(":")
        if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"run: expected CONFIG:SEED such as 3:0, got {run!r}")
        return int(parts[0]), int(parts[1])
    config, seed = run
    return int(config), int(seed)


def analyze(path, *, run=None, quiet=False):
    """Analyse a results folder and write tables, figures and report.md into it.

    run: the run whose learned hidden units are drawn, 'CONFIG:SEED' or a pair
    (default: the best run). Prints a short summary unless quiet; returns the
    path of report.md.
    """
    from . import plots, report  # matplotlib is only needed here

    results = load_results(path)
    if run is not None:
        run = parse_run(run)
        if not ((results.runs["config"] == run[0]) & (results.runs["seed"] == run[1])).any():
            raise ValueError(f"run: no run with config {run[0]} and seed {run[1]} "
                             f"in {results.path / 'runs.csv'}")
    tables = compute_tables(results)
    for name, table in tables.files().items():
        table.to_csv(results.path / name, index=False, float_format="%.6g")
    figures = plots.make_figures(results, tables, results.path, run=run)
    report_path = report.write_report(results, tables, figures, results.path / "report.md")
    if not quiet:
        print(report.text_summary(results, tables, figures, report_path))
    return report_path
