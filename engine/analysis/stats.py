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

import numpy as np
import pandas as pd
from scipy import stats

from ..schema import CONVERGED, EPOCHS_TO_TARGET, GRAD_EVALS, TEST_ACC, TRAIN_LOSS

LEVEL = 0.95
ALPHA = 0.05
# Default practical margins: half a point of test accuracy is 5 of the 1000
# test images, below the spread between seeds of one configuration; a tenth
# of the epochs is less than one epoch for the fastest configurations. Both
# can be set per experiment under [analysis].
MARGINS = {TEST_ACC: 0.005, EPOCHS_TO_TARGET: 0.10, TRAIN_LOSS: 0.10}


def has_target(runs):
    """Whether the runs had a target loss ε (without one, every run trains
    for its whole budget and epochs to ε mean nothing)."""
    return bool(runs["target_loss"].notna().any() if "target_loss" in runs else runs[CONVERGED].any())


def censored_epochs(runs):
    """Epochs to ε as floats, +∞ where the run never reached ε."""
    return runs[EPOCHS_TO_TARGET].to_numpy(dtype=float, na_value=np.inf)


# The units of the cost to ε (engine.analysis.costs; [analysis] cost picks the one that ranks)
UNITS = {"epochs": "epochs", "updates": "updates (grad_evals)", "samples": "sample-gradients"}


def run_costs(runs):
    """Each run's cost to ε in each unit (columns UNITS), +∞ where it never reached ε."""
    epochs = censored_epochs(runs)
    reached = runs[CONVERGED].to_numpy(bool)
    return pd.DataFrame(
        {
            "epochs": epochs,
            "updates": np.where(reached, runs[GRAD_EVALS].to_numpy(float), np.inf),
            "samples": epochs * runs["n_train"].to_numpy(float),
        },
        index=runs.index,
    )


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
    j = int(stats.binom.ppf(tail, n, 0.5))  # the smallest m with P(B ≤ m) ≥ tail
    if stats.binom.cdf(j, n, 0.5) > tail:
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
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
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
    r = stats.rankdata(np.abs(d))
    return float((r[d > 0].sum() - r[d < 0].sum()) / r.sum())
