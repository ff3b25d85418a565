"""Statistics of groups of runs. Conventions:

- Epochs to ε is a censored time: a run that never reached the target loss
  counts as +∞ ("never"), as DeepOBS and COCO do, so a median is "never"
  unless more than half of the runs reached ε. Tables write "never" as empty.
- Intervals are 95 %: percentile bootstrap of the median (a fixed-seed numpy
  Generator, so tables are deterministic) and a t interval for a mean.
"""
import numpy as np
from scipy import stats
LEVEL = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
ALPHA = 0.05



def has_target(runs):
    """Whether the runs had a target loss ε (without one, every run trains
    for its whole budget and epochs to ε mean nothing)."""
    return bool(runs["target_loss"].notna().any() if "target_loss" in runs else runs["converged"].any())


def censored_epochs(runs):
    """Epochs to ε as floats, +∞ where the run never reached ε."""
    return runs["epochs_to_target"].to_numpy(dtype=float, na_value=np.inf)


def median_ci(x, *, level=LEVEL, n_resamples=N_RESAMPLES, seed=BOOTSTRAP_SEED):
    """Median of x with a percentile-bootstrap interval. +∞ values (censored)
    take part like any other, so any bound may be +∞ ("never")."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.nan, np.nan, np.nan
    rng = np.random.default_rng(seed)
    medians = np.sort(np.median(x[rng.integers(0, x.size, (n_resamples, x.size))], axis=1))
    # Order statistics rather than interpolation: interpolating towards +∞ gives NaN.
    tail = (1 - level) / 2
    lo = medians[int(np.floor(tail * n_resamples))]
    hi = medians[int(np.ceil((1 - tail) * n_resamples)) - 1]
    return float(np.median(x)), float(lo), float(hi)


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
