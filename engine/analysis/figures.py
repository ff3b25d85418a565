"""Figures of a results folder (matplotlib, headless PNG).

Each `plot_*` function returns a matplotlib Figure (usable in a notebook);
`make_figures` draws every figure the experiment's factors allow and saves
them at DPI. Figures are built with the object API (`Figure`), not pyplot, so
drawing needs no display and never changes the caller's matplotlib backend.
A factor that an experiment does not vary is pooled ("all runs").
"""

import gc
import multiprocessing
import os
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib import colormaps, rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..kernels.threads import HELPER_NAME
from ..model import datasets
from ..model.data import glyphs
from ..model.equations import hidden_outputs
from ..model.layout import Layout
from ..options import hidden_from_label
from ..schema import (
    CONVERGED,
    DEAD_UNITS,
    DIVERGED,
    EPOCH,
    EPOCHS_RUN,
    EPOCHS_TO_TARGET,
    FIGURES,
    TEST_ACC,
    TRAIN_ACC,
    TRAIN_LOSS,
)
from .answer import name
from .format import epochs_or_never
from .load import KEY, run_weights
from .stats import censored_epochs, has_target
from .tables import composite_levels, describe, nested_factors, paired_metrics, paired_values, pooled_factors, ranked
from .tuning import load_tuning, plot_tuning, tuned
from .words import font_rc, tr

DPI = 100
# Relative drawing costs (tenths of a CPU second on default.toml, Intel Xeon; lr_sensitivity's
# estimated): the two drawing processes take the costliest figures first (draw).
COST = {
    "learning_curves": 20,
    "epochs_ecdf": 5,
    "regularization": 2,
    "success_heatmap": 1,
    "hidden_units": 3,
    "init_activations": 7,
    "lr_sensitivity": 2,
    "tuning": 24,
}
# Output ranges; h within SATURATED × the range of a bound counts as saturated.
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
SATURATED = 0.02
REGULARIZERS = ("regularization", "weight_decay", "dropout")
ERROR_LINEAR = 0.1  # %: one test image in 1000; the regularisation figure's error axis is log above it
# Learning-curve bands: grid epochs, log10-loss histogram bins, runs per chunk.
BAND_POINTS = 120
BIN_WIDTH = 0.005  # decades: quantiles exact to about ±0.6 %
LOSS_BINS = np.arange(-12.0, 6.0 + BIN_WIDTH / 2, BIN_WIDTH)
N_BINS = len(LOSS_BINS) - 1
INIT_SEEDS = 1000  # seeds whose initial activations are drawn: plenty for a histogram
INIT_VALUES = 2_000_000  # at most this many outputs of one layer at once (a few seeds of a deep, wide network)
INIT_BINS = 30
CHUNK_RUNS = 4096  # × BAND_POINTS values per temporary array: a few MB each


def _figure(width, height, *, left=0.85, right=0.15, bottom=0.55, top=0.45, wspace=0.2, hspace=0.2):
    """A width × height inch Figure whose subplots get fixed margins (inches;
    wspace and hspace as shares of a panel): a constrained layout measured
    every label again and took a fifth of the drawing."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=hspace,
    )
    return fig


def _labels(runs, column):
    """The levels of column as text, an ordered categorical; "all runs" when
    the column is absent."""
    if column not in runs:
        return pd.Series(pd.Categorical([tr("all runs")] * len(runs)), index=runs.index, name=column)
    values = runs[column].astype("category")
    return values.cat.rename_categories([str(c) for c in values.cat.categories])


def _groups(runs, column):
    """(label, rows) per level of column present in runs, in level order."""
    return list(runs.groupby(_labels(runs, column), observed=True, sort=True))


def _colors(runs, column):
    # The same level gets the same colour in every figure.
    levels = _labels(runs, column).cat.categories
    return {label: colormaps["tab10"](i % 10) for i, label in enumerate(levels)}


def _single(runs, column):
    values = runs[column].dropna().unique() if column in runs else []
    return values[0] if len(values) == 1 else None


def band_epochs(last):
    """The epochs at which learning-curve bands are drawn: 0, then about
    BAND_POINTS steps spaced evenly on the figures' log axis up to `last`."""
    return np.unique(np.r_[0, np.geomspace(1, max(last, 1), BAND_POINTS - 1).round()]).astype(np.int64)


def _losses_at(epoch, loss, run, stops, diverged, grid):
    """The training loss of each run (rows of one chunk, sorted by run then
    epoch; runs numbered 0…n−1) at each grid epoch: linear between records,
    the first record's loss before it; after its last record the last loss
    for a run that stopped and +∞ for one that diverged. Shape (n, len(grid))."""
    n, span = len(stops), int(max(epoch.max(), grid.max())) + 2
    keys = run * span + epoch
    owner = np.repeat(np.arange(n), len(grid))
    at = np.searchsorted(keys, owner * span + np.tile(grid, n), side="right") - 1  # last record ≤ epoch
    at = np.maximum(at, np.searchsorted(keys, np.arange(n) * span)[owner])  # not before the run's first
    nxt = np.minimum(at + 1, len(keys) - 1)
    inside = (nxt > at) & (run[nxt] == owner)
    g = np.tile(grid, n)
    t = np.where(inside, np.clip((g - epoch[at]) / np.maximum(epoch[nxt] - epoch[at], 1), 0, 1), 0.0)
    with np.errstate(invalid="ignore"):  # inf − inf where a diverged run's records are +∞
        value = np.where(t > 0, loss[at] + t * (loss[nxt] - loss[at]), loss[at])
    value = np.where(~inside & (g > stops[owner]) & diverged[owner], np.inf, value)
    return value.reshape(n, len(grid))


def loss_bands(curves, runs, group, *, chunk_runs=CHUNK_RUNS):
    """Quartiles of the training loss per group of runs at `band_epochs`,
    with memory bounded by the chunk and the histogram, not by the runs.

    curves: config, seed, epoch, train_loss rows, sorted by them; runs: config,
    seed, diverged; group: a group number (0…k−1) per run. Each run's loss at
    the grid epochs (`_losses_at`) is counted into LOSS_BINS (log10 bins of
    width BIN_WIDTH; a non-finite loss counts as +∞, so the band does not drop
    the runs that blew up), chunk by chunk; a quantile is the centre of the
    bin that holds it (exact to half a bin), NaN where it is +∞.

    Returns (grid, q) with q of shape (k, 3, len(grid)) for the quartiles.
    """
    config, seed = (curves[c].to_numpy(np.int64) for c in KEY)
    starts = np.ones(len(config), bool)  # a run's first row (curves are sorted by KEY)
    starts[1:] = (config[1:] != config[:-1]) | (seed[1:] != seed[:-1])
    row_of = pd.MultiIndex.from_frame(runs[KEY]).get_indexer(pd.MultiIndex.from_arrays([config[starts], seed[starts]]))
    epoch = curves[EPOCH].to_numpy(np.int64)
    loss = curves[TRAIN_LOSS].to_numpy(float, na_value=np.nan)
    if (row_of < 0).any():  # runs that are not in `runs` are left out
        kept = (row_of >= 0)[np.cumsum(starts) - 1]
        row_of, starts, epoch, loss = row_of[row_of >= 0], starts[kept], epoch[kept], loss[kept]
    run = np.cumsum(starts) - 1
    group_of = np.asarray(group)[row_of]
    diverged_of = runs[DIVERGED].to_numpy(bool)[row_of]
    last = np.flatnonzero(np.r_[run[1:] != run[:-1], True])  # each run's last record
    grid = band_epochs(epoch.max() if len(epoch) else 0)
    k = int(np.max(group)) + 1 if len(group) else 0
    counts = np.zeros(k * len(grid) * (N_BINS + 1), np.int64)
    first = np.r_[0, last[:-1] + 1]
    for start in range(0, len(last), chunk_runs):
        runs_in = slice(start, start + chunk_runs)
        lo, hi = first[runs_in][0], last[runs_in][-1] + 1
        part = loss[lo:hi]
        values = _losses_at(
            epoch[lo:hi],
            np.where(np.isfinite(part), part, np.inf),
            run[lo:hi] - start,
            epoch[last[runs_in]],
            diverged_of[runs_in],
            grid,
        )
        with np.errstate(divide="ignore"):
            b = np.floor((np.log10(np.maximum(values, 0)) - LOSS_BINS[0]) / BIN_WIDTH)
        b = np.where(np.isfinite(values), np.clip(np.nan_to_num(b, neginf=0), 0, N_BINS - 1), N_BINS)
        cell = group_of[runs_in][:, None] * len(grid) + np.arange(len(grid))[None, :]
        counts += np.bincount((cell * (N_BINS + 1) + b.astype(np.int64)).ravel(), minlength=counts.size)
    cumulative = counts.reshape(k, len(grid), N_BINS + 1).cumsum(axis=2)
    total = cumulative[:, :, -1:]
    q = np.empty((k, 3, len(grid)))
    for i, share in enumerate((0.25, 0.5, 0.75)):
        # The order statistic of rank ⌈share·n⌉ (at least the first).
        b = np.argmax(cumulative >= np.maximum(np.ceil(share * total), 1), axis=2)
        centre = 10.0 ** (LOSS_BINS[0] + (b + 0.5) * BIN_WIDTH)
        q[:, i] = np.where((b < N_BINS) & (total[:, :, 0] > 0), centre, np.nan)
    return grid, q


def plot_learning_curves(runs, curves, *, hue="optimizer", facet="activation"):
    """Median training loss and interquartile band per `hue` level, one panel
    per `facet` level, log-scaled loss; with a target ε a second row shows
    the share of runs not yet below ε at each epoch, so runs that never reach
    it stay visible where the bands have collapsed onto ε."""
    panels = _groups(runs, facet)
    colors = _colors(runs, hue)
    target = _single(runs, "target_loss")
    survival = target is not None and np.isfinite(target)
    fig = _figure(4.2 * len(panels) + 1.2, 4.2 + 2.3 * survival, top=0.65, wspace=0.06, hspace=0.25)
    axes = fig.subplots(
        1 + survival,
        len(panels),
        sharex=True,
        sharey="row",
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.5][: 1 + survival]},
    )
    panel_of, hue_of = _labels(runs, facet), _labels(runs, hue)
    hues = list(hue_of.cat.categories)
    cell = panel_of.cat.codes.to_numpy(np.int64) * len(hues) + hue_of.cat.codes.to_numpy(np.int64)
    grid, q = loss_bands(curves, runs, cell)
    for column, (panel, rows) in enumerate(panels):
        ax = axes[0, column]
        for label, group in _groups(rows, hue):
            q25, q50, q75 = q[list(panel_of.cat.categories).index(panel) * len(hues) + hues.index(label)]
            ax.plot(grid, q50, color=colors[label], label=f"{label} (n={len(group)})")
            ax.fill_between(grid, q25, q75, color=colors[label], alpha=0.2, linewidth=0)
            if survival:
                t = censored_epochs(group)
                axes[1, column].step(
                    grid,
                    (t[None, :] > grid[:, None]).mean(axis=1),
                    where="post",
                    color=colors[label],
                    label=tr("{label}: {share} never", label=label, share=f"{np.isinf(t).mean():.0%}"),
                )
        if survival:
            ax.axhline(target, color="0.3", linestyle="--", linewidth=1, label=f"ε = {target:g}")
            below = axes[1, column]
            below.set_ylim(-0.02, 1.02)
            below.grid(alpha=0.3)
            below.set_xlabel(tr("epoch (log scale)"))
            below.legend(fontsize="small", loc="lower left")
        else:
            ax.set_xlabel(tr("epoch (log scale)"))
        ax.set_yscale("log")
        # Most runs settle early in a long budget: log epochs, linear up to 1 so epoch 0 shows.
        ax.set_xscale("symlog", linthresh=1, linscale=0.6)
        ax.set_title(f"{facet} = {panel}" if facet in runs else panel)
        ax.legend(fontsize="small", title=hue if hue in runs else None)
    axes[0, 0].set_ylabel(tr("training loss E (log scale)"))
    if survival:
        axes[1, 0].set_ylabel(tr("share of runs\nnot yet below ε"))
    fig.suptitle(tr("Learning curves: median and interquartile band of the training loss"))
    return fig


def plot_epochs_ecdf(runs, *, hue="optimizer", facet=None):
    """Fraction of runs that reached ε by epoch k, per `hue` level, one panel
    per `facet` level (one panel when facet is None); censored runs never
    count."""
    budget = float(runs["epochs"].astype(float).max() if "epochs" in runs else runs[EPOCHS_RUN].max())
    colors = _colors(runs, hue)
    panels = _groups(runs, facet) if facet else [(None, runs)]
    fig = _figure(4.2 * len(panels) + 2.2, 4.4, top=0.65, wspace=0.06)
    axes = fig.subplots(1, len(panels), sharex=True, sharey=True, squeeze=False)
    target = _single(runs, "target_loss")
    for ax, (panel, rows) in zip(axes[0], panels):
        for label, group in _groups(rows, hue):
            t = np.sort(censored_epochs(group))
            t = np.maximum(t[np.isfinite(t)], 1)  # epoch 0 sits at the left edge of the log axis
            solved = np.arange(1, len(t) + 1) / len(group)
            ax.step(
                np.r_[1, t, budget],
                np.r_[0, solved, solved[-1] if len(t) else 0],
                where="post",
                color=colors[label],
                label=tr("{label}: {share} of {n}", label=label, share=f"{len(t) / len(group):.0%}", n=len(group)),
            )
        # A log axis, as COCO draws its ECDFs: fast and slow solvers both stay legible.
        ax.set_xscale("log")
        ax.set_xlabel(tr("epoch k (log scale)"))
        ax.set_xlim(1, max(budget, 2))
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if panel is not None:
            ax.set_title(f"{facet} = {panel}" if facet in runs else panel)
        ax.legend(title=hue if hue in runs else None, loc="lower right", fontsize="small")
    axes[0, 0].set_ylabel(tr("fraction of runs with E < ε"))
    fig.suptitle(tr("Runs that reached ε{value} by epoch k", value=f" = {target:g}" if target is not None else ""))
    return fig


def overfitting_gap(runs):
    """Mean final train accuracy minus mean test accuracy."""
    return runs[TRAIN_ACC].mean() - runs[TEST_ACC].mean()


def seed_errors(runs, column):
    """Per seed, the mean error rate 1 − accuracy (in %) of the runs' column:
    the seed is the unit of replication, as in the paired tests."""
    return 100 * (1 - runs.groupby("seed", observed=True)[column].mean().dropna().to_numpy(float))


def gap_over_epochs(runs, curves, factor):
    """{level: Series over the recorded epochs} of `factor`: the median over
    the level's runs of train minus test accuracy at each epoch (a run that
    stopped at ε no longer counts)."""
    levels = runs[list(KEY)].assign(_level=_labels(runs, factor).array)  # categorical: levels in order
    gaps = curves[[*KEY, EPOCH]].assign(_gap=curves[TRAIN_ACC] - curves[TEST_ACC]).merge(levels, on=list(KEY))
    return {
        label: rows.groupby(EPOCH)["_gap"].median() for label, rows in gaps.groupby("_level", observed=True, sort=True)
    }


def plot_regularization(runs, curves=None, *, factor="regularization"):
    """Train and test error rate per level of `factor`, side by side, one dot
    per seed (its runs' mean) and a bar at the median: the gap between them
    is the overfitting. The error axis is linear up to ERROR_LINEAR % and
    logarithmic above it, so seeds near 0 % and a few near 50 % both show.
    With curves, a second panel: each level's median train − test accuracy
    gap over the epochs (`gap_over_epochs`), where a regulariser that closes
    the gap shows as a line that stays lower."""
    groups = _groups(runs, factor)
    long = max(len(label) for label, _ in groups) > 12
    extra = 0.0 if curves is None else 4.6
    fig = _figure(1.5 * len(groups) + 3.0 + extra, 4.4, bottom=1.0 if long else 0.6)
    widths = [1.5 * len(groups) + 2.0] + ([] if curves is None else [3.6])
    ax, *right = fig.subplots(1, len(widths), width_ratios=widths, squeeze=False)[0]
    colors = {TRAIN_ACC: "tab:blue", TEST_ACC: "tab:orange"}
    error_names = {TRAIN_ACC: tr("train error"), TEST_ACC: tr("test error")}
    highest = 0.0
    for i, (_, rows) in enumerate(groups):
        for offset, column in ((-0.2, TRAIN_ACC), (0.2, TEST_ACC)):
            errors = seed_errors(rows, column)
            # Even spread across the strip: no random jitter, so the figure is the same on every run.
            x = i + offset + (np.linspace(-0.13, 0.13, errors.size) if errors.size > 1 else np.zeros(errors.size))
            ax.scatter(x, errors, s=9, color=colors[column], alpha=0.6, linewidths=0, zorder=3)
            highest = max(highest, errors.max(initial=0))
            if errors.size:
                ax.hlines(np.median(errors), i + offset - 0.16, i + offset + 0.16, color="black", linewidth=1.5)
        ax.annotate(
            tr("gap {gap}", gap=f"{overfitting_gap(rows):+.3f}"),
            (i, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_xticks(
        range(len(groups)), [label for label, _ in groups], rotation=20 if long else 0, ha="right" if long else "center"
    )
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_yscale("symlog", linthresh=ERROR_LINEAR, linscale=0.5)
    ax.set_ylim(0, max(10 * ERROR_LINEAR, 2 * highest))  # room above the highest seed
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.grid(axis="y", alpha=0.3)
    ax.set_xlabel(factor)
    ax.set_ylabel(tr("error rate, % (1 − accuracy; log above {linear} %)", linear=f"{ERROR_LINEAR:g}"))
    ax.set_title(tr("Train vs test error by regularisation, one dot per seed (gap = overfitting)"), pad=18)
    ax.legend(
        handles=[Patch(facecolor=colors[c], alpha=0.6, label=error_names[c]) for c in colors]
        + [Line2D([], [], color="black", label=tr("median seed"))],
        loc="upper left",
        fontsize="small",
    )
    if right:
        (over,) = right
        hue = _colors(runs, factor)
        for label, gap in gap_over_epochs(runs, curves, factor).items():
            over.plot(gap.index, gap.to_numpy(), color=hue[label], label=label)
        over.axhline(0, color="gray", linewidth=0.8)
        over.set_xlabel(tr("epoch"))
        over.set_ylabel(tr("train − test accuracy (median run)"))
        over.set_title(tr("The gap over the epochs"), pad=18)
        over.grid(alpha=0.3)
        over.legend(title=factor, fontsize="small")
    return fig


def success_cells(runs, rows, cols):
    """Success rate (share converged) and mean dead units per rows × cols cell;
    empty cells are NaN."""
    return (
        runs[[CONVERGED, DEAD_UNITS]]
        .astype(float)
        .groupby([_labels(runs, rows), _labels(runs, cols)], observed=False)
        .mean()
    )


def plot_success_heatmap(runs, *, rows="init", cols="activation"):
    """Success rate (reached ε) per `rows` × `cols` cell, annotated with the
    mean number of dead hidden units."""
    cells = success_cells(runs, rows, cols)
    rate, dead = (cells[c].unstack() for c in (CONVERGED, DEAD_UNITS))
    fig = _figure(1.6 * rate.shape[1] + 3.4, 1.1 * rate.shape[0] + 2.0, left=1.0, right=0.1, top=0.6)
    ax = fig.subplots()
    image = ax.imshow(rate, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(rate.to_numpy()):
        if np.isfinite(value):
            ax.text(
                j,
                i,
                tr("{share}\n{dead} dead", share=f"{value:.0%}", dead=f"{dead.iat[i, j]:.1f}"),
                ha="center",
                va="center",
                color="white" if value < 0.6 else "black",
                fontsize="small",
            )
    ax.set_xticks(range(rate.shape[1]), rate.columns)
    ax.set_yticks(range(rate.shape[0]), rate.index)
    ax.set_xlabel(cols)
    ax.set_ylabel(rows)
    fig.colorbar(image, ax=ax, label=tr("success rate (fraction reaching ε)"))
    ax.set_title(
        tr(
            "Success rate by {rows} × {cols}\n(text: success rate, mean dead hidden units per run)",
            rows=rows,
            cols=cols,
        ),
        fontsize="medium",
    )
    return fig


def plot_hidden_units(theta, layout, *, title):
    """The hidden units' incoming weights of one run as 4×3 images, beside the
    C and T glyphs (white = ink)."""
    W_out, _, W_hid, th_hid = layout.unpack(np.asarray(theta, dtype=float))
    X, _ = glyphs()
    n = 2 + layout.n_hidden
    fig = _figure(1.9 * n + 1.2, 3.6, left=0.6, right=0.1, top=1.25, bottom=0.55, wspace=0.35)
    axes = fig.subplots(1, n)
    for ax, letter, x in zip(axes, "CT", X):
        ax.imshow(x.reshape(4, 3), cmap="gray", vmin=0, vmax=1)
        ax.set_title(tr("glyph {letter}", letter=letter))
    finite = np.abs(W_hid[np.isfinite(W_hid)])  # a diverged run may have lost some
    limit = finite.max() if finite.size and finite.max() > 0 else 1.0
    for i, ax in enumerate(axes[2:]):
        image = ax.imshow(W_hid[i].reshape(4, 3), cmap="RdBu_r", vmin=-limit, vmax=limit)
        votes = ", ".join(f"{c} {w:+.1f}" for c, w in zip("CT", W_out[:, i]))
        ax.set_title(
            tr("hidden {i}\nθ = {theta}\nto {votes}", i=i + 1, theta=f"{th_hid[i]:+.2f}", votes=votes), fontsize="small"
        )
    for ax in axes:
        ax.set_xticks(range(3), [1, 2, 3])
        ax.set_yticks(range(4), [1, 2, 3, 4])
        ax.set_xlabel(tr("pixel column"))
    axes[0].set_ylabel(tr("pixel row"))
    fig.colorbar(image, ax=axes[2:], label=tr("weight w (input pixel → hidden unit)"), shrink=0.8)
    fig.suptitle(title)
    return fig


def init_seeds(runs, layout, n_samples):
    """The runs' first seeds whose initial activations are drawn: at most
    INIT_SEEDS, and few enough that one layer's outputs over them stay within
    INIT_VALUES numbers (a deep, wide network on many images)."""
    per_seed = n_samples * max(layout.hidden)
    return np.sort(runs["seed"].unique())[: max(1, min(INIT_SEEDS, INIT_VALUES // per_seed))]


def init_activations(runs, layout, data):
    """((init, activation), [h^1, …, h^D]) per cell: every hidden layer's
    outputs h^l [seeds, samples, H_l] at initialisation on the training
    inputs (engine.model.equations.hidden_outputs), over `init_seeds`; one
    cell at a time, so only one cell's outputs are held."""
    from ..model.initial import initial_params  # loads numba, a heavy import: only for this figure

    X = datasets.load(data).X_train
    seeds = init_seeds(runs, layout, X.shape[0])
    activations = [label for label, _ in _groups(runs, "activation")]
    for init in [label for label, _ in _groups(runs, "init")]:
        theta = initial_params(layout, init, seeds)  # one draw per init, shared by the activations
        for activation in activations:
            yield (init, activation), hidden_outputs(theta, X, activation, layout)


def saturated(h, activation):
    """Fraction of h where the unit passes (almost) no gradient back: a ReLU
    output of 0, a sigmoid or tanh output near a bound."""
    if activation == "relu":
        return float(np.mean(h <= 0))
    lo, hi = RANGES[activation]
    return float(np.mean(np.minimum(h - lo, hi - h) <= SATURATED * (hi - lo)))


@dataclass
class LayerHistograms:
    """One init × activation cell's hidden outputs, layer by layer: shares[l]
    is layer l + 1's histogram over `edges` as shares of all its values
    (ReLU's zeros left out of the bars: `saturated` counts them), `saturated`
    and `spread` (standard deviation of h) per layer."""

    edges: np.ndarray
    shares: np.ndarray
    saturated: np.ndarray
    spread: np.ndarray


def layer_histograms(layers, activation, bins=INIT_BINS):
    """LayerHistograms of [h^1, …, h^D] on one range for every layer: the
    activation's output range, or for ReLU 0 to the largest output of any
    layer, so a layer whose outputs shrink shows as bars that move left."""
    top = max(float(h.max()) for h in layers)
    lo, hi = RANGES.get(activation, (0.0, top if top > 0 else 1.0))
    shares = []
    for h in layers:
        drawn = h[h > 0] if activation == "relu" else h
        counts, edges = np.histogram(drawn, bins=bins, range=(lo, hi))
        shares.append(counts / h.size)
    return LayerHistograms(
        edges=edges,
        shares=np.array(shares),
        saturated=np.array([saturated(h, activation) for h in layers]),
        spread=np.array([float(h.std()) for h in layers]),
    )


def init_fact(histograms):
    """The figure's caption fact: per cell, the spread of h and the share
    saturated (or zero) in the first and the last hidden layer."""
    depth = len(next(iter(histograms.values())).spread)
    where = tr("layer 1 → {depth}", depth=depth) if depth > 1 else tr("one hidden layer")
    cells = tr("; ").join(
        f"{init} · {a} {_arrow(c.spread, '.2g')}, {_arrow(c.saturated, '.0%')}" for (init, a), c in histograms.items()
    )
    return tr(
        "Spread (standard deviation) of h, then share saturated or zero ({where}): {cells}.", where=where, cells=cells
    )


def _arrow(values, spec):
    return f"{values[0]:{spec}}" if len(values) == 1 else f"{values[0]:{spec}} → {values[-1]:{spec}}"


def plot_init_activations(histograms):
    """Histograms of each hidden layer's outputs at initialisation: one row
    per init × activation, one column per layer (Saito, figs. 6-10 to 6-14);
    the panels of a row share their axes, so a layer's spread shows against
    the layer before."""
    cells = list(histograms)
    depth = len(histograms[cells[0]].shares)
    height = 1.25 * (len(cells) + 1)  # quarters of an inch: a whole number of pixels at DPI in any matplotlib
    fig = _figure(max(1.9 * depth, 3.8) + 1.5, height, left=1.25, top=0.85, bottom=0.5, wspace=0.1, hspace=0.55)
    axes = fig.subplots(len(cells), depth, squeeze=False)
    for i, (init, activation) in enumerate(cells):
        cell = histograms[init, activation]
        top = max(cell.shares.max(), 1e-9)
        what = "h = 0" if activation == "relu" else tr("sat.")
        for l, ax in enumerate(axes[i]):
            ax.stairs(cell.shares[l], cell.edges, fill=True, color="tab:purple")
            ax.set_xlim(cell.edges[0], cell.edges[-1])
            ax.set_ylim(0, 1.15 * top)
            ax.text(
                0.97,
                0.93,
                f"{what} {cell.saturated[l]:.0%}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize="x-small",
            )
            ax.tick_params(labelsize="x-small")
            ax.xaxis.set_major_locator(MaxNLocator(3))
            if l:
                ax.set_yticklabels([])
            if i == 0:
                ax.set_title(tr("hidden layer {l}", l=l + 1), fontsize="small")
        axes[i, 0].yaxis.set_major_locator(MaxNLocator(2))
        axes[i, 0].set_ylabel(f"{init}\n{activation}", fontsize="small", rotation=0, ha="right", va="center")
    for ax in axes[-1]:
        ax.set_xlabel("h", fontsize="small")
    # a fixed inch from the top: the default (a share of the height) ran into the layers' titles on tall figures
    fig.suptitle(
        tr("Hidden outputs h at the initial weights\n(bars: shares of a layer's values)"),
        y=1 - 0.08 / height,
        va="top",
        fontsize="medium",
    )
    return fig


def plot_lr_sensitivity(table):
    """Success rate and median final training loss against lr per optimizer;
    a star marks each optimizer's best lr, filled markers its good range."""
    fig = _figure(11, 4.4, right=1.75, top=0.5, wspace=0.3)
    left, right = fig.subplots(1, 2)
    groups = _groups(table, "optimizer")
    colors = _colors(table, "optimizer")
    for label, rows in groups:
        color = colors[label]
        for ax, column in ((left, "success_rate"), (right, "train_loss_median")):
            ax.plot(rows["lr"], rows[column], color=color, label=label)
            ax.scatter(
                rows["lr"],
                rows[column],
                s=28,
                edgecolors=color,
                facecolors=[color if good else "white" for good in rows["good"]],
                zorder=3,
            )
            best = rows[rows["best"]]
            ax.scatter(best["lr"], best[column], marker="*", s=180, color=color, edgecolors="black", zorder=4)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel(tr("learning rate η (log scale)"))
        ax.grid(alpha=0.3)
    left.set_ylabel(tr("success rate (fraction reaching ε)"))
    left.set_ylim(-0.02, 1.02)
    right.set_yscale("log")
    right.set_ylabel(tr("median training loss at stop (log scale)"))
    fig.legend(
        *left.get_legend_handles_labels(), title=tr("optimizer\n(★ best, ● good)"), loc="center right", fontsize="small"
    )
    fig.suptitle(tr("Learning-rate sensitivity, pooled over the other factors and seeds"))
    return fig


@dataclass
class Figures:
    """What make_figures drew (key -> file name), what it skipped (key -> why)
    and facts about the drawn figures for their captions (key -> text)."""

    drawn: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    hue: str | None = None  # the factors the curve and ECDF figures follow
    facet: str | None = None


def best_run(runs, params):
    """(config, seed) of the best run with saved weights: reached ε, then the
    highest test accuracy, then the fewest epochs."""
    keys = runs.merge(params[KEY], on=KEY)
    order = keys.assign(_acc=keys[TEST_ACC].fillna(-1.0), _t=censored_epochs(keys))
    top = order.sort_values(
        [CONVERGED, "_acc", "_t", "config", "seed"], ascending=[False, False, True, True, True]
    ).iloc[0]
    return int(top["config"]), int(top["seed"])


MAX_UNITS_DRAWN = 10  # hidden units side by side in one row of the hidden-units figure


def run_layout(largest, row):
    """The network of a run (row of the runs table): its own hidden widths
    where the experiment varied them (its params columns are among every network's)."""
    return Layout(largest.n_in, hidden_from_label(row["hidden"]), largest.n_out) if "hidden" in row else largest


def _data_settings(results):
    """make_dataset arguments from the manifest, else from the runs' columns."""
    if "data" in results.manifest:
        return dict(results.manifest["data"])
    kinds = {"n_train": int, "n_test": int, "flip": float, "noise": float, "data_seed": int}
    values = {column: _single(results.runs, column) for column in kinds}
    if any(v is None for v in values.values()):
        return None
    return {column.removeprefix("data_"): kinds[column](v) for column, v in values.items()}


def _shares(pairs):
    return ", ".join(f"{label} {value:.0%}" for label, value in pairs)


def effect_spreads(runs, factors):
    """(metric, {factor: spread}): how far apart the factor's level means lie
    on the primary metric, epochs to ε (as logs: a ratio; never reached counts
    as budget + 1) where a run reached ε, else test accuracy."""
    metric = paired_metrics(runs)[0]
    x = paired_values(runs, metric)
    x = pd.Series(np.log(-x) if metric == EPOCHS_TO_TARGET else x, index=runs.index)
    means = {f: x.groupby(runs[f], observed=True).mean().dropna() for f in factors}
    return metric, {f: float(np.ptp(m)) if len(m) else 0.0 for f, m in means.items()}  # all NaN: every run diverged


def figure_factors(results):
    """(hue, facet) of the learning-curve and ECDF figures: the manifest's
    report choice ({"report": {"hue": ..., "facet": ...}}) where it names
    columns of the runs, else the factor with the largest effect on the
    primary metric (`effect_spreads`) and the next one, among the factors that
    vary and mean the same across the others' levels (`pooled_factors`: not
    each optimizer's own lrs); facet None when there is none, hue None when
    no factor varies."""
    runs = results.runs
    choice = results.manifest.get("report", {}) if isinstance(results.manifest.get("report"), dict) else {}
    varying = [f for f in pooled_factors(runs, results.factors) if runs[f].nunique() > 1]
    _, spread = effect_spreads(runs, varying)
    varying.sort(key=lambda f: -spread[f])  # stable: ties keep the experiment's order
    hue = choice.get("hue") if choice.get("hue") in runs else (varying[0] if varying else None)
    rest = [f for f in varying if f != hue]
    facet = choice.get("facet") if choice.get("facet") in runs else (rest[0] if rest else None)
    return hue, (facet if facet != hue else None)


def colour_fact(runs, factors, hue):
    """The learning curves' caption fact: how far apart the colour factor's
    levels lie on the primary metric, and whether that is the most of any factor."""
    if hue is None or hue not in factors:
        return ""
    varying = [f for f in pooled_factors(runs, factors) if runs[f].nunique() > 1]
    metric, spread = effect_spreads(runs, sorted({*varying, hue}, key=factors.index))
    detail = (
        tr(
            "its slowest level needs {ratio}× the epochs to ε of its fastest (geometric "
            "means; a run that never reached ε counts as the budget + 1)",
            ratio=f"{np.exp(spread[hue]):.2f}",
        )
        if metric == EPOCHS_TO_TARGET
        else tr(
            "its levels' mean {metric} differ by up to {points} points",
            metric=name(metric),
            points=f"{100 * spread[hue]:.2f}",
        )
    )
    most = spread[hue] >= max(spread.values())
    return (
        tr("Colour: {hue}", hue=hue)
        + (tr(", the factor with the largest effect") if most else "")
        + tr("; {detail}.", detail=detail)
    )


def _best_cells(runs):
    """The heat map's caption fact: its best cells under the rule for "best"
    (success rate, then median epochs, then test accuracy; ties named), and
    its worst by success rate."""
    cells = [
        {"cell": " · ".join(map(str, key)), **describe(rows)}
        for key, rows in runs.groupby([_labels(runs, "init"), _labels(runs, "activation")], observed=True, sort=True)
    ]
    order = ranked(pd.DataFrame(cells))
    best = order[order["rank"] == 1]
    worst = order.sort_values("success_rate", kind="stable").iloc[0]

    def outcome(r):
        return tr(
            "{share}, median epochs {epochs}, test accuracy {accuracy}",
            share=f"{r['success_rate']:.0%}",
            epochs=epochs_or_never(r["epochs_median"]),
            accuracy=f"{r['test_acc_mean']:.3f}",
        )

    tied = tr(" (tied with {cells})", cells=", ".join(best["cell"].iloc[1:])) if len(best) > 1 else ""
    return tr(
        "Best cell: {cell} ({outcome}){tied}; worst: {worst} ({share}).",
        cell=best.iloc[0]["cell"],
        outcome=outcome(best.iloc[0]),
        tied=tied,
        worst=worst["cell"],
        share=f"{worst['success_rate']:.0%}",
    )


def make_figures(results, tables, outdir, *, run=None):
    """Draw every figure the experiment allows into outdir; returns Figures.
    run: (config, seed) whose hidden units are drawn (default: best_run)."""
    figures, tasks = plan_figures(results, tables.lr, tables.lr_ranges, run)
    draw_figures(figures, tasks, outdir)
    return figures


def draw_figures(figures, tasks, outdir, meanwhile=None):
    """Draw plan_figures' tasks into outdir, in the language's fonts, and keep
    their caption facts in figures; returns what meanwhile() returned (see draw)."""
    with rc_context(font_rc()):  # the language's fonts, in the drawing process too (forked)
        facts, result = draw(tasks, outdir, meanwhile)
    figures.facts = {key: fact for key, fact in facts.items() if fact}
    return result


def plan_figures(results, lr, lr_ranges, run=None):
    """(Figures, tasks): the figures the experiment allows, each a task (key ->
    a function that builds the figure and returns it with its caption fact),
    and why the others are skipped; nothing is drawn yet. lr, lr_ranges:
    tables.lr_tables' pair; run as make_figures takes it."""
    runs, factors, figures = results.runs, results.factors, Figures()
    hue, facet = figure_factors(results)
    figures.hue, figures.facet = hue, facet
    # key -> a function that builds the figure and returns it with its caption fact
    curves_fact = colour_fact(runs, factors, hue)
    tasks = {"learning_curves": lambda: (plot_learning_curves(runs, results.curves, hue=hue, facet=facet), curves_fact)}

    if runs[CONVERGED].any():
        solved = _shares((label, rows[CONVERGED].mean()) for label, rows in _groups(runs, hue))
        tasks["epochs_ecdf"] = lambda: (
            plot_epochs_ecdf(runs, hue=hue, facet=facet),
            tr("By the end of the budget these shares of runs reached ε: {solved}.", solved=solved),
        )
    else:
        figures.skipped["epochs_ecdf"] = (
            tr("no run reached the target loss ε") if has_target(runs) else tr("no target loss ε was set")
        )

    regularizer = next((f for f in REGULARIZERS if f in factors), None)
    if regularizer:
        # One box pair per strength too, where a regulariser has several (nested factors).
        levels = runs.assign(
            **{regularizer: composite_levels(runs, regularizer, nested_factors(runs, factors, regularizer))}
        )
        gaps = ", ".join(f"{label} {overfitting_gap(rows):+.3f}" for label, rows in _groups(levels, regularizer))
        tasks["regularization"] = lambda: (
            plot_regularization(levels, results.curves, factor=regularizer),
            tr("Mean train − test accuracy gap: {gaps}.", gaps=gaps),
        )
    else:
        figures.skipped["regularization"] = tr("the experiment does not vary regularisation")

    if not has_target(runs):
        figures.skipped["success_heatmap"] = tr("no target loss ε was set, so there is no success rate to map")
    elif "init" in factors or "activation" in factors:
        best_cells = _best_cells(runs)
        tasks["success_heatmap"] = lambda: (plot_success_heatmap(runs), best_cells)
    else:
        figures.skipped["success_heatmap"] = tr("the experiment varies neither init nor activation")

    if results.params is None:
        figures.skipped["hidden_units"] = tr("params.csv is missing")
    else:
        config, seed = run or best_run(runs, results.params)
        theta = run_weights(results, config, seed)
        if theta is None:
            figures.skipped["hidden_units"] = tr(
                "params.csv has no row for config {config}, seed {seed}", config=config, seed=seed
            )
        else:
            row = runs[(runs["config"] == config) & (runs["seed"] == seed)].iloc[0]
            levels_of_run = ", ".join(f"{f} {row[f]}" for f in factors)
            title = tr(
                "Learned hidden units of config {config}, seed {seed}\n({levels})",
                config=config,
                seed=seed,
                levels=levels_of_run,
            )
            drawn = run_layout(results.layout, row)
            if (drawn.n_in, drawn.n_out) != (Layout().n_in, Layout().n_out):
                figures.skipped["hidden_units"] = tr("the network's inputs are not the 4×3 C/T glyphs")
            elif drawn.depth > 1:
                figures.skipped["hidden_units"] = tr(
                    "the run drawn has {depth} hidden layers; the figure draws one", depth=drawn.depth
                )
            elif drawn.n_hidden > MAX_UNITS_DRAWN:
                figures.skipped["hidden_units"] = tr(
                    "the run drawn has {n} hidden units, more than the {most} the figure holds",
                    n=drawn.n_hidden,
                    most=MAX_UNITS_DRAWN,
                )
            else:
                theta = theta[[results.param_names.index(name) for name in drawn.names]]  # its own columns
                tasks["hidden_units"] = lambda: (
                    plot_hidden_units(theta, drawn, title=title),
                    tr(
                        "The run drawn is config {config}, seed {seed} ({levels}; test accuracy {accuracy}).",
                        config=config,
                        seed=seed,
                        levels=levels_of_run,
                        accuracy=f"{row[TEST_ACC]:.3f}",
                    ),
                )

    data = _data_settings(results)
    if data is None:
        figures.skipped["init_activations"] = tr("the data settings are unknown (no manifest.json data)")
    else:

        def init_figure():
            histograms = {
                cell: layer_histograms(layers, cell[1]) for cell, layers in init_activations(runs, results.layout, data)
            }
            return plot_init_activations(histograms), init_fact(histograms)

        tasks["init_activations"] = init_figure

    if lr is not None:
        best = ", ".join(f"{r.optimizer} {r.best_lr:g}" for r in lr_ranges.itertuples())
        tasks["lr_sensitivity"] = lambda: (plot_lr_sensitivity(lr), tr("Best lr: {best}.", best=best))
    else:
        figures.skipped["lr_sensitivity"] = tr("the experiment has no learning-rate axis")

    if tuned(results.path):
        tasks["tuning"] = lambda: (plot_tuning(*load_tuning(results.path)), "")

    figures.drawn = {key: FIGURES[key] for key in tasks}
    return figures, tasks


def _save(key, task, outdir):
    try:
        fig, fact = task()
        # zlib level 1: much faster than the default 6, for slightly larger files
        fig.savefig(outdir / FIGURES[key], dpi=DPI, pil_kwargs={"compress_level": 1})
    except Exception as error:  # in either process: say which figure
        raise RuntimeError(f"{FIGURES[key]} failed: {error}") from error
    return fact


def _draw_taken(order, tasks, outdir, taken):
    """Draw the figures of order (keys) that this process takes, each the next
    that neither process has taken (taken: a shared count); returns their facts."""
    facts = {}
    while True:
        with taken.get_lock():
            i = taken.value
            taken.value = i + 1
        if i >= len(order):
            return facts
        facts[order[i]] = _save(order[i], tasks[order[i]], outdir)


def _draw_share(order, tasks, outdir, taken, connection):
    # In the forked child: its figures' facts, or the first error's traceback.
    try:
        connection.send(("facts", _draw_taken(order, tasks, outdir, taken)))
    except BaseException:
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


def others_running():
    """Whether another Python thread runs beside this one, the kernels' helper
    threads aside: train() returns only once they wait idle, holding no lock."""
    me = threading.current_thread()
    return any(t is not me and not t.name.startswith(HELPER_NAME) for t in threading.enumerate())


def draw(tasks, outdir, meanwhile=None):
    """Build and save each figure (key -> function returning (Figure, fact))
    as outdir / FIGURES[key]; returns ({key: fact}, meanwhile()'s result, or
    None without one).

    matplotlib draws on one core and the figures are independent, so where
    the system can fork and has a second core, a child process forked from
    this one (it needs no imports and no data of its own) draws meanwhile:
    this process first runs meanwhile() (work of its own, such as the
    tables), then both take the figures one at a time, the costliest first,
    until none is left, so that neither waits long for the other whatever
    the figures cost on this machine. On default.toml this halves the
    drawing time when the second core is free. Not in a program with other
    Python threads (a notebook's kernel): a lock one of them holds would stay
    locked in the child.
    """
    if (
        len(tasks) < (1 if meanwhile else 2)
        or (os.cpu_count() or 1) < 2
        or others_running()
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        result = meanwhile() if meanwhile else None
        return {key: _save(key, task, outdir) for key, task in tasks.items()}, result
    order = sorted(tasks, key=lambda k: -COST[k])
    context = multiprocessing.get_context("fork")
    taken = context.Value("i", 0)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_draw_share, args=(order, tasks, outdir, taken, sender), daemon=True)
    # Before a fork, as the gc module's documentation advises: the objects there are now (the libraries,
    # the results) stay out of both processes' collections, which scanned them again and again while
    # matplotlib drew (a tenth of the analysis), and their memory stays shared.
    gc.freeze()
    child.start()
    sender.close()
    try:
        result = meanwhile() if meanwhile else None
        facts = _draw_taken(order, tasks, outdir, taken)
        try:
            kind, value = receiver.recv()
        except EOFError:
            raise RuntimeError(
                f"the process drawing figures into {outdir} ended without a word "
                f"(exit status {child.join() or child.exitcode})"
            ) from None
        if kind == "error":
            raise RuntimeError(f"the process drawing figures into {outdir} failed:\n{value}")
        return {key: {**facts, **value}[key] for key in tasks}, result
    finally:
        gc.unfreeze()
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
