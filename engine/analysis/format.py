"""Numbers as the report and bench.md print them; a missing epoch count is
"never" (a censored time, see engine.analysis.stats)."""
import numpy as np
import pandas as pd



def missing(x):
    return x is None or (isinstance(x, float) and not np.isfinite(x)) or pd.isna(x)


def num(x, digits=3):
    return "–" if missing(x) else f"{x:.{digits}g}"


def pct(x):
    return "–" if missing(x) else f"{x:.0%}"


def never(epochs):
    # A missing epoch count means "never reached ε" (censored), see engine.analysis.stats.
    return "never" if missing(epochs) else f"{epochs:g}"


def epochs_interval(median, lo, hi):
    return f"{never(median)} [{never(lo)}, {never(hi)}]"


def markdown_table(header, rows):
    """A GitHub-flavoured Markdown table; '|' inside cells is escaped."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])
