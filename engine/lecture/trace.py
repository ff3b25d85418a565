"""One run, update by update: the weights each update started from, the
gradient it took and the step size it used, as the kernel computed them
(`train(..., trace=True)`), so the trace's last weights are train()'s, bit for
bit. E and the accuracy at each row are those of the whole network on the
training set (no dropout, no weight-decay term), computed from the recorded
weights by the numpy model (engine.model.equations)."""

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from ..kernels.train import TRACE_EPOCH, TRACE_ETA, TRACE_W
from ..model.equations import forward, loss_grad
from ..model.layout import Layout
from ..options import TRAIN_DEFAULTS
from ..schema import EPOCHS_RUN
from ..training import train
from .notation import roles

COLUMNS = ["epoch", "step", "E", "accuracy", "eta"]
MAX_LINES = 8  # per panel: more and the colours repeat (tab10) and the lines cannot be told apart


def gradient_name(name):
    return f"∂E/∂{name}"


def trace(X, T, seed=0, **settings):
    """Train one run and return every update as a row.

    Parameters
    ----------
    X : array [n, n_in]
        Training inputs (pixels scaled to [0, 1]).
    T : array [n, n_out]
        One-hot targets.
    seed : int
        The run's seed (initial weights, shuffles, dropout masks).
    **settings
        Training settings as for engine.train (optimizer, lr, schedule, ...).

    Returns
    -------
    pandas.DataFrame
        One row per update: epoch, step (1, 2, ...), E and accuracy at the
        weights the update started from, eta (the step size it used: the
        schedule's, or Armijo's after backtracking), the weights (columns
        named as on the slides) and the gradient it took (∂E/∂ + name, weight
        decay included). A last row holds the final weights (step = updates
        run + 1, no eta or gradient).
    """
    result = train(
        X, T, [seed], record_every=max(1, settings.get("epochs", TRAIN_DEFAULTS["epochs"])), trace=True, **settings
    )
    run = {**TRAIN_DEFAULTS, **settings}
    layout = result.layout
    P = layout.size
    rows = result.trace[0]
    rows = rows[~np.isnan(rows[:, TRACE_EPOCH])]  # the updates this run made before it stopped
    final = result.params[0]
    weights = np.vstack([rows[:, TRACE_W : TRACE_W + P], final])
    gradients = np.vstack([rows[:, TRACE_W + P :], np.full(P, np.nan)])
    E, _ = loss_grad(weights, X, T, run["activation"], run["output"], run["loss"], run["reduction"])
    _, z, _, _ = forward(weights, X, run["activation"], run["output"])
    table = pd.DataFrame(
        {
            "epoch": np.append(rows[:, TRACE_EPOCH], result.runs[EPOCHS_RUN].iloc[0]).astype(int),
            "step": np.arange(1, len(weights) + 1),
            "E": E,
            "accuracy": (z.argmax(-1) == np.asarray(T).argmax(-1)).mean(-1),
            "eta": np.append(rows[:, TRACE_ETA], np.nan),
        }
    )
    names = layout.names
    return pd.concat(
        [
            table,
            pd.DataFrame(weights, columns=names),
            pd.DataFrame(gradients, columns=[gradient_name(n) for n in names]),
        ],
        axis=1,
    )


def trace_panels(names, layout):
    """(title, parameter names) per weight panel: each unit's incoming weights
    and threshold, output units first as on the slides, a unit with more than
    MAX_LINES of them split into near-equal panels by input."""
    units = {}
    for name, (layer, unit, source) in zip(names, roles(layout)):
        units.setdefault((layer, unit), []).append((name, source))
    panels = []
    for (layer, unit), members in units.items():
        title = f"{'output' if layer == 'O' else 'hidden'} unit {unit + 1}"
        parts = -(-len(members) // MAX_LINES)
        for chunk in np.array_split(np.arange(len(members)), parts):
            sources = [members[i][1] for i in chunk]
            inputs = [s + 1 for s in sources if s is not None]
            symbol = "h" if layer == "O" else "x"
            span = [f"{symbol}_{inputs[0]}–{symbol}_{inputs[-1]}"] if inputs else []
            span += ["θ"] if None in sources else []
            panels.append((title if parts == 1 else f"{title} ({', '.join(span)})", [members[i][0] for i in chunk]))
    return panels


def plot_trace(table, layout=None):
    """E against the update, the step size η when it changes, and each
    unit's incoming weights and threshold against the update (output units
    first, as on the slides), at most MAX_LINES lines of distinct colours
    per panel."""
    layout = layout or Layout()
    eta = table["eta"].dropna()
    panels = [("E", None), *([("η", None)] if eta.nunique() > 1 else []), *trace_panels(layout.names, layout)]
    columns = -(-len(panels) // 2)
    fig = Figure(figsize=(3.4 * columns, 6.4), layout="constrained")
    axes = fig.subplots(2, columns).ravel()
    colors = colormaps["tab10"].colors[:MAX_LINES]
    for ax, (title, names) in zip(axes, panels):
        ax.set(title=title, xlabel="update")
        if title == "E":
            ax.plot(table["step"], table["E"], color="black")
            ax.set_yscale("log" if (table["E"] > 0).all() else "linear")
        elif title == "η":  # Armijo's backtracked steps or a decaying schedule
            ax.plot(table["step"][eta.index], eta, color="black", drawstyle="steps-post")
            ax.set_yscale("log")
        else:
            for name, color in zip(names, colors):
                ax.plot(table["step"], table[name], label=name, linewidth=1, color=color)
            ax.legend(fontsize=6, ncol=2)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    return fig
