"""The flat parameter vector in the slides' order.

Output units come first, then hidden units; each unit holds its incoming
weights followed by its threshold θ (a weight on the constant input −1):

    (w_11^O, w_21^O, w_31^O, θ_1^O,  w_12^O, w_22^O, w_32^O, θ_2^O,
     w_11^H, …, w_12,1^H, θ_1^H,  …,  w_13^H, …, w_12,3^H, θ_3^H)

so index l here is index l on the slides (47 numbers for 12-3-2).
"""

from dataclasses import dataclass

import numpy as np


def _subscript(a, b):
    # The slides write w_11 but w_12,1: a comma only where an index has two digits.
    return f"{a}{b}" if a < 10 and b < 10 else f"{a},{b}"


# Parameters per run at most: the kernels keep about eight arrays of P numbers per lane,
# so 10^5 (64 lanes, float64) is about 400 MB for a block; a larger network is refused.
MAX_PARAMS = 100_000


def network(n_in, width, n_out):
    """The Layout n_in-width-n_out, or a ValueError naming `hidden` when it
    holds more than MAX_PARAMS numbers."""
    layout = Layout(n_in, width, n_out)
    if layout.size > MAX_PARAMS:
        raise ValueError(
            f"hidden: [{width}] on {n_in} inputs and {n_out} outputs is {layout.size:,} parameters per run, "
            f"more than the {MAX_PARAMS:,} allowed; use a narrower layer"
        )
    return layout


@dataclass(frozen=True)
class Layout:
    """Sizes, offsets and slide names of the flat parameter vector.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Units per layer; the lecture's network is 12-3-2 (size 47).

    Attributes
    ----------
    size : int
        Numbers in the flat vector: n_out·(n_hidden + 1) + n_hidden·(n_in + 1).
    names : list of str
        The slides' name of each number ('w_11^O', …, 'θ_3^H').
    is_threshold : bool array [size]
        True where the number is a threshold θ.

    Examples
    --------
    >>> Layout().names[:4]
    ['w_11^O', 'w_21^O', 'w_31^O', 'θ_1^O']
    """

    n_in: int = 12
    n_hidden: int = 3
    n_out: int = 2

    def __post_init__(self):
        for name in ("n_in", "n_hidden", "n_out"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Layout: {name} must be a positive integer, got {value!r}")

    @classmethod
    def fit(cls, size: int, n_in: int, n_out: int, name: str = "theta") -> "Layout":
        """The layout whose flat vector has `size` numbers for these inputs and
        outputs (size = n_hidden·(n_in + n_out + 1) + n_out), or a ValueError."""
        n_hidden, rest = divmod(size - n_out, n_in + n_out + 1)
        if rest or n_hidden < 1:
            raise ValueError(
                f"{name}: {size} numbers fit no layout with {n_in} inputs and {n_out} outputs (12-3-2 has 47)"
            )
        return cls(n_in, int(n_hidden), n_out)

    @property
    def hidden_offset(self) -> int:
        """Index of w_11^H, the first hidden-layer number."""
        return self.n_out * (self.n_hidden + 1)

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.n_in, self.n_hidden, self.n_out)

    @property
    def size(self) -> int:
        return self.hidden_offset + self.n_hidden * (self.n_in + 1)

    @property
    def names(self) -> list[str]:
        out = []
        for k in range(1, self.n_out + 1):
            out += [f"w_{_subscript(j, k)}^O" for j in range(1, self.n_hidden + 1)]
            out.append(f"θ_{k}^O")
        for i in range(1, self.n_hidden + 1):
            out += [f"w_{_subscript(m, i)}^H" for m in range(1, self.n_in + 1)]
            out.append(f"θ_{i}^H")
        return out

    @property
    def is_threshold(self) -> np.ndarray:
        """Boolean mask over the flat vector: True where the number is a θ."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.n_hidden : self.hidden_offset : self.n_hidden + 1] = True
        mask[self.hidden_offset + self.n_in :: self.n_in + 1] = True
        return mask

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flat vector(s) [..., size] -> (W_out[n_out, n_hidden], th_out[n_out],
        W_hid[n_hidden, n_in], th_hid[n_hidden]), with any leading axes kept (views)."""
        theta = np.asarray(theta)
        if theta.shape[-1] != self.size:
            raise ValueError(f"theta: last axis must have {self.size} numbers for {self}, got shape {theta.shape}")
        lead = theta.shape[:-1]
        out = theta[..., : self.hidden_offset].reshape(*lead, self.n_out, self.n_hidden + 1)
        hid = theta[..., self.hidden_offset :].reshape(*lead, self.n_hidden, self.n_in + 1)
        return out[..., :-1], out[..., -1], hid[..., :-1], hid[..., -1]

    def pack(self, W_out: np.ndarray, th_out: np.ndarray, W_hid: np.ndarray, th_hid: np.ndarray) -> np.ndarray:
        """Inverse of unpack."""
        W_out, th_out, W_hid, th_hid = map(np.asarray, (W_out, th_out, W_hid, th_hid))
        lead = th_out.shape[:-1]
        out = np.concatenate([W_out, th_out[..., None]], axis=-1).reshape(*lead, -1)
        hid = np.concatenate([W_hid, th_hid[..., None]], axis=-1).reshape(*lead, -1)
        return np.concatenate([out, hid], axis=-1)
