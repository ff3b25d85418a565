"""Effects in natural units with seed-level intervals, and practical verdicts.

For two levels a and b of a factor, each block (one seed × the levels of
every other factor, as in the paired tests) gives a difference: test
accuracy a − b in percentage points; epochs to ε (a run that never reached
ε counts as budget + 1) and a final train loss as the log of the ratio a / b.
A seed's difference is the mean over its blocks, so the seed stays the unit
of replication. The effect is the Hodges–Lehmann estimate of those per-seed
differences (the median of their Walsh averages) with the distribution-free
interval that inverts the Wilcoxon signed-rank test (exact null
distribution; up to five seeds at 95 % the range of the Walsh averages).
Ratios are reported back on their own scale (exp of the log-ratio).

Verdicts compare the interval with a practical margin m per metric:
"better" when the whole interval lies beyond ±m on one side, "no practical
difference" when it lies inside (−m, m) (equivalence, as two one-sided
tests at the same level would find), "inconclusive" otherwise.
"""

import functools

import numpy as np
import pandas as pd

from ..schema import EPOCHS_TO_TARGET, TRAIN_LOSS
from .stats import LEVEL, MARGINS
from .tables import PAIRED_METRICS, blocks, comparisons, level_pairs, paired_metrics, paired_values

RATIO = (EPOCHS_TO_TARGET, TRAIN_LOSS)  # compared as ratios, the others as differences
BETTER, SAME, UNSURE = "better", "no practical difference", "inconclusive"
COLUMNS = ["factor", "metric", "level_a", "level_b", "seeds", "estimate", "lo", "hi", "margin", "verdict", "better"]


@functools.lru_cache(maxsize=256)
def walsh_cut(n, *, level=LEVEL):
    """0-based rank of the lower bound among the sorted Walsh averages of n
    values: the lower bound is the C-th smallest with C − 1 the largest c
    where P(T ≤ c) ≤ (1 − level)/2, T the signed-rank statistic under the
    null (exact, by counting the subsets of ranks with each sum; n = 10 at
    95 %: C = 9). Where no c qualifies (n ≤ 5 at 95 %) it is 0, the range."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    cdf = np.cumsum(counts) / 2.0**n
    return max(int(np.searchsorted(cdf, (1 - level) / 2, side="right")) - 1, 0)


def hodges_lehmann(d, *, level=LEVEL):
    """(estimate, lo, hi) of the centre of the differences d: the median of
    the Walsh averages (d_i + d_j)/2, i ≤ j, and the interval between the
    C-th smallest and C-th largest of them (see walsh_cut); NaN for none."""
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return np.nan, np.nan, np.nan
    i, j = np.triu_indices(d.size)
    walsh = np.sort((d[i] + d[j]) / 2)
    c = walsh_cut(d.size, level=level)
    return float(np.median(walsh)), float(walsh[c]), float(walsh[walsh.size - 1 - c])


def verdict(lo, hi, margin):
    """(verdict, side): side +1 when the first level is better by more than
    the margin (lo > margin), −1 when the second is, 0 otherwise."""
    if np.isnan(lo) or np.isnan(hi):
        return UNSURE, 0
    if lo > margin or hi < -margin:
        return BETTER, 1 if lo > margin else -1
    if -margin < lo and hi < margin:
        return SAME, 0
    return UNSURE, 0


def paired_values_raw(runs, metric):
    """The metric per run in its own direction (epochs never reached: budget + 1)."""
    x = paired_values(runs, metric)
    return x if PAIRED_METRICS[metric] == "higher" else -x


def scale(metric, margin):
    """The margin on the difference scale (log for ratios)."""
    return np.log1p(margin) if metric in RATIO else margin


def effect_row(factor, metric, a, b, wide, margin):
    """One row of the effects table for levels a and b of a factor."""
    both = wide[[a, b]].dropna()
    per_seed = (both[a] - both[b]).groupby(level="seed").mean().to_numpy()
    estimate, lo, hi = hodges_lehmann(per_seed)
    kind, side = verdict(lo, hi, scale(metric, margin))
    # Better on the metric's own side: a ratio below 1 of epochs or loss is better.
    side = side if PAIRED_METRICS[metric] == "higher" else -side
    back = np.exp if metric in RATIO else float
    return {
        "factor": factor,
        "metric": metric,
        "level_a": a,
        "level_b": b,
        "seeds": len(per_seed),
        "estimate": back(estimate),
        "lo": back(lo),
        "hi": back(hi),
        "margin": margin,
        "verdict": kind,
        "better": a if side > 0 else (b if side < 0 else ""),
    }


# Numeric factors of size (the hidden width), where the question is the smallest level
# practically as good as the largest: besides its neighbours, the largest level is compared
# with each smaller one (level_a the largest, so these rows read the other way round).
SIZE_FACTORS = ("hidden",)


def effects_table(runs, factors, margins=None):
    """Every pair of levels the paired tests compare, in the same order, with
    its Hodges–Lehmann effect, interval and verdict (module notes); for a
    size factor, then the largest level against each smaller one but the
    next (its neighbour pair)."""
    margins = MARGINS | (margins or {})
    rows = []
    for factor, chosen, tested, others, pairs in comparisons(runs, factors):
        if pairs is not None and factor in SIZE_FACTORS:
            pairs = pairs + [(pairs[-1][1], low) for low, _ in pairs[:-1]]
        for metric in paired_metrics(runs):
            values = paired_values_raw(chosen, metric)
            wide = blocks(chosen, tested, others, np.log(values) if metric in RATIO else values)
            rows += [effect_row(factor, metric, a, b, wide, margins[metric]) for a, b in level_pairs(wide, pairs)]
    return pd.DataFrame(rows, columns=COLUMNS)
