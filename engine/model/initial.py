"""Initial weights by name (Saito ch. 6): Xavier N(0, 1/n), He N(0, 2/n),
std0.01 the book's small-constant baseline, std1 the book's saturating
example (fig. 6-10); n is the unit's fan-in, its own in each layer.
Thresholds start at 0.

Weight l of a run is std_l · N_l where N_l is keyed on (seed, l) alone, so a
seed gives the same draw whatever the optimizer or regulariser (paired
comparisons), and Xavier and He runs of a seed differ only by √2.
"""

import numpy as np

from ..kernels import rng
from ..options import INITS, code

STD = {
    "xavier": lambda fan_in: np.sqrt(1.0 / fan_in),
    "he": lambda fan_in: np.sqrt(2.0 / fan_in),
    "std0.01": lambda fan_in: 0.01,
    "std1": lambda fan_in: 1.0,
}


def init_std(layout, init):
    """The standard deviation of each weight of the flat vector, by its layer's fan-in."""
    code("init", INITS, init)
    fan_in = np.empty(layout.size, np.int64)
    for l in range(1, layout.depth + 2):  # layer l's block: widths[l] units of widths[l - 1] + 1 numbers
        start = layout.layer_offset(l)
        fan_in[start : start + layout.widths[l] * (layout.widths[l - 1] + 1)] = layout.widths[l - 1]
    return np.array([STD[init](f) for f in fan_in], dtype=np.float64)


def initial_params(layout, init, seeds):
    """[len(seeds), layout.size] initial flat vectors, one row per seed."""
    seeds = check_seeds(seeds)
    params = rng.normals(seeds, rng.INIT, layout.size) * init_std(layout, init)
    params[:, layout.is_threshold] = 0.0
    return params


def check_seeds(seeds):
    seeds = np.atleast_1d(np.asarray(seeds))
    if seeds.ndim != 1 or seeds.size == 0 or not np.issubdtype(seeds.dtype, np.integer) or (seeds < 0).any():
        raise ValueError(f"seeds: must be a non-empty list of integers >= 0, got {seeds.tolist()!r}")
    return seeds.astype(np.int64)
