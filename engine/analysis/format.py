"""Numbers as the report and bench.md print them; a missing epoch count is
"never" (a censored time, see engine.analysis.stats)."""

import numpy as np
import pandas as pd

from .words import tr


def missing(x):
    return x is None or (isinstance(x, float) and not np.isfinite(x)) or pd.isna(x)


def num(x, digits=3):
    return "–" if missing(x) else f"{x:.{digits}g}"


def pct(x):
    return "–" if missing(x) else f"{x:.0%}"


def epochs_or_never(epochs):
    # A missing epoch count means "never reached ε" (censored), see engine.analysis.stats.
    return tr("never") if missing(epochs) else f"{epochs:g}"


def p_value(p, alpha):
    """p with two significant digits, more where rounding would move it to
    the other side of alpha or onto it (0.0497 -> "0.0497", never "0.05"
    beside a win at alpha 0.05); "<0.001" below 0.001 when alpha is above."""
    if missing(p):
        return "–"
    if p < 0.001 < alpha:
        return "<0.001"
    for digits in range(2, 17):
        text = f"{p:.{digits}g}"
        shown = float(text)
        if (shown < alpha) == (p < alpha) and (shown != alpha or p == alpha):
            return text
    return repr(float(p))


def percent(x):
    """A fraction in (0, 1] as the report's text writes it: 0.95 -> "95 %"."""
    return f"{100 * x:g} %"


def epochs_interval(median, lo, hi):
    return f"{epochs_or_never(median)} [{epochs_or_never(lo)}, {epochs_or_never(hi)}]"


def markdown_table(header, rows):
    """A GitHub-flavoured Markdown table; '|' inside cells is escaped."""

    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])
