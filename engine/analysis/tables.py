"""The tables of an analysis: one row per configuration, main effects, paired
tests, learning-rate sensitivity.

Rules the report states (from the constants here and in .stats):

- **Best.** Groups of runs are ranked by success rate (share reaching ε), then
  median epochs to ε, then mean test accuracy (`RANK_BY`); configurations
  rank by the median cost in the unit `[analysis] cost` names (`cost_column`)
  instead of epochs. A group ties the group above it when both have the same
  success rate and median cost and
  its mean test accuracy lies inside the 95 % interval of the first group of
  its tie (a difference far inside the intervals decides nothing).
- **Held-out seeds.** Where a best level is chosen (each optimizer's lr), it is
  chosen on the selection seeds (every other seed in sorted order, starting with
  the first) and reported and tested on the evaluation seeds (the others).
- **Paired tests, per seed.** The seed is the unit of replication: runs that
  share a seed share their initial weights and are strongly correlated.
"""

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from .. import schema
from ..options import OPTIMIZER_OWN
from ..schema import (
    ANALYSIS_TABLES,
    CONVERGED,
    DEAD_UNITS,
    DIVERGED,
    EPOCHS_RUN,
    EPOCHS_TO_TARGET,
    TEST_ACC,
    TEST_LOSS,
    TRAIN_LOSS,
)
from .load import KEY
from .stats import ALPHA, MARGINS, censored_epochs, has_target, holm, mean_ci, median_ci, rank_biserial, run_costs

# Paired-test metrics and the better direction. The final train loss is the
# loss at stop: with a target ε runs stop as soon as E < ε, so it measures how
# far the last step overshot (rewarding large steps); it is compared only
# when there is no ε and every run trains for the whole budget.
PAIRED_METRICS = {EPOCHS_TO_TARGET: "lower", TEST_ACC: "higher", TRAIN_LOSS: "lower"}
ZERO_METHOD = "pratt"  # Wilcoxon: zero per-seed scores are ranked, then dropped (Pratt 1959)
GOOD = 0.9  # a good lr's success rate is at least GOOD × the best one's (and its cost within the margin)
RANK_BY = ("success_rate", "epochs_median", "test_acc_mean")
DESCRIBE_COLUMNS = [
    "runs",
    "success_rate",
    DIVERGED,
    "epochs_median",
    "epochs_lo",
    "epochs_hi",
    "train_loss_median",
    "train_loss_iqr",
    "test_loss_median",
    "test_loss_iqr",
    "test_acc_mean",
    "test_acc_lo",
    "test_acc_hi",
    "dead_units_mean",
]


def _inf_to_nan(x):
    # "never reached ε" is inf in the censored epochs, NaN in the tables
    return np.where(np.isinf(x), np.nan, x)


def describe(runs):
    """Outcomes of a group of runs as one row (a dict with DESCRIBE_COLUMNS):
    success and divergence counts, epochs to ε (median and its order-statistic
    interval), final losses (median, IQR, diverged runs left out), test
    accuracy (mean, t interval), dead hidden units (mean)."""
    epochs = median_ci(censored_epochs(runs))
    acc = np.clip(mean_ci(runs[TEST_ACC].to_numpy(float)), 0, 1)
    row = {
        "runs": len(runs),
        "success_rate": runs[CONVERGED].mean(),
        DIVERGED: int(runs[DIVERGED].sum()),
        "epochs_median": epochs[0],
        "epochs_lo": epochs[1],
        "epochs_hi": epochs[2],
    }
    for loss in (TRAIN_LOSS, TEST_LOSS):
        q25, q50, q75 = (
            np.nanquantile(runs[loss].to_numpy(float), [0.25, 0.5, 0.75]) if runs[loss].notna().any() else (np.nan,) * 3
        )
        row |= {f"{loss}_median": q50, f"{loss}_iqr": q75 - q25}
    row |= {
        "test_acc_mean": acc[0],
        "test_acc_lo": acc[1],
        "test_acc_hi": acc[2],
        "dead_units_mean": runs[DEAD_UNITS].astype(float).mean(),
    }
    return {k: (_inf_to_nan(v).item() if k.startswith("epochs_") else v) for k, v in row.items()}


def cost_column(table):
    """The median cost that ranks a table's rows: a summary ranked in another
    unit than epochs (`summary_table`'s cost) carries that unit's median."""
    return next((f"{u}_median" for u in ("updates", "samples") if f"{u}_median" in table), "epochs_median")


def rank(table):
    """Competition ranks (1, 1, 3, …) of `describe` rows under the rule for
    "best" (module notes): a Series indexed like table, best first (ties in
    table order)."""
    order = table.assign(_t=table[cost_column(table)].fillna(np.inf), _acc=table["test_acc_mean"].fillna(-1.0))
    order = order.sort_values(["success_rate", "_t", "_acc"], ascending=[False, True, False], kind="stable")
    ranks, lead = {}, None
    for position, (index, row) in enumerate(order.iterrows(), start=1):
        tied = (
            lead is not None
            and row["success_rate"] == lead["success_rate"]
            and row["_t"] == lead["_t"]
            and (row["_acc"] == lead["_acc"] or lead["test_acc_lo"] <= row["_acc"] <= lead["test_acc_hi"])
        )
        if not tied:
            lead, lead_rank = row, position
        ranks[index] = lead_rank
    return pd.Series(ranks, name="rank").reindex(order.index)


def ranked(table):
    """table (of `describe` rows) best first with its `rank` column."""
    ranks = rank(table)
    return table.loc[ranks.index].assign(rank=ranks.to_numpy())


def level_settings(runs, factors):
    """The setting columns that vary between configurations but not within
    one (each optimizer's lr, a regulariser's strength), in runs order."""
    settings = [c for c in runs.columns if c not in KEY and c not in schema.OUTCOMES and c not in factors]
    per_config = runs.groupby("config", observed=True)
    return [c for c in settings if runs[c].nunique() > 1 and (per_config[c].nunique(dropna=False) == 1).all()]


def summary_table(runs, factors, cost="epochs"):
    """One row per configuration: its factor levels, the settings that differ
    between configurations (`level_settings`), `describe` outcomes, for a cost
    unit other than epochs its median cost to ε with the interval (columns
    "updates_median", … as in costs.csv), and its `rank` under the rule for
    "best" counting that unit."""
    settings = level_settings(runs, factors)
    costs = run_costs(runs)[cost] if cost != "epochs" else None
    rows = [
        {
            "config": config,
            **{f: own_setting(group, f) for f in factors + settings},
            **describe(group),
            **(
                {}
                if costs is None
                else dict(zip(_cost_columns(cost), _inf_to_nan(median_ci(costs[group.index])).tolist()))
            ),
        }
        for config, group in runs.groupby("config", sort=True)
    ]
    table = pd.DataFrame(rows)
    table["rank"] = rank(table).reindex(table.index)
    return _with_levels(table, runs, factors)


def _cost_columns(unit):
    return [f"{unit}_median", f"{unit}_lo", f"{unit}_hi"]


# Every optimizer's own hyperparameters: a column another optimizer never reads.
HYPERPARAMETERS = {c for own in OPTIMIZER_OWN.values() for c in own}


def uses(optimizer, column):
    """Whether an optimizer reads a setting column (lr and the others: yes)."""
    return column not in HYPERPARAMETERS or column in OPTIMIZER_OWN.get(str(optimizer), ())


def own_setting(group, column):
    """The value of a column in a configuration's runs, NaN where its optimizer
    does not read it (momentum on an adam row)."""
    value = group[column].iloc[0]
    return value if "optimizer" not in group or uses(group["optimizer"].iloc[0], column) else np.nan


def pooled_factors(runs, factors):
    """The factors whose main effect means something when pooled: not lr when
    the optimizer varies (the same lr is a different step for each optimizer),
    and no numeric factor whose levels differ between the levels of a text
    factor (each optimizer's own lrs)."""
    text = [f for f in factors if not pd.api.types.is_numeric_dtype(runs[f].cat.categories)]

    def nested_in_text(f):
        return f not in text and any(f in nested_factors(runs, factors, t) for t in text)

    varies = "optimizer" in factors and runs["optimizer"].nunique() > 1
    return [f for f in factors if not (f == "lr" and varies) and not nested_in_text(f)]


def main_effects(runs, factors):
    """Each level of each `pooled_factors` factor, pooled (averaged) over the
    other factors and seeds."""
    rows = [
        {"factor": f, "level": level, **describe(group)}
        for f in pooled_factors(runs, factors)
        for level, group in runs.groupby(f, observed=True, sort=True)
    ]
    return pd.DataFrame(rows, columns=["factor", "level", *DESCRIBE_COLUMNS])


def _with_levels(table, runs, columns):
    # Keep the factors' categorical level order in derived tables.
    for c in columns:
        if c in table and isinstance(runs[c].dtype, pd.CategoricalDtype):
            table[c] = pd.Categorical(table[c], categories=runs[c].cat.categories)
    return table


def split_seeds(runs):
    """(tuning, evaluation): boolean masks of runs, every other seed in sorted
    order (the 1st, 3rd, … seeds tune, the 2nd, 4th, … evaluate). With one
    seed both are every run."""
    seeds = np.sort(runs["seed"].unique())
    if len(seeds) < 2:
        everything = np.ones(len(runs), bool)
        return everything, everything
    tuning = runs["seed"].isin(seeds[::2]).to_numpy()
    return tuning, ~tuning


def paired_metrics(runs):
    """The metrics compared in paired tests (see PAIRED_METRICS)."""
    target = has_target(runs)
    metrics = []
    if target and runs[CONVERGED].any():  # nothing reached ε: all ties
        metrics.append(EPOCHS_TO_TARGET)
    metrics.append(TEST_ACC)
    if not target:
        metrics.append(TRAIN_LOSS)
    return metrics


def paired_values(runs, metric):
    """The metric per run, oriented so that larger is better, ready for pairing.
    Censored epochs become the budget + 1 (ties when neither run reached ε);
    NaN (a diverged run's loss or accuracy) drops that pair."""
    if metric == EPOCHS_TO_TARGET:
        budget = runs["epochs"] if "epochs" in runs else runs[EPOCHS_RUN].max()
        x = np.where(
            runs[CONVERGED],
            runs[EPOCHS_TO_TARGET].to_numpy(float, na_value=np.nan),
            np.asarray(budget, dtype=float) + 1,
        )
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
    columns = [factor, *nested]
    # Labels per distinct combination, then mapped to the runs: no loop over runs.
    combos = runs[columns].drop_duplicates().reset_index(drop=True)
    varies = [combos.groupby(factor, observed=True)[other].transform("nunique").to_numpy() > 1 for other in nested]
    labels = []
    for i, (level, *values) in enumerate(combos.itertuples(index=False)):
        parts = [f"{other}={value}" for other, value, vary in zip(nested, values, varies) if vary[i]]
        if len(parts) == 1 and parts[0].startswith(f"{level}="):
            labels.append(parts[0])
        else:
            labels.append(f"{level} ({', '.join(parts)})" if parts else str(level))
    label = (
        pd.Series(
            pd.MultiIndex.from_frame(runs[columns]).map(dict(zip(pd.MultiIndex.from_frame(combos), labels))),
            index=runs.index,
        )
        if nested
        else runs[factor].astype(str)
    )
    return pd.Categorical(label, categories=pd.unique(label))


def best_sublevels(runs, factor, levels, tuning):
    """Per level of `factor`, its best composite level (a sub-level such as
    an lr) under the rule for "best", chosen on the tuning runs; ties go to
    the first in grid order."""
    rows = runs[tuning].assign(_level=levels[tuning])
    chosen = []
    for _, group in rows.groupby(factor, observed=True):
        table = pd.DataFrame(
            [{"level": level, **describe(g)} for level, g in group.groupby("_level", observed=True, sort=True)]
        )
        chosen.append(ranked(table)["level"].iloc[0])
    return chosen


def seed_scores(wide, a, b):
    """Per seed, the net win share of level a over b: the mean over the
    seed's blocks (runs agreeing on every other factor) of sign(x_a − x_b),
    in [−1, 1]; and the block-level shares (a wins, b wins, ties)."""
    both = wide[[a, b]].dropna()
    sign = np.sign(both[a] - both[b])
    per_seed = sign.groupby(level="seed").mean()
    shares = [np.mean(sign > 0), np.mean(sign < 0), np.mean(sign == 0)] if len(sign) else [np.nan] * 3
    return per_seed.to_numpy(), len(sign), shares


def paired_comparisons(runs, factors, *, alpha=ALPHA):
    """Seed-level paired tests between every two levels of each text factor.

    Within each block (the other factors' levels × one seed) the two levels'
    runs are compared (censored epochs count as budget + 1, so two runs that
    never reached ε tie); each seed's blocks give its net win share (a wins −
    b wins, over its blocks), and a Wilcoxon signed-rank test across seeds
    (zero_method ZERO_METHOD) tests whether it is centred at 0: n is the
    number of seeds. Holm corrects within each (factor, metric). effect_size is
    the rank-biserial correlation of the per-seed scores (+1: level_a better on
    every seed that differs). A winner is named when p_holm < alpha and the
    order-statistic 95 % interval of the median per-seed score excludes 0;
    `note` flags a winner that loses most blocks.

    A level with a sub-axis of its own (nested factors: adam's lrs, each
    regulariser's strengths) enters at its best sub-level (`best_sublevels`,
    chosen on the selection seeds) and is tested on the evaluation seeds only.
    A numeric factor's neighbouring levels are compared too, on every seed
    (`neighbour_levels`; nothing is chosen), Holm within each factor (and
    level of the factor it is nested in) × metric.
    """
    tables = []
    for factor, chosen, tested, others, pairs in comparisons(runs, factors):
        for metric in paired_metrics(runs):
            wide = blocks(chosen, tested, others, paired_values(chosen, metric))
            rows = [_paired_row(factor, metric, a, b, wide) for a, b in level_pairs(wide, pairs)]
            table = pd.DataFrame(rows)
            table["p_holm"] = holm(table["p_value"])
            # The test and the median seed must agree on the side.
            a_better = (table["score_lo"] > 0) & (table["effect_size"] > 0)
            b_better = (table["score_hi"] < 0) & (table["effect_size"] < 0)
            significant = table["p_holm"] < alpha
            table["winner"] = np.where(
                significant & a_better, table["level_a"], np.where(significant & b_better, table["level_b"], "")
            )
            loser_wins = np.where(table["winner"] == table["level_a"], table["b_wins"], table["a_wins"])
            winner_wins = np.where(table["winner"] == table["level_a"], table["a_wins"], table["b_wins"])
            table["note"] = np.where(
                (table["winner"] != "") & (loser_wins > winner_wins), "the other level wins more blocks", ""
            )
            tables.append(table)
    columns = [
        "factor",
        "metric",
        "level_a",
        "level_b",
        "seeds",
        "blocks",
        "a_wins",
        "b_wins",
        "ties",
        "score_median",
        "score_lo",
        "score_hi",
        "effect_size",
        "statistic",
        "p_value",
        "p_holm",
        "winner",
        "note",
    ]
    return pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)


def comparisons(runs, factors):
    """Every family of paired comparisons: `compared_levels` (every two
    levels of a text factor; pairs None) then `neighbour_levels`."""
    yield from ((*family, None) for family in compared_levels(runs, factors))
    yield from neighbour_levels(runs, factors)


def level_pairs(wide, pairs):
    """The pairs of levels (columns of wide) to compare: every two when pairs is None."""
    return combinations(wide.columns, 2) if pairs is None else [p for p in pairs if set(p) <= set(wide.columns)]


def is_numeric(runs, factor):
    return pd.api.types.is_numeric_dtype(runs[factor].cat.categories)


def neighbour_levels(runs, factors):
    """Per numeric factor (batch size, lr): (factor, runs, levels, block
    columns, pairs) with pairs its neighbouring levels in increasing order,
    within each level of the text factors it is nested in (each optimizer's
    own lrs, labelled "adam (lr=0.01)"); blocks as in `compared_levels`."""
    text = [f for f in factors if not is_numeric(runs, f)]
    for factor in factors:
        if factor in text or runs[factor].nunique() < 2:
            continue
        owners = [t for t in text if factor in nested_factors(runs, factors, t)]
        nested = nested_factors(runs, factors, factor)
        others = [f for f in factors if f != factor and f not in nested] + ["seed"]
        labels = composite_levels(runs, owners[0], [factor]) if owners else runs[factor].astype(str)
        labels = pd.Series(labels, index=runs.index)
        for _, rows in runs.groupby(owners, observed=True) if owners else [(None, runs)]:
            order = rows.assign(_v=rows[factor].astype(float)).sort_values("_v", kind="stable").index
            ordered = list(dict.fromkeys(labels[order]))
            if len(ordered) > 1:
                yield factor, rows, labels[rows.index], others, list(zip(ordered[:-1], ordered[1:]))


def compared_levels(runs, factors):
    """Per text factor with two levels or more: (factor, runs, levels, block
    columns), the runs and their (composite) levels that the paired
    comparisons compare. A level with a sub-axis of its own (nested factors)
    enters at its best sub-level, chosen on the selection seeds, with the
    evaluation seeds' runs only."""
    for factor in factors:
        if is_numeric(runs, factor) or runs[factor].nunique() < 2:
            continue
        nested = nested_factors(runs, factors, factor)
        others = [f for f in factors if f != factor and f not in nested] + ["seed"]
        levels = pd.Series(composite_levels(runs, factor, nested), index=runs.index)
        chosen, tested = runs, levels
        if nested:
            tuning, evaluation = split_seeds(runs)
            best = best_sublevels(runs, factor, levels, tuning)
            keep = evaluation & levels.isin(best).to_numpy()
            chosen, tested = runs[keep], levels[keep]
        yield factor, chosen, tested, others


def blocks(runs, levels, others, x):
    """The values x of the runs as a table: one row per block (the `others`
    columns, seed last), one column per level."""
    values = runs.assign(_x=x, _level=levels)
    # One row per block; mean() only guards against factors that miss a setting.
    return values.groupby(others + ["_level"], observed=True)["_x"].mean().unstack("_level")


def _paired_row(factor, metric, a, b, wide):
    scores, blocks, shares = seed_scores(wide, a, b)
    if np.count_nonzero(scores):
        test = stats.wilcoxon(scores, zero_method=ZERO_METHOD)
        statistic, p = float(test.statistic), float(test.pvalue)
    else:
        statistic, p = np.nan, (1.0 if len(scores) else np.nan)
    median, lo, hi = median_ci(scores)
    return {
        "factor": factor,
        "metric": metric,
        "level_a": a,
        "level_b": b,
        "seeds": len(scores),
        "blocks": blocks,
        "a_wins": shares[0],
        "b_wins": shares[1],
        "ties": shares[2],
        "score_median": median,
        "score_lo": lo,
        "score_hi": hi,
        "effect_size": rank_biserial(scores),
        "statistic": statistic,
        "p_value": p,
    }


def has_lr_axis(runs, factors):
    return "lr" in factors and runs["lr"].nunique() > 1


def lr_sensitivity(runs, *, good=GOOD, tuning=None, margins=None):
    """Outcomes per (optimizer, lr), pooled over the other factors and seeds.

    Per optimizer the `best` lr is chosen under the rule for "best" (success
    rate, then median epochs to ε, then test accuracy; ties go to the smallest
    lr) on the runs of the boolean mask `tuning` (default: every run); the
    outcomes in the table are those of the other runs (every run when tuning
    is None). An lr is "good" when it is within the practical margin of the
    best (`good_lrs`); with a target ε it "trains" when its runs reach ε as
    often, whatever their speed (a success rate at least `good` × the best's).
    """
    tuning = np.ones(len(runs), bool) if tuning is None else np.asarray(tuning)
    held_out = ~tuning if (~tuning).any() else tuning
    data = runs.assign(lr=runs["lr"].astype(float))
    group = "optimizer" if "optimizer" in runs else None
    keys = [group, "lr"] if group else ["lr"]
    margins = MARGINS | (margins or {})
    target = has_target(runs)

    def table_of(rows):
        return pd.DataFrame(
            [{**dict(zip(keys, key)), **describe(g)} for key, g in rows.groupby(keys, observed=True, sort=True)]
        )

    table, chooser = table_of(data[held_out]), table_of(data[tuning])
    table["best"] = False
    table["good"] = False
    if target:
        table["trains"] = False
    for key, g in table.groupby(group, observed=True, sort=False) if group else [(None, table)]:
        options = chooser[chooser[group] == key] if group else chooser
        best_lr = ranked(options)["lr"].iloc[0]
        table.loc[g.index[g["lr"] == best_lr], "best"] = True
        best = g.loc[g["lr"] == best_lr].iloc[0]
        table.loc[g.index, "good"] = good_lrs(g, best, margins, target, good)
        if target:
            table.loc[g.index, "trains"] = (g["success_rate"] >= good * best["success_rate"]) & (
                best["success_rate"] > 0
            )
    return _with_levels(table, runs, [group] if group else [])


def good_lrs(rows, best, margins, target, good=GOOD):
    """Which lrs (rows of `describe`) are within the practical margin of the
    best lr's row: a success rate at least `good` × the best's (none when the
    best never reached ε) and, with a target ε, a median epochs to ε at most
    (1 + the epochs margin) × the best's; without one, a mean test accuracy
    at most the accuracy margin below the best's. The best lr is always good
    unless it never reached ε."""
    if not target:
        return rows["test_acc_mean"] >= best["test_acc_mean"] - margins[TEST_ACC]
    top = best["success_rate"]
    epochs = rows["epochs_median"].fillna(np.inf)
    fast = epochs <= (1 + margins[EPOCHS_TO_TARGET]) * best["epochs_median"]
    return (rows["success_rate"] >= good * top) & (top > 0) & fast


def lr_ranges(table):
    """Per optimizer: the best lr with its outcomes, the span of good lrs
    (in decades) and, with a target ε, the span of the lrs that train."""
    group = "optimizer" if "optimizer" in table else None
    rows = []
    for key, g in table.groupby(group, observed=True, sort=True) if group else [("all", table)]:
        best = g[g["best"]].iloc[0]
        lrs = g.loc[g["good"], "lr"]
        trains = g.loc[g["trains"], "lr"] if "trains" in g else None
        rows.append(
            {
                "optimizer": key,
                "best_lr": best["lr"],
                "success_rate": best["success_rate"],
                "epochs_median": best["epochs_median"],
                "epochs_lo": best["epochs_lo"],
                "epochs_hi": best["epochs_hi"],
                "test_acc_mean": best["test_acc_mean"],
                "test_acc_lo": best["test_acc_lo"],
                "test_acc_hi": best["test_acc_hi"],
                "good_lr_min": lrs.min() if len(lrs) else np.nan,
                "good_lr_max": lrs.max() if len(lrs) else np.nan,
                "good_levels": len(lrs),
                "decades": np.log10(lrs.max() / lrs.min()) if len(lrs) else np.nan,
                **(
                    {}
                    if trains is None
                    else {
                        "trains_lr_min": trains.min() if len(trains) else np.nan,
                        "trains_lr_max": trains.max() if len(trains) else np.nan,
                        "trains_levels": len(trains),
                    }
                ),
            }
        )
    return pd.DataFrame(rows)


def per_level_settings(runs, factors, tuned=False):
    """(factor, level, settings text) for the levels of the text factors that
    set something of their own: the settings constant within the level but
    not across the runs, and an optimizer's own hyperparameters ("adam": lr
    0.03, beta1 0.9, beta2 0.999, eps 1e-08), never another optimizer's; a
    setting tuned per combination (tuned: the experiment has a [tune]
    section) shows its range ("lr 0.06 – 0.3 (tuned)")."""
    varying = level_settings(runs, factors)
    rows = []
    for factor in factors:
        if pd.api.types.is_numeric_dtype(runs[factor].cat.categories):
            continue
        for level, group in runs.groupby(factor, observed=True, sort=True):
            optimizer = factor == "optimizer"
            own = OPTIMIZER_OWN.get(str(level), ()) if optimizer else ()
            columns = [c for c in varying if not optimizer or uses(level, c)]
            columns += [c for c in own if c in group and c not in varying]
            parts = []
            for c in columns:
                values = group[c].dropna().unique()
                if group[c].nunique(dropna=False) == 1:
                    parts.append(f"{c} {_value(values[0])}")
                elif tuned and optimizer and (c == "lr" or c in own) and len(values):  # its range, as tuned
                    parts.append(f"{c} {_value(values.min())} – {_value(values.max())} (tuned)")
            if parts:
                rows.append({"factor": factor, "level": level, "settings": ", ".join(parts)})
    return pd.DataFrame(rows, columns=["factor", "level", "settings"])


def _value(x):
    return f"{x:g}" if isinstance(x, float) else f"{x}"


@dataclass
class Tables:
    summary: pd.DataFrame
    main_effects: pd.DataFrame
    paired: pd.DataFrame
    lr: pd.DataFrame | None = None
    lr_ranges: pd.DataFrame | None = None
    settings: pd.DataFrame | None = None
    effects: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    cost: str = "epochs"  # the unit of the cost to ε that ranks the summary ([analysis] cost)

    def files(self):
        """File name -> table, for the tables that exist."""
        named = {
            ANALYSIS_TABLES["summary"]: self.summary,
            ANALYSIS_TABLES["main_effects"]: self.main_effects,
            ANALYSIS_TABLES["paired_tests"]: self.paired,
            ANALYSIS_TABLES["effects"]: self.effects,
            ANALYSIS_TABLES["trend_tests"]: self.trends,
            ANALYSIS_TABLES["costs"]: self.costs,
            ANALYSIS_TABLES["lr_sensitivity"]: self.lr,
            ANALYSIS_TABLES["lr_ranges"]: self.lr_ranges,
        }
        return {name: t for name, t in named.items() if t is not None}


def lr_tables(results, margins=None):
    """(lr_sensitivity.csv, lr_ranges.csv) of the results, or (None, None)
    where their runs have no learning-rate axis."""
    runs, factors = results.runs, results.factors
    if not has_lr_axis(runs, factors):
        return None, None
    lr = lr_sensitivity(runs, tuning=split_seeds(runs)[0], margins=margins)
    return lr, lr_ranges(lr)


def compute_tables(results, margins=None, cost="epochs", lr=None):
    """The tables of an analysis but effects.csv, trend_tests.csv and
    costs.csv (engine.analysis.effects, .trends and .costs, which build on
    this module; analyze adds them); margins as [analysis] sets them, cost
    the unit that ranks the configurations; lr: lr_tables' pair, where the
    caller has it already."""
    runs, factors = results.runs, results.factors
    return Tables(
        summary_table(runs, factors, cost),
        main_effects(runs, factors),
        paired_comparisons(runs, factors),
        *(lr or lr_tables(results, margins)),
        per_level_settings(runs, factors, tuned="tuning" in results.manifest),
        cost=cost,
    )
