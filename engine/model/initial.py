"""Initial weights by name (Saito ch. 6): Xavier N(0, 1/n), He N(0, 2/n),
std0.01 the book's small-constant baseline; n is the unit's fan-in.
Thresholds start at 0.

Weight l of a run is std_l · N_l where N_l is keyed on (seed, l) alone, so a
seed gives the same draw whatever the optimizer or regulariser (paired
comparisons), and Xavier and He runs of a seed differ only by √2.
"""
import math

import numpy as np

from ..options import INITS, code

# The generator's constants and its stream for initial weights (engine.kernels.rng), for
# its numpy twin `normals`; tests check that both draw the same numbers.
GOLDEN, C1, C2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
TO_UNIT = 1.0 / 9007199254740992.0   # 2^-53
INIT_STREAM = 1

STD = {
    "xavier": lambda fan_in: np.sqrt(1.0 / fan_in),
    "he": lambda fan_in: np.sqrt(2.0 / fan_in),
    "std0.01": lambda fan_in: 0.01,
}


def init_std(layout, init):
    """The standard deviation of each weight of the flat vector, by fan-in."""
    code("init", INITS, init)
    fan_in = np.concatenate([np.full(layout.hidden_offset, layout.n_hidden),
                             np.full(layout.size - layout.hidden_offset, layout.n_in)])
    return np.array([STD[init](f) for f in fan_in], dtype=np.float64)


def initial_params(layout, init, seeds, *, numba=True):
    """[len(seeds), layout.size] initial flat vectors, one row per seed.

    Parameters
    ----------
    layout : Layout
    init : str, a name of INITS
    seeds : list of int >= 0
    numba : bool
        Draw with the kernels' generator (True), or with its numpy twin
        `normals`, which gives the same numbers without loading numba (half a
        second of imports and a second of loading its cached code).

    Returns
    -------
    array of shape (len(seeds), layout.size)
    """
    seeds = check_seeds(seeds)
    if numba:
        from ..kernels import rng  # numba: see `numba` above
        noise = rng.normals(seeds, rng.INIT, layout.size)
    else:
        noise = normals(seeds, INIT_STREAM, layout.size)
    params = noise * init_std(layout, init)
    params[:, layout.is_threshold] = 0.0
    return params


def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * C1
    z = (z ^ (z >> np.uint64(27))) * C2
    return z ^ (z >> np.uint64(31))


def normals(seeds, stream, n):
    """engine.kernels.rng.normals in numpy: [len(seeds), n] standard normal
    numbers, row r keyed by seeds[r]; the same hash of (seed, stream, counter)
    and Box–Muller, with the C library's log and cos (math), as the kernel
    calls them, so the numbers are the kernel's bit for bit."""
    with np.errstate(over="ignore"):  # the hash multiplies modulo 2^64
        key = _mix64(np.asarray(seeds, dtype=np.uint64)[:, None] * GOLDEN + np.uint64(stream))
        counter = np.arange(2 * n, dtype=np.uint64)[None, :]
        u = (_mix64(key + counter * GOLDEN) >> np.uint64(11)).astype(np.float64) * TO_UNIT
    # numpy's own log and cos may differ from the C library's in the last bit
    log, cos = (np.frompyfunc(f, 1, 1) for f in (math.log, math.cos))
    return np.sqrt(-2.0 * log(1.0 - u[:, 0::2]).astype(float)) * cos(2.0 * np.pi * u[:, 1::2]).astype(float)


def check_seeds(seeds):
    seeds = np.atleast_1d(np.asarray(seeds))
    if seeds.ndim != 1 or seeds.size == 0 or not np.issubdtype(seeds.dtype, np.integer) or (seeds < 0).any():
        raise ValueError(f"seeds: must be a non-empty list of integers >= 0, got {seeds.tolist()!r}")
    return seeds.astype(np.int64)
