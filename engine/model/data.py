"""The C and T glyphs and noisy data sets made from them.

Pixels are integers 0 (black) … 255 (white), 4 rows × 3 columns, read row by
row into x_1 … x_12 as on the slides. Strokes are white (255) on black, so
that scaled to [0, 1] a clean glyph is the slides' 0/1 pattern (ink = 1).
Targets are one-hot: t = (1, 0) for C (z_1 reacts to C), (0, 1) for T.
"""

import math
import os
from dataclasses import dataclass

import numpy as np

from ..options import check_integer

LETTERS = ("C", "T")

# The C is the one on the lecture's last slide.
GLYPHS = {
    "C": np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0], [0, 1, 1]], dtype=np.uint8) * 255,
    "T": np.array([[1, 1, 1], [0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=np.uint8) * 255,
}


@dataclass(frozen=True)
class Dataset:
    X_train: np.ndarray  # [n_train, 12] float64
    T_train: np.ndarray  # [n_train, 2] one-hot
    X_test: np.ndarray
    T_test: np.ndarray
    X_val: np.ndarray | None = None  # [n_val, 12], None without a validation set
    T_val: np.ndarray | None = None


# Bytes per image while a set is made: its float64 pixels and the temporaries of
# noisy_glyphs (clean, random draws, flipped, noise), each 12 numbers.
IMAGE_BYTES = 6 * 12 * 8


def machine_memory():
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_sizes(n_train, n_test, n_val=0):
    """Refuse sets that would not fit in memory, before numpy fails allocating them."""
    need = (n_train + n_test + n_val) * IMAGE_BYTES
    if need > machine_memory():
        raise ValueError(
            f"n_train, n_test, n_val: {n_train + n_test + n_val:,} images need about {need / 2**30:,.0f} GiB "
            f"to make, more than this machine's memory ({machine_memory() / 2**30:,.0f} GiB); use fewer images"
        )


def glyphs(scale=True):
    """The clean glyphs as inputs X [2, 12] and one-hot targets T [2, 2], C first."""
    X = np.stack([GLYPHS[c].ravel() for c in LETTERS]).astype(np.float64)
    return (X / 255.0 if scale else X), np.eye(2)


def noisy_glyphs(n, flip, noise, rng, scale=True):
    """n samples, letters balanced and shuffled: each pixel is inverted with
    probability `flip`, then Gaussian noise of std `noise`·255 is added and the
    value rounded and clipped back to an integer 0…255."""
    labels = rng.permutation(np.arange(n) % 2)
    clean = np.stack([GLYPHS[c].ravel() for c in LETTERS]).astype(np.float64)[labels]
    flipped = np.where(rng.random(clean.shape) < flip, 255.0 - clean, clean)
    pixels = np.clip(np.rint(flipped + rng.normal(0.0, noise * 255.0, clean.shape)), 0, 255)
    return (pixels / 255.0 if scale else pixels), np.eye(2)[labels]


def make_dataset(
    n_train: int = 32,
    n_test: int = 1000,
    flip: float = 0.05,
    noise: float = 0.1,
    seed: int = 0,
    n_val: int = 0,
    scale: bool = True,
) -> Dataset:
    """A training set, a held-out test set and, if n_val > 0, a validation set
    of noisy C/T images (for tuning: drawn like the training images).

    The sets come from independent streams of `seed`, so none changes when
    another's size does: adding a validation set leaves the training and test
    images bit for bit as they were.

    Parameters
    ----------
    n_train, n_test : int >= 1
        Images in the training and the test set, C and T balanced and
        shuffled.
    flip : float in [0, 1]
        Probability of inverting each pixel.
    noise : float >= 0
        Standard deviation of Gaussian noise, as a fraction of 255.
    seed : int >= 0
    n_val : int >= 0
        Images in the validation set (none by default).
    scale : bool
        Pixels scaled to [0, 1] (True) or kept as 0 … 255.

    Returns
    -------
    Dataset
        X_train [n_train, 12], T_train [n_train, 2] one-hot (C = (1, 0)),
        X_test, T_test, and X_val, T_val (None with n_val = 0).
    """
    for name, value, least in (("n_train", n_train, 1), ("n_test", n_test, 1), ("n_val", n_val, 0), ("seed", seed, 0)):
        check_integer(name, value, least)
    if not 0.0 <= flip <= 1.0:
        raise ValueError(f"flip: must be a probability in [0, 1], got {flip!r}")
    if not (noise >= 0.0 and math.isfinite(noise)):  # inf noise makes every pixel 0 or 255 at random
        raise ValueError(f"noise: must be a finite number >= 0 (a fraction of 255), got {noise!r}")
    check_sizes(n_train, n_test, n_val)
    train = noisy_glyphs(n_train, flip, noise, np.random.default_rng([seed, 0]), scale)
    test = noisy_glyphs(n_test, flip, noise, np.random.default_rng([seed, 1]), scale)
    val = noisy_glyphs(n_val, flip, noise, np.random.default_rng([seed, 2]), scale) if n_val else (None, None)
    return Dataset(*train, *test, *val)
