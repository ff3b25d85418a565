"""Statistics of groups of runs. Conventions:

- Epochs to ε is a censored time: a run that never reached the target loss
  counts as +∞ ("never"), as DeepOBS and COCO do, so a median is "never"
  unless more than half of the runs reached ε. Tables write "never" as empty.
- Intervals are LEVEL (95 %). The median's is the distribution-free
  order-statistic interval [x_(j), x_(n+1−j)]: the number of values below the
  true median is Binomial(n, 1/2), so choosing j from its quantiles gives a
  coverage of at least LEVEL for any continuous distribution, exactly, from
  one sort (O(n log n), no resampling). +∞ ("never") takes part like any other
  value, so a bound may be "never". A mean gets a t interval.
- A test is significant when its p value (Holm-adjusted within its family) is
  below ALPHA.
"""
import functools
import math

import numpy as np
# scipy.special, not scipy.stats: the same functions (scipy.stats calls these
# for the binomial and t distributions) for a fifth of the import time, which
# was a third of `nn47 analyze` on default.toml
from scipy import special

LEVEL = 0.95
ALPHA = 0.05


def has_target(runs):
    """Whether the runs had a target loss ε (without one, every run trains
    for its whole budget and epochs to ε mean nothing)."""
    return bool(runs["target_loss"].notna().any() if "target_loss" in runs else runs["converged"].any())


def censored_epochs(runs):
    """Epochs to ε as floats, +∞ where the run never reached ε."""
    return runs["epochs_to_target"].to_numpy(dtype=float, na_value=np.inf)


@functools.lru_cache(maxsize=1024)  # a handful of group sizes, asked for again and again
def median_ranks(n, *, level=LEVEL):
    """0-based ranks (j, n−1−j) of the order statistics that bound the median
    of n values with coverage ≥ level. With B ~ Binomial(n, 1/2) the number of
    values below the median, [x_(j), x_(n−1−j)] covers it unless B ≤ j or
    B ≥ n − j, so its coverage is 1 − 2 P(B ≤ j); j is the largest with
    P(B ≤ j) ≤ (1 − level)/2 (n = 100 at 95 %: j = 39, ranks 40 and 61 counted
    from 1, as in the tables). Below about six values (at 95 %) no j reaches
    the level; the interval is the sample range then (coverage 1 − 2^(1−n))."""
    tail = (1 - level) / 2
    # The smallest m with P(B ≤ m) ≥ tail, as scipy.stats.binom.ppf finds it.
    m = math.ceil(special.bdtrik(tail, n, 0.5))
    j = max(m - 1, 0) if special.bdtr(max(m - 1, 0), n, 0.5) >= tail else m
    if special.bdtr(j, n, 0.5) > tail:  # P(B ≤ j)
        j -= 1
    j = max(j, 0)
    return j, n - 1 - j


def median_ci(x, *, level=LEVEL):
    """Median of x with its order-statistic interval (see the module notes);
    NaN for no values."""
    x = np.sort(np.asarray(x, dtype=float))
    if x.size == 0:
        return np.nan, np.nan, np.nan
    lo, hi = median_ranks(x.size, level=level)
    return float(np.median(x)), float(x[lo]), float(x[hi])


def mean_ci(x, *, level=LEVEL):
    """Mean of the finite values of x with a t interval (NaN bounds below 2 values)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, np.nan, np.nan
    half = special.stdtrit(x.size - 1, 0.5 + level / 2) * x.std(ddof=1) / np.sqrt(x.size)  # t quantile
    return mean, mean - half, mean + half


def holm(p):
    """Holm's step-down adjustment of the p values (NaN stays NaN)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite])]
    m = len(order)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def rank_biserial(d):
    """Matched-pairs rank-biserial correlation of differences d: (R+ − R−)/(R+ + R−),
    +1 when every nonzero difference is positive."""
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    r, _ = average_ranks(np.abs(d))
    return float((r[d > 0].sum() - r[d < 0].sum()) / r.sum())


def average_ranks(x):
    """Ranks 1…n of x, tied values sharing their average rank (as
    scipy.stats.rankdata), and the size of each group of ties: at the group's
    first position in sorted order, 0 elsewhere.

    Parameters
    ----------
    x : array of floats

    Returns
    -------
    (ranks, ties) : two float arrays of x's length
    """
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="stable")
    y = x[order]
    starts = np.flatnonzero(np.r_[True, y[1:] != y[:-1]]) if x.size else np.array([], int)
    counts = np.diff(np.r_[starts, x.size])
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(starts + 1 + (counts - 1) / 2, counts)
    ties = np.zeros(x.size)
    ties[starts] = counts
    return ranks, ties


def signed_rank_test(d):
    """Wilcoxon's two-sided signed-rank test of the differences d, zeros
    ranked and then dropped (Pratt 1959): (statistic min(R+, R−), p value),
    what scipy.stats.wilcoxon(d, zero_method="pratt") gives.

    Above 50 differences that is the normal approximation of R+ with Pratt's
    (Cureton's) correction of its mean and variance for the zeros and the tie
    correction of its variance, computed here. Up to 50, scipy.stats computes
    the exact or permutation null distribution.

    Parameters
    ----------
    d : array of floats, not all 0

    Returns
    -------
    (float, float)
    """
    d = np.asarray(d, dtype=float)
    if d.size <= 50:
        from scipy import stats  # a second of imports: only for the small samples' exact distributions
        test = stats.wilcoxon(d, zero_method="pratt")
        return float(test.statistic), float(test.pvalue)
    r, ties = average_ranks(np.abs(d))
    r_plus, r_minus = float(np.sum((d > 0) * r)), float(np.sum((d < 0) * r))
    n, zeros = float(d.size), float(np.count_nonzero(d == 0))
    if zeros:
        ties[0] = 0  # the zeros (the smallest |d|, first in sorted order) are no ties of the test
    mean = n * (n + 1) * 0.25 - zeros * (zeros + 1) * 0.25
    variance = (n * (n + 1) * (2 * n + 1) - zeros * (zeros + 1) * (2 * zeros + 1) - np.sum(ties ** 3 - ties) / 2) / 24
    z = (r_plus - mean) / math.sqrt(variance)
    return min(r_plus, r_minus), float(2 * special.ndtr(-abs(z)))
