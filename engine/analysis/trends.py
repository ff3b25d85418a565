"""A trend test per numeric factor (batch size, lr): do the seeds' outcomes
rise or fall with the level? Page's L test (scipy.stats.page_trend_test)
ranks each seed's levels, so the seed stays the unit of replication as in
the paired tests; a seed's value at a level is the mean over its blocks (the
other factors' levels), epochs to ε counting never as budget + 1. Page's
test is one-sided (increasing in the order given); asked both ways, the
smaller p doubled is a two-sided p (capped at 1), and the side it came from
is the direction."""

import pandas as pd
from scipy import stats

from .stats import ALPHA
from .tables import PAIRED_METRICS, blocks, neighbour_levels, paired_metrics, paired_values

COLUMNS = ["factor", "metric", "levels", "seeds", "statistic", "p_value", "trend"]
UP, DOWN, FLAT = "increasing", "decreasing", "no monotone trend"
MIN_LEVELS = 3  # with two levels the paired comparison of the two says it all


def trend_row(factor, metric, per_seed, ordered, *, alpha=ALPHA):
    """One row: Page's test both ways on a seeds × levels table (columns in
    increasing order of the factor)."""
    x = per_seed.to_numpy(float)
    up, down = stats.page_trend_test(x), stats.page_trend_test(x[:, ::-1])
    p = min(1.0, 2 * min(up.pvalue, down.pvalue))
    rising = up.pvalue <= down.pvalue
    return {
        "factor": factor,
        "metric": metric,
        "levels": " < ".join(ordered),
        "seeds": len(x),
        "statistic": float(up.statistic if rising else down.statistic),
        "p_value": p,
        "trend": (UP if rising else DOWN) if p < alpha else FLAT,
    }


def trend_table(runs, factors):
    """Per numeric factor with MIN_LEVELS levels or more (within each level of
    a text factor it is nested in) and per paired metric, the trend of the
    metric in its own units (epochs up: slower; accuracy up: better); None
    when no factor qualifies."""
    rows = []
    for factor, chosen, levels, others, pairs in neighbour_levels(runs, factors):
        ordered = [pairs[0][0], *(b for _, b in pairs)]
        if len(ordered) < MIN_LEVELS:
            continue
        for metric in paired_metrics(runs):
            x = paired_values(chosen, metric)
            x = x if PAIRED_METRICS[metric] == "higher" else -x  # the metric's own direction
            per_seed = blocks(chosen, levels, others, x)[ordered].groupby(level="seed").mean().dropna()
            if len(per_seed) > 1:
                rows.append(trend_row(factor, metric, per_seed, ordered))
    return pd.DataFrame(rows, columns=COLUMNS) if rows else None
