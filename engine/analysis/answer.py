"""The report's opening "Answer": per factor, the effects of its levels
against its best level in natural units with seed-level intervals and a
practical verdict (engine.analysis.effects); the best configuration and the
configurations practically tied with it; caveats the data raise. Every
number comes from the tables (effects.csv, summary.csv, main_effects.csv)."""

import numpy as np
import pandas as pd

from ..schema import EPOCHS_TO_TARGET, TEST_ACC, TRAIN_LOSS
from .effects import BETTER, RATIO, SAME, SIZE_FACTORS, effect_row
from .format import epochs_interval, pct
from .stats import LEVEL, has_target
from .tables import paired_metrics, paired_values, ranked

EASY = 10  # epochs: a best median below this makes the task "easy at this size"
NAMES = {EPOCHS_TO_TARGET: "epochs to ε", TEST_ACC: "test accuracy", TRAIN_LOSS: "final train loss"}


def effect_text(metric, estimate, lo, hi):
    """An effect in natural units: accuracy in percentage points, epochs and
    losses as a ratio."""
    if metric in RATIO:
        return f"{estimate:.2f}× [{lo:.2f}, {hi:.2f}]"

    def points(x):
        return f"{round(100 * x, 2) + 0.0:+.2f}"  # + 0.0: no "-0.00"

    return f"{points(estimate)} points [{points(lo)}, {points(hi)}]"


def oriented(row, reference):
    """(other level, estimate, lo, hi) of an effects row as other vs reference."""
    if row["level_b"] == reference:
        return row["level_a"], row["estimate"], row["lo"], row["hi"]
    if row["metric"] in RATIO:
        return row["level_b"], 1 / row["estimate"], 1 / row["hi"], 1 / row["lo"]
    return row["level_b"], -row["estimate"], -row["hi"], -row["lo"]


def margin_text(metric, margin):
    if metric in RATIO:
        return f"{NAMES[metric]} a ratio within ×{1 + margin:g} either way ({100 * margin:g} %)"
    return f"{NAMES[metric]} ±{100 * margin:g} points"


def _verdict_text(row):
    return f"{row['better']} better" if row["verdict"] == BETTER else row["verdict"]


def reference_level(effects):
    """The level of a factor's effects rows that no other level beats on a
    metric by more than the margin and that beats the most: ties go to the
    level listed first."""
    levels = list(pd.unique(effects[["level_a", "level_b"]].to_numpy().ravel("F")))
    order = list(pd.unique(effects["level_a"])) + [level for level in levels if level not in set(effects["level_a"])]
    better = effects[effects["verdict"] == BETTER]
    losses = {
        level: int(((better["better"] != level) & better[["level_a", "level_b"]].eq(level).any(axis=1)).sum())
        for level in order
    }
    wins = {level: int((better["better"] == level).sum()) for level in order}
    return min(order, key=lambda level: (losses[level], -wins[level], order.index(level)))


def factor_paragraph(factor, effects, main):
    """One paragraph: the factor's reference level and each other level's
    effects against it, then the success shares of main_effects."""
    reference = reference_level(effects)
    parts = []
    rows = effects[(effects["level_a"] == reference) | (effects["level_b"] == reference)]
    for other in [level for level in pd.unique(rows[["level_a", "level_b"]].to_numpy().ravel()) if level != reference]:
        pair = rows[(rows["level_a"] == other) | (rows["level_b"] == other)]
        said = []
        for row in pair.to_dict("records"):
            _, estimate, lo, hi = oriented(row, reference)
            said.append(f"{NAMES[row['metric']]} {effect_text(row['metric'], estimate, lo, hi)}, {_verdict_text(row)}")
        parts.append(f"{other} against {reference}: " + "; ".join(said))
    against = rows["verdict"]
    if (against == SAME).all():
        lead = f"no practical difference between {reference} and any other level"
    elif (rows["better"] == reference).any() and not ((rows["better"] != "") & (rows["better"] != reference)).any():
        lead = f"best level {reference} (no other level is better by more than the margin)"
    else:
        lead = f"no level is better than every other; compared with {reference}"
    text = f"**{factor}**: {lead}. " + ". ".join(parts) + "."
    if main is not None and len(main) and "success_rate" in main and main["success_rate"].notna().any():
        shares = ", ".join(f"{r['level']} {pct(r['success_rate'])}" for r in main.to_dict("records"))
        text += f" Share of runs that reached ε: {shares}."
    return text


def size_paragraph(factor, effects, main):
    """One paragraph for a size factor (effects.SIZE_FACTORS): each level
    against the largest, and the smallest level practically as good as it
    on every metric (no practical difference, or better)."""
    largest = effects["level_b"].iloc[0]
    good = effects.assign(_good=(effects["verdict"] == SAME) | (effects["better"] == effects["level_a"]))
    parts = []
    for level, pair in effects.groupby("level_a", sort=True):
        said = [
            f"{NAMES[r['metric']]} {effect_text(r['metric'], r['estimate'], r['lo'], r['hi'])}, {_verdict_text(r)}"
            for r in pair.to_dict("records")
        ]
        parts.append(f"{level} against {largest}: " + "; ".join(said))
    as_good = good.groupby("level_a", sort=True)["_good"].all()
    lead = (
        f"the smallest level practically as good as the largest ({largest}) is {as_good[as_good].index[0]}"
        if as_good.any()
        else f"no smaller level is practically as good as the largest ({largest}) on every metric"
    )
    for metric, rows in good.groupby("metric", sort=False):  # each metric alone, where that differs
        alone = rows[rows["_good"]]["level_a"]
        if len(alone) and (not as_good.any() or alone.min() != as_good[as_good].index[0]):
            lead += f"; on {NAMES[metric]} alone: {alone.min()}"
    text = f"**{factor}**: {lead}. " + ". ".join(parts) + "."
    if main is not None and len(main) and "success_rate" in main and main["success_rate"].notna().any():
        shares = ", ".join(f"{r['level']} {pct(r['success_rate'])}" for r in main.to_dict("records"))
        text += f" Share of runs that reached ε: {shares}."
    return text


def tied_configs(runs, summary, margins):
    """(best config, tied configs): the configurations not worse than the
    best (rank 1 of summary) by more than the margin on any paired metric,
    at the seed level (Hodges–Lehmann interval of per-seed differences)."""
    best = int(ranked(summary.drop(columns="rank"))["config"].iloc[0])
    tied = []
    for metric in paired_metrics(runs):
        values = paired_values(runs, metric)
        x = pd.Series(np.log(-values) if metric in RATIO else values, index=runs.index)
        wide = runs.assign(_x=x).pivot_table(index="seed", columns="config", values="_x", aggfunc="mean")
        worse = set()
        for config in wide.columns:
            if config == best:
                continue
            row = effect_row("config", metric, config, best, wide, margins[metric])
            if row["verdict"] == BETTER and row["better"] == best:
                worse.add(config)
        tied.append(set(wide.columns) - worse - {best})
    same = set.intersection(*tied) if tied else set()
    return best, sorted(int(c) for c in same)


def shared_text(summary, factors, configs):
    """What a set of configurations has in common, factor by factor."""
    rows = summary[summary["config"].isin(configs)]
    parts = []
    for f in factors:
        levels = [str(level) for level in rows[f].cat.categories if (rows[f] == level).any()]
        if len(levels) == len(rows[f].cat.categories) and len(levels) > 1:
            parts.append(f"any {f}")
        else:
            parts.append(f"{f} " + " or ".join(levels))
    return ", ".join(parts)


def answer_section(results, tables, margins):
    runs, factors = results.runs, results.factors
    target = has_target(runs)
    lines = ["## Answer", ""]
    summary = tables.summary
    best, tied = tied_configs(runs, summary, margins)
    row = summary[summary["config"] == best].iloc[0]
    chosen = summary[summary["config"] == best]
    levels = ", ".join(f"{f} {chosen[f].iloc[0]}" for f in factors)  # by column: an all-numeric row turns 30 into 30.0
    outcome = (
        f"reached ε in {pct(row['success_rate'])} of its runs, median epochs to ε "
        f"{epochs_interval(row['epochs_median'], row['epochs_lo'], row['epochs_hi'])}, "
        if target
        else ""
    ) + f"mean test accuracy {100 * row['test_acc_mean']:.1f} %"
    text = f"**Best configuration**: config {best}" + (f" ({levels})" if levels else "") + f": {outcome}."
    if len(summary) > 1:
        if tied:
            text += (
                f" Practically tied with it (not worse by more than the margins at {LEVEL:.0%}): "
                f"{len(tied)} of the other {len(summary) - 1} configurations ({', '.join(map(str, tied))}); "
                f"together they share: {shared_text(summary, factors, [best, *tied])}."
            )
        else:
            text += " Every other configuration is worse by more than a margin."
    lines += [text, ""]
    effects = tables.effects
    for factor in pd.unique(effects["factor"]) if len(effects) else []:
        main = tables.main_effects[tables.main_effects["factor"] == factor]
        paragraph = size_paragraph if factor in SIZE_FACTORS else factor_paragraph
        lines += [paragraph(factor, effects[effects["factor"] == factor], main if target else None), ""]
    numeric = [f for f in factors if f not in set(effects["factor"])]
    if numeric:
        lines += [f"Numeric factors ({', '.join(numeric)}) are not compared pairwise here; see the tables below.", ""]
    lines += [
        "Each effect is \"A against B\": A's epochs or loss as a ratio to B's (below 1: A needs fewer), "
        "A's accuracy minus B's in points; the Hodges–Lehmann estimate of the per-seed differences "
        f"with its {LEVEL:.0%} interval. Margins: "
        + "; ".join(margin_text(m, margins[m]) for m in paired_metrics(runs))
        + " (see the methods below).",
        "",
    ]
    lines += caveats(runs, factors, row, target)
    return lines


def caveats(runs, factors, best, target):
    notes = []
    if target and best["success_rate"] == 1 and best["epochs_median"] < EASY:
        notes.append(
            f"The task is easy at this size: the best configuration reaches ε in a median of "
            f"{best['epochs_median']:g} epochs, so a difference in epochs is often one epoch."
        )
    if "init" in factors:
        notes.append(
            "Initial values: the textbook's contrasts (std 0.01 fails to learn, He suits ReLU) come "
            "from a network of five layers of 100 units; with one hidden layer of 3 units one "
            "backpropagation step still gets a usable gradient, so they need not show here."
        )
    return ["**Caveats**", "", *(f"- {n}" for n in notes), ""] if notes else []
