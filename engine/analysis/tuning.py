"""What tuning did, for report.md: one figure with a row per tuned combination
of levels (the objective against each tuned setting, the chosen trial marked) and a
paragraph that states the protocol and warns when a choice sits on the edge
of its range. Reads tuning.csv and manifest.json's "tuning" (engine.sweep.tune)."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from ..schema import MANIFEST, TUNING_TABLE, VAL_ACC, VAL_LOSS
from .format import markdown_table, num
from .words import tr

DPI = 100
# A choice within this share of its range (on the range's scale) of a bound is
# "on the edge": the best setting may lie outside the range.
EDGE = 0.05
OBJECTIVE_WORDS = {
    "ert": (
        "expected running time to ε on the training set (all epochs run by a trial's runs per run "
        "that reached ε; +∞ without one), lower is better",
        "ERT (epochs)",
    ),
    VAL_LOSS: (
        "median validation loss over the trial's runs (a diverged run counts as +∞), lower is better",
        "median validation loss",
    ),
    VAL_ACC: (
        "mean validation accuracy over the trial's runs (a diverged run counts as 0), higher is better",
        "mean validation accuracy",
    ),
}


def tuned(results_folder):
    """Whether the experiment in the folder was tuned."""
    return (Path(results_folder) / TUNING_TABLE).exists()


def load_tuning(results_folder):
    """(tuning.csv as a DataFrame, the manifest's "tuning"), or None when the
    experiment was not tuned."""
    folder = Path(results_folder)
    if not tuned(folder):
        return None
    manifest = json.loads((folder / MANIFEST).read_text())
    return pd.read_csv(folder / TUNING_TABLE), manifest["tuning"]


def position(value, scale, low, high):
    """Where value sits in [low, high], 0 … 1, on the range's scale."""
    if scale == "log":
        return (np.log(value) - np.log(low)) / (np.log(high) - np.log(low))
    return (value - low) / (high - low)


def group_name(group):
    return ", ".join(f"{factor} {value}" for factor, value in group["levels"].items())


# Panel size and fixed margins (inches): a constrained layout measured every
# label again and took most of the analysis of a tuned experiment.
PANEL_W, PANEL_H = 2.7, 1.75
LEFT, RIGHT, BOTTOM, GAP_W, GAP_H = 0.95, 0.15, 0.5, 0.35, 0.7
MIN_WIDTH, KEY_WIDTH, LINE = 6.6, 1.6, 0.25  # room for the title; a legend entry; a line of text
TICKS = 4  # at most, per axis


def relative(table, objective):
    """(values, y label, y scale): each row's objective against the best at
    its rung (same group), since a rung's epoch budget sets the scale of its
    objectives (an ERT from 74 epochs is not one from 2000): a ratio to the
    rung's best for a lower-is-better objective (1 = the best), accuracy
    points below it for validation accuracy (0 = the best). NaN where the rung
    has no finite value."""
    value = table["value"].astype(float)
    finite = value.where(np.isfinite(value))
    by_rung = finite.groupby([table["group"], table["rung"]])
    if objective == VAL_ACC:
        return 100 * (by_rung.transform("max") - value), tr("points below the rung's best"), "linear"
    with np.errstate(divide="ignore", invalid="ignore"):
        return value / by_rung.transform("min"), tr("÷ the rung's best (log)"), "log"


def plot_tuning(table, tuning):
    """The objective of each trial against each tuned setting, a row of
    panels per tuned combination (tuning["groups"], in order) sharing its y
    axis: a trial at the last rung it reached (colour: its epoch budget),
    its objective relative to the best at that rung (`relative`), trials
    with no finite objective along the top edge, the chosen trial starred;
    the tuned range is shaded.

    Parameters
    ----------
    table : DataFrame, tuning.csv
    tuning : dict, manifest.json's "tuning"

    Returns
    -------
    matplotlib Figure
    """
    groups = tuning["groups"]
    columns = max(len(group["space"]) for group in groups)
    panels = columns * PANEL_W + (columns - 1) * GAP_W
    width = max(LEFT + panels + RIGHT, MIN_WIDTH)
    last = table.sort_values("rung", kind="stable").groupby(["group", "trial"]).tail(1)
    budgets = sorted(last["epochs"].unique())
    keys = len(budgets) + 2  # the budgets, "no finite value", "chosen"
    key_columns = min(keys, int(width // KEY_WIDTH))
    top = LINE * (3 + -(-keys // key_columns)) + 0.2  # two lines of title, legend rows, the first row's title
    height = top + BOTTOM + len(groups) * PANEL_H + (len(groups) - 1) * GAP_H
    fig = Figure(figsize=(width, height))
    grid = fig.add_gridspec(
        len(groups),
        columns,
        left=LEFT / width,
        right=(LEFT + panels) / width,
        bottom=BOTTOM / height,
        top=1 - top / height,
        wspace=GAP_W / PANEL_W,
        hspace=GAP_H / PANEL_H,
    )
    colors = {epochs: f"C{i}" for i, epochs in enumerate(budgets)}
    scores, label, yscale = relative(table, tuning["objective"])  # against every trial of the rung
    for g, group in enumerate(groups):
        trials = last[last["group"] == g]
        value = scores[trials.index].to_numpy(float)
        finite = np.isfinite(value)
        if yscale == "log":
            top = value[finite].max() * 1.3 if finite.any() else 2.0
        else:
            top = value[finite].max() * 1.1 + 0.1 if finite.any() else 1.0
        color = trials["epochs"].map(colors).to_numpy()
        chosen = trials["chosen"].to_numpy(bool)
        first = None
        for column, (key, (scale, low, high)) in enumerate(group["space"].items()):
            ax = fig.add_subplot(grid[g, column], sharey=first)
            ax.scatter(trials[key][finite], value[finite], s=14, c=color[finite])
            ax.scatter(trials[key][~finite], np.full((~finite).sum(), top), s=14, marker="^", c=color[~finite])
            ax.scatter(trials[key][chosen], value[chosen], s=130, marker="*", color="black", zorder=3)
            ax.axvspan(low, high, color="0.93", zorder=0)
            ax.set_xscale("log" if scale == "log" else "linear")
            # a few ticks and no minor ones: ticks took most of the drawing of the 27 panels of default.toml
            ax.xaxis.set_major_locator(LogLocator(numticks=TICKS) if scale == "log" else MaxNLocator(TICKS))
            ax.xaxis.set_minor_locator(NullLocator())
            margin = (high / low) ** 0.03 if scale == "log" else 0.03 * (high - low)
            ax.set_xlim(*((low / margin, high * margin) if scale == "log" else (low - margin, high + margin)))
            ax.set_xlabel(key, labelpad=1)
            if first is None:
                first = ax
                ax.set_yscale(yscale)  # the row's panels share it
                ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)) if yscale == "log" else MaxNLocator(TICKS))
                ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
                ax.yaxis.set_minor_locator(NullLocator())
                ax.set_ylabel(f"{tr(OBJECTIVE_WORDS[tuning['objective']][1])}\n{label}", fontsize="small")
                ax.set_title(group_name(group), loc="left", fontsize="medium")
            else:
                ax.tick_params(labelleft=False)

    def key(label, color, marker="o", size=5):
        return Line2D([], [], linestyle="", marker=marker, markersize=size, color=color, label=label)

    handles = [key(tr("{epochs} epochs", epochs=epochs), colors[epochs]) for epochs in budgets]
    handles += [key(tr("no finite value (top edge)"), "0.4", "^"), key(tr("chosen"), "black", "*", 12)]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncols=key_columns,
        fontsize="small",
        bbox_to_anchor=(0.5, 1 - LINE * 2.2 / height),
        frameon=False,
    )
    fig.suptitle(
        tr(
            "Tuning: each trial's objective at the last rung it reached (colour),\n"
            "relative to the best trial of that rung; tuned range shaded"
        ),
        y=1 - 0.08 / height,
        fontsize="medium",
    )
    return fig


def edge_warnings(tuning):
    """One line per chosen setting within EDGE of a bound of its range."""
    lines = []
    for group in tuning["groups"]:
        for key, (scale, low, high) in group["space"].items():
            at = position(group["chosen"][key], scale, low, high)
            if at <= EDGE or at >= 1 - EDGE:
                bound = "low" if at <= EDGE else "high"
                lines.append(
                    tr(
                        "- **Warning**: {group}: {key} = {value} sits at the {bound} edge of its range "
                        "[{low}, {high}]; the best value may lie outside it.",
                        group=group_name(group),
                        key=key,
                        value=f"{group['chosen'][key]:g}",
                        bound=tr(bound),
                        low=f"{low:g}",
                        high=f"{high:g}",
                    )
                )
    return lines


def range_texts(groups):
    """Each distinct search space once, named by the combinations holding it
    (optimizer sgd: lr log [0.01, 30]; optimizer momentum or nesterov: …)."""
    spaces = {}
    for group in groups:
        spaces.setdefault(json.dumps(group["space"]), []).append(group["levels"])
    everywhere = {f: {g["levels"][f] for g in groups} for f in groups[0]["levels"]} if groups else {}
    texts = []
    for space, levels in spaces.items():
        ranges = ", ".join(
            f"{key} {scale} [{low:g}, {high:g}]" for key, (scale, low, high) in json.loads(space).items()
        )
        texts.append(f"{holders(levels, everywhere)}: {ranges}")
    return texts


def holders(levels, everywhere):
    """The combinations `levels` (dicts factor -> level) named compactly: each
    factor's levels joined by "or", a factor at every level it takes
    (`everywhere`) left out, when they are exactly every combination of those;
    else one after another."""
    values = {f: list(dict.fromkeys(level[f] for level in levels)) for f in everywhere}
    named = {f: v for f, v in values.items() if set(v) != everywhere[f]}
    if len(levels) != math.prod(len(v) for v in values.values()):  # not a product: list them
        return tr(" or ").join("(" + ", ".join(f"{f} {v}" for f, v in level.items()) + ")" for level in levels)
    return ", ".join(f"{f} " + tr(" or ").join(map(str, v)) for f, v in named.items()) or tr("every combination")


def _seeds(seeds):
    seeds = list(seeds)
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return (
            tr("{n} seeds ({first}…{last})", n=len(seeds), first=seeds[0], last=seeds[-1])
            if len(seeds) > 1
            else tr("seed {seed}", seed=seeds[0])
        )
    return tr("{n} seeds ({seeds})", n=len(seeds), seeds=", ".join(map(str, seeds)))


def tuning_section(results_folder, figure=None):
    """report.md's section on tuning: the protocol in one paragraph, the
    chosen settings, edge-of-range warnings and the figure (plot_tuning,
    drawn by engine.analysis.figures). [] when the experiment was not tuned.

    Parameters
    ----------
    results_folder : path of a results folder
    figure : str, optional
        The file name of the drawn tuning figure (none shown when None).

    Returns
    -------
    list of str: Markdown lines
    """
    loaded = load_tuning(results_folder)
    if loaded is None:
        return []
    table, tuning = loaded
    epochs = table.groupby("rung")["epochs"].max()
    trials = tuning["trials"]
    budget = (
        tr("{trials} trials per combination, every one at the full epoch budget", trials=trials)
        if len(epochs) == 1
        else tr("{trials} trials per combination, by successive halving: ", trials=trials)
        + ", ".join(
            tr(
                "{keep} trials at {epochs} epochs" if keep > 1 else "{keep} trial at {epochs} epochs",
                keep=keep,
                epochs=epochs[k],
            )
            for k, (keep, _) in enumerate(tuning["rungs"])
        )
        + tr(" (the best 1/{halving} of a rung go on with {halving}× the epochs)", halving=tuning["halving"])
    )
    configs = {len(group["configs"]) for group in tuning["groups"]}
    protocol = tr(
        "Before the comparison, each combination of {factors} was tuned apart, with the "
        "same budget: random search over a scrambled Sobol sequence (scipy.stats.qmc.Sobol, sampler seed "
        "{sampler_seed}; samples rounded to 4 significant digits), {budget}. Ranges "
        "(log: uniform in the logarithm): {ranges}. A trial trains each of its combination's "
        "{configs} configuration(s) on the tuning seeds, {seeds}; its objective is the {objective}; ties go to "
        "the earlier trial. The comparison then ran each combination at its best trial's settings on the "
        "evaluation seeds, {evaluation}, none of them a tuning seed, so the "
        "choice is not fitted to the seeds it is judged on. Every trial: [tuning.csv](tuning.csv).",
        factors=", ".join(tuning["factors"]),
        sampler_seed=tuning["sampler_seed"],
        budget=budget,
        ranges="; ".join(range_texts(tuning["groups"])),
        configs=tr(" or ").join(map(str, sorted(configs))),
        seeds=_seeds(tuning["seeds"]),
        objective=tr(OBJECTIVE_WORDS[tuning["objective"]][0]),
        evaluation=_seeds(tuning["evaluation_seeds"]),
    )
    settings = list(dict.fromkeys(key for group in tuning["groups"] for key in group["space"]))
    rows = [
        [
            group_name(group),
            *(num(group["chosen"][k], 4) if k in group["chosen"] else "–" for k in settings),
            num(group["value"], 4),
        ]
        for group in tuning["groups"]
    ]
    return [
        tr("## Tuning"),
        "",
        protocol,
        "",
        markdown_table([tr("combination"), *settings, tr(OBJECTIVE_WORDS[tuning["objective"]][1])], rows),
        "",
        *edge_warnings(tuning),
        *([""] if edge_warnings(tuning) else []),
        *(
            [
                tr(
                    "![Tuning: the objective against each tuned setting, a row per combination of {factors}]({figure})",
                    factors=", ".join(tuning["factors"]),
                    figure=figure,
                )
            ]
            if figure
            else []
        ),
        "",
    ]
