"""A counter-based random generator: every number is a hash of
(seed, stream, counter), so a run's random numbers do not depend on which
thread, block or process draws them, nor on what other runs draw.

The hash is splitmix64's finaliser; streams keep the uses apart.
"""

import numpy as np

from .config import jit, jit_inline

INIT, SHUFFLE, DROPOUT = 1, 2, 3

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
C1 = np.uint64(0xBF58476D1CE4E5B9)
C2 = np.uint64(0x94D049BB133111EB)
TO_UNIT = 1.0 / 9007199254740992.0  # 2^-53


@jit_inline
def mix64(z):
    z = (z ^ (z >> np.uint64(30))) * C1
    z = (z ^ (z >> np.uint64(27))) * C2
    return z ^ (z >> np.uint64(31))


@jit_inline
def uniform(seed, stream, counter):
    """A float64 in [0, 1) from 53 hashed bits."""
    key = mix64(np.uint64(seed) * GOLDEN + np.uint64(stream))
    z = mix64(key + np.uint64(counter) * GOLDEN)
    return np.float64(z >> np.uint64(11)) * TO_UNIT


@jit_inline
def normal(seed, stream, counter):
    """A standard normal number (Box–Muller on two uniforms)."""
    u1 = uniform(seed, stream, 2 * counter)
    u2 = uniform(seed, stream, 2 * counter + 1)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)


@jit
def normals(seeds, stream, n):
    """[len(seeds), n] standard normal numbers, row r keyed by seeds[r]."""
    out = np.empty((seeds.size, n))
    for r in range(seeds.size):
        for l in range(n):
            out[r, l] = normal(seeds[r], stream, l)
    return out
