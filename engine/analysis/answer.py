"""The report's opening "Answer": per factor, the effects of its levels
against its best level in natural units with seed-level intervals and a
practical verdict (engine.analysis.effects); the best configuration and the
configurations practically tied with it; caveats the data raise. Every
number comes from the tables (effects.csv, summary.csv, main_effects.csv)."""

import numpy as np
import pandas as pd

from ..schema import EPOCH, EPOCHS_TO_TARGET, KEY, TEST_ACC, TRAIN_ACC, TRAIN_LOSS
from .costs import UNITS, batch_varies, cheapest, paired_cost
from .effects import BETTER, RATIO, SAME, SIZE_FACTORS, effect_row, effects_table
from .format import epochs_interval, p_value, pct
from .stats import ALPHA, LEVEL, has_target
from .tables import is_numeric, neighbour_levels, paired_metrics, paired_values, ranked
from .words import tr

EASY = 10  # epochs: a best median below this makes the task "easy at this size"
# A run whose final train loss is still above this share of its loss at epoch 0 has not learned
# (a net that outputs 1/K for every image sits at its initial log K; one that learns falls far below).
LEARNED = 0.9
NAMES = {EPOCHS_TO_TARGET: "epochs to ε", TEST_ACC: "test accuracy", TRAIN_LOSS: "final train loss"}


def name(metric):
    """A paired metric in words, in the report's language."""
    return tr(NAMES[metric])


def effect_text(metric, estimate, lo, hi):
    """An effect in natural units: accuracy in percentage points, epochs and
    losses as a ratio."""
    if metric in RATIO:
        return f"{estimate:.2f}× [{lo:.2f}, {hi:.2f}]"

    def points(x):
        return f"{round(100 * x, 2) + 0.0:+.2f}"  # + 0.0: no "-0.00"

    return tr("{estimate} points [{lo}, {hi}]", estimate=points(estimate), lo=points(lo), hi=points(hi))


def oriented(row, reference):
    """(other level, estimate, lo, hi) of an effects row as other vs reference."""
    if row["level_b"] == reference:
        return row["level_a"], row["estimate"], row["lo"], row["hi"]
    if row["metric"] in RATIO:
        return row["level_b"], 1 / row["estimate"], 1 / row["hi"], 1 / row["lo"]
    return row["level_b"], -row["estimate"], -row["hi"], -row["lo"]


def margin_text(metric, margin):
    if metric in RATIO:
        return tr(
            "{metric} a ratio within ×{ratio} either way ({share} %)",
            metric=name(metric),
            ratio=f"{1 + margin:g}",
            share=f"{100 * margin:g}",
        )
    return tr("{metric} ±{points} points", metric=name(metric), points=f"{100 * margin:g}")


def _verdict_text(row):
    return tr("{level} better", level=row["better"]) if row["verdict"] == BETTER else tr(row["verdict"])


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
            said.append(
                f"{name(row['metric'])} {effect_text(row['metric'], estimate, lo, hi)}{tr(', ')}{_verdict_text(row)}"
            )
        parts.append(tr("{a} against {b}: ", a=other, b=reference) + tr("; ").join(said))
    against = rows["verdict"]
    if (against == SAME).all():
        lead = tr("no practical difference between {level} and any other level", level=reference)
    elif (rows["better"] == reference).any() and not ((rows["better"] != "") & (rows["better"] != reference)).any():
        lead = tr("best level {level} (no other level is better by more than the margin)", level=reference)
    else:
        lead = tr("no level is better than every other; compared with {level}", level=reference)
    text = f"**{factor}**: {lead}{tr('. ')}" + tr(". ").join(parts) + tr(".")
    if main is not None and len(main) and "success_rate" in main and main["success_rate"].notna().any():
        shares = ", ".join(f"{r['level']} {pct(r['success_rate'])}" for r in main.to_dict("records"))
        text += tr(" Share of runs that reached ε: {shares}.", shares=shares)
    return text


def numeric_paragraph(factor, effects, trends):
    """One paragraph for a numeric factor: each level against the next lower
    one (within each level of a factor it is nested in), then its trends."""
    parts = []
    for (low, high), pair in effects.groupby(["level_a", "level_b"], sort=False):
        said = [
            f"{name(row['metric'])} {effect_text(row['metric'], *oriented(row, low)[1:])}{tr(', ')}{_verdict_text(row)}"
            for row in pair.to_dict("records")
        ]
        parts.append(tr("{a} against {b}: ", a=high, b=low) + tr("; ").join(said))
    text = tr("**{factor}** (each level against the next lower one): ", factor=factor) + tr(". ").join(parts) + tr(".")
    mine = trends[trends["factor"] == factor] if trends is not None else []
    for (levels, seeds), rows in mine.groupby(["levels", "seeds"], sort=False) if len(mine) else []:
        said = tr("; ").join(
            f"{name(r['metric'])} {tr(r['trend'])} ({_p(r['p_value'])})" for r in rows.to_dict("records")
        )
        text += tr(" Over {levels} ({seeds} seeds, Page's trend test): {said}.", levels=levels, seeds=seeds, said=said)
    return text


def size_text(effects):
    """For a size factor (effects.SIZE_FACTORS): the smallest level
    practically as good as the largest on every metric (no practical
    difference, or better), and on each metric alone where that differs;
    "" where the levels are not plain numbers (a factor nested in another)."""
    numbers = effects[["level_a", "level_b"]].apply(pd.to_numeric, errors="coerce")
    if numbers.isna().any().any() or not len(effects):
        return ""
    largest = numbers.max().max()
    rows = effects[(numbers == largest).any(axis=1)]
    other = numbers.loc[rows.index].min(axis=1).rename("other")
    good = (rows["verdict"] == SAME) | ((rows["better"] != "") & (pd.to_numeric(rows["better"]) == other))
    table = pd.DataFrame({"other": other, "metric": rows["metric"], "good": good})
    as_good = table.groupby("other")["good"].all()
    top = f"{largest:g}"
    text = (
        tr(
            " Against the largest ({top}), the smallest level practically as good on every metric is {level}",
            top=top,
            level=f"{as_good[as_good].index.min():g}",
        )
        if as_good.any()
        else tr(" No smaller level is practically as good as the largest ({top}) on every metric", top=top)
    )
    for metric, mine in table.groupby("metric", sort=False):
        alone = mine.loc[mine["good"], "other"]
        if len(alone) and (not as_good.any() or alone.min() != as_good[as_good].index.min()):
            text += tr("; on {metric} alone: {level}", metric=name(metric), level=f"{alone.min():g}")
    said = {}
    for row in rows.loc[other.sort_values(kind="stable").index].to_dict("records"):
        level, estimate, lo, hi = oriented(row, row["level_a"] if float(row["level_a"]) == largest else row["level_b"])
        said.setdefault(level, []).append(f"{name(row['metric'])} {effect_text(row['metric'], estimate, lo, hi)}")
    return (
        text
        + " ("
        + tr("; ").join(tr("{a} against {b}: ", a=level, b=top) + tr(", ").join(m) for level, m in said.items())
        + tr(").")
    )


def _p(p):
    text = p_value(p, ALPHA)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"  # the same in every language


def cost_text(costs, best, factors, unit="epochs"):
    """Where the batch size varies (or the file picks a unit): the unit that
    ranks, the best configuration's cost in every unit and the cheapest
    configuration in the unit that ranks differently (updates, or epochs
    where updates rank)."""
    mine = costs[costs["config"] == best].iloc[0]
    other = "epochs" if unit == "updates" else "updates"
    cheap = cheapest(costs, other)
    ranks = {
        "epochs": "epochs to ε, and sample-gradients (epochs × training images) rank the same way",
        "samples": "sample-gradients to ε (epochs × training images; they rank as epochs do)",
        "updates": "updates (grad_evals) to ε",
    }[unit]
    text = tr(
        "**Cost**: the ranking counts {ranks}; the best configuration needs {units}.",
        ranks=tr(ranks),
        units=_units(mine),
    )
    if cheap is not None and int(cheap["config"]) != best:
        levels = ", ".join(f"{f} {cheap[f]}" for f in factors)
        text += tr(
            " Counted in {unit}, the cheapest is config {config} ({levels}): {units}.",
            unit=tr(other),
            config=int(cheap["config"]),
            levels=levels,
            units=_units(cheap),
        )
    return text


def _cost(row, unit):
    return epochs_interval(row[f"{unit}_median"], row[f"{unit}_lo"], row[f"{unit}_hi"])


def _units(row):
    return ", ".join(f"{_cost(row, u)} {tr(UNITS[u].split(' (')[0])}" for u in ("updates", "samples", "epochs"))


def tied_configs(runs, summary, margins, unit="epochs"):
    """(best config, tied configs): the configurations not worse than the
    best (rank 1 of summary) by more than the margin on any paired metric,
    at the seed level (Hodges–Lehmann interval of per-seed differences); the
    cost to ε counted in the unit that ranks."""
    best = int(ranked(summary.drop(columns="rank"))["config"].iloc[0])
    tied = []
    for metric in paired_metrics(runs):
        values = paired_cost(runs, unit) if metric == EPOCHS_TO_TARGET else paired_values(runs, metric)
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
            parts.append(tr("any {factor}", factor=f))
        else:
            parts.append(f"{f} " + tr(" or ").join(levels))
    return tr(", ").join(parts)


def loss_kept(runs, curves):
    """Per run (indexed like runs), its final train loss as a share of its
    train loss at epoch 0 (a diverged run's NaN counts as infinite: kept)."""
    start = curves.loc[curves[EPOCH] == 0, [*KEY, TRAIN_LOSS]].rename(columns={TRAIN_LOSS: "_start"})
    both = runs[list(KEY)].merge(start, on=list(KEY), how="left")
    kept = runs[TRAIN_LOSS].to_numpy(float) / both["_start"].to_numpy(float)
    return pd.Series(np.where(np.isnan(kept), np.inf, kept), index=runs.index)


def init_depth_text(runs, curves, layout, margins):
    """Where init and activation both vary: the network, which init ×
    activation cells fail to learn and, per activation, init's effects within
    that activation's runs (seed-level, as the factor paragraphs): the
    textbook's question of which init suits which activation, at this depth.
    A cell learns when its median run keeps at most LEARNED of its initial
    train loss and gets at least half-way from a guess (1/K) to every training
    image right: a loss ratio alone calls std 1 with ReLU a learner, since its
    exploding initial loss falls to a constant guess's. A diverged run keeps
    all its loss and gets nothing right."""
    shape = "-".join(map(str, layout.widths))
    layers = tr("{n} hidden layers" if layout.depth > 1 else "{n} hidden layer", n=layout.depth)
    if "hidden" in runs and runs["hidden"].nunique() > 1:  # the layout is the largest of several
        shape, layers = tr("{shape} and smaller", shape=shape), tr("{layers} at most", layers=layers)
    cells = [runs["init"], runs["activation"]]
    kept = loss_kept(runs, curves).groupby(cells, observed=True).median()
    right = runs[TRAIN_ACC].fillna(0.0).groupby(cells, observed=True).median()
    halfway = (1 + 1 / layout.n_out) / 2
    learns = (kept <= LEARNED) & (right >= halfway)
    failed = kept[~learns]
    by_init = failed.reset_index().groupby("init", observed=True, sort=False)["activation"].agg(list)
    activations = list(kept.index.get_level_values("activation").unique())
    said = []
    for init, names in by_init.items():
        where = (
            tr("with every activation")
            if len(names) == len(activations)
            else tr("with {names}", names=tr(" and ").join(names))
        )
        ends = "; ".join(
            tr(
                "{activation} ends at {kept} of its initial loss, {right} right",
                activation=a,
                kept=pct(kept[init, a]),
                right=pct(right[init, a]),
            )
            if np.isfinite(kept[init, a])
            else tr("{activation} diverges", activation=a)
            for a in names
        )
        said.append(tr("{init} fails to learn {where} (its median run: {ends})", init=init, where=where, ends=ends))
    learned = kept[learns]
    if len(learned):
        said.append(
            (tr("every other cell learns") if len(failed) else tr("every init learns with every activation"))
            + tr(
                " (median final train loss {low}–{high} of the initial)",
                low=pct(learned.min()),
                high=pct(learned.max()),
            )
        )
    text = tr("**Initial values in this {shape} network ({layers})**: ", shape=shape, layers=layers)
    text += tr("; ").join(said) + tr(".")
    text += " " + tr(
        "A cell learns when its median run keeps at most {learned} of its initial train loss and gets at least "
        "{halfway} of the training images right (half-way from a guess's {guess}); a diverged run keeps all "
        "its loss and gets none right.",
        learned=pct(LEARNED),
        halfway=pct(halfway),
        guess=pct(1 / layout.n_out),
    )
    lines = [text, ""]
    for activation in activations:
        mine = runs[runs["activation"] == activation]
        effects = effects_table(mine, ["init"], margins)
        if len(effects):
            lines += [factor_paragraph(tr("init with {activation}", activation=activation), effects, None), ""]
    return lines


def answer_section(results, tables, margins):
    runs, factors = results.runs, results.factors
    target = has_target(runs)
    lines = [tr("## Answer"), ""]
    summary = tables.summary
    best, tied = tied_configs(runs, summary, margins, tables.cost)
    row = summary[summary["config"] == best].iloc[0]
    chosen = summary[summary["config"] == best]
    levels = ", ".join(f"{f} {chosen[f].iloc[0]}" for f in factors)  # by column: an all-numeric row turns 30 into 30.0
    outcome = (
        tr(
            "reached ε in {share} of its runs, median epochs to ε {epochs}, ",
            share=pct(row["success_rate"]),
            epochs=epochs_interval(row["epochs_median"], row["epochs_lo"], row["epochs_hi"]),
        )
        + (
            ""
            if tables.cost == "epochs"
            else tr("median {unit} to ε {cost}, ", unit=tr(UNITS[tables.cost]), cost=_cost(row, tables.cost))
        )
        if target
        else ""
    ) + tr("mean test accuracy {accuracy} %", accuracy=f"{100 * row['test_acc_mean']:.1f}")
    text = (
        tr("**Best configuration**: config {config}", config=best)
        + (f" ({levels})" if levels else "")
        + tr(": {outcome}.", outcome=outcome)
    )
    if len(summary) > 1:
        if tied:
            text += tr(
                " Practically tied with it (not worse by more than the margins at {level}): "
                "{n} of the other {others} configurations ({tied}); together they share: {shared}.",
                level=f"{LEVEL:.0%}",
                n=len(tied),
                others=len(summary) - 1,
                tied=", ".join(map(str, tied)),
                shared=shared_text(summary, factors, [best, *tied]),
            )
        else:
            text += tr(" Every other configuration is worse by more than a margin.")
    lines += [text, ""]
    if tables.costs is not None and (batch_varies(runs) or tables.cost != "epochs"):
        lines += [cost_text(tables.costs, best, factors, tables.cost), ""]
    effects = tables.effects
    for factor in pd.unique(effects["factor"]) if len(effects) else []:
        rows = effects[effects["factor"] == factor]
        if is_numeric(runs, factor):
            numbers = rows[["level_a", "level_b"]].apply(pd.to_numeric, errors="coerce")
            neighbours = rows[~(numbers["level_a"] > numbers["level_b"])]  # not a size factor's largest vs the rest
            size = size_text(rows) if factor in SIZE_FACTORS else ""
            lines += [numeric_paragraph(factor, neighbours, tables.trends) + size, ""]
            continue
        main = tables.main_effects[tables.main_effects["factor"] == factor]
        lines += [factor_paragraph(factor, rows, main if target else None), ""]
    if {"init", "activation"} <= set(factors):
        lines += init_depth_text(runs, results.curves, results.layout, margins)
    lines += [
        tr(
            "Each effect is \"A against B\": A's epochs or loss as a ratio to B's (below 1: A needs fewer), "
            "A's accuracy minus B's in points; the Hodges–Lehmann estimate of the per-seed differences "
            "with its {level} interval. Margins: {margins} (see the methods below).",
            level=f"{LEVEL:.0%}",
            margins=tr("; ").join(margin_text(m, margins[m]) for m in paired_metrics(runs)),
        ),
        "",
    ]
    lines += caveats(runs, factors, row, target, grid_edges(runs, factors, tables, best), depth=results.layout.depth)
    return lines


def _edge(value, grid):
    """ "low" or "high" where value is the smallest or largest of grid (3 values or more), else None."""
    grid = sorted(set(float(g) for g in grid))
    if len(grid) < 3:
        return None
    return "low" if float(value) == grid[0] else "high" if float(value) == grid[-1] else None


def grid_edges(runs, factors, tables, best):
    """Warnings for a best value at the edge of its grid, where a better one
    may lie outside it: each optimizer's best lr (lr_ranges), and the best
    configuration's level of every other numeric factor (within the level of
    a factor it is nested in); not a batch size of 1 or the whole training
    set, which cannot go further."""
    warnings = []
    for r in [] if tables.lr_ranges is None else tables.lr_ranges.to_dict("records"):
        grid = (
            tables.lr.loc[tables.lr["optimizer"] == r["optimizer"], "lr"]
            if "optimizer" in tables.lr
            else tables.lr["lr"]
        )
        side = _edge(r["best_lr"], grid)
        if side:
            warnings.append(
                tr(
                    "optimizer {optimizer}: the best lr, {lr}, is the {side} end of its grid "
                    "({grid}); a better lr may lie outside it.",
                    optimizer=r["optimizer"],
                    lr=f"{r['best_lr']:g}",
                    side=tr(side),
                    grid=", ".join(f"{g:g}" for g in sorted(grid)),
                )
            )
    row = runs[runs["config"] == best].iloc[0]
    for factor, rows, _, _, _ in neighbour_levels(runs, factors):
        if (factor == "lr" and tables.lr_ranges is not None) or best not in set(rows["config"]):
            continue
        grid = rows[factor].astype(float).unique()
        side = _edge(row[factor], grid)
        stuck = factor == "batch_size" and (float(row[factor]) == 1 or float(row[factor]) >= row.get("n_train", np.inf))
        if side and not stuck:
            warnings.append(
                tr(
                    "{factor}: the best configuration's {factor}, {value}, is the {side} end of its "
                    "grid ({grid}); a better value may lie outside it.",
                    factor=factor,
                    value=f"{float(row[factor]):g}",
                    side=tr(side),
                    grid=", ".join(f"{g:g}" for g in sorted(grid)),
                )
            )
    return warnings


def caveats(runs, factors, best, target, edges=(), depth=1):
    notes = [tr("**Warning**: {edge}", edge=edge) for edge in edges]
    if target and best["success_rate"] == 1 and best["epochs_median"] < EASY:
        notes.append(
            tr(
                "The task is easy at this size: the best configuration reaches ε in a median of "
                "{epochs} epochs, so a difference in epochs is often one epoch.",
                epochs=f"{best['epochs_median']:g}",
            )
        )
    if "init" in factors and depth == 1:
        notes.append(
            tr(
                "Initial values: the textbook's contrasts (std 0.01 fails to learn, He suits ReLU) come "
                "from a network of four or five hidden layers of 100 units; with one hidden layer one "
                "backpropagation step still gets a usable gradient, so they need not show here. "
                "experiments/depth_init.toml asks the same question in the book's network."
            )
        )
    elif "init" in factors:
        notes.append(
            tr(
                "Initial values at two depths: experiments/init.toml asks the same question of the "
                "lecture's one hidden layer of 3 units; docs/experiments.md quotes both answers side by side."
            )
        )
    return [tr("**Caveats**"), "", *(f"- {n}" for n in notes), ""] if notes else []
