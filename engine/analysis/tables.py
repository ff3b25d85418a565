"""The tables of an analysis: one row per configuration, main effects, paired
tests, learning-rate sensitivity. Paired comparisons match runs of two levels
of one factor that agree on every other factor and on the seed (a seed fixes
the initial weights)."""
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from .stats import ALPHA, censored_epochs, holm, mean_ci, median_ci, rank_biserial
# Metrics the paired tests compare, and which direction is better.
PAIRED_METRICS = {"epochs_to_target": "lower", "train_loss": "lower", "test_acc": "higher"}


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
