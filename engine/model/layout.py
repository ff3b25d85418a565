"""The flat parameter vector in the slides' order, generalised to any depth.

Output units come first, then the hidden layers from the one nearest the
output down to the first (nearest the input); each unit holds its incoming
weights followed by its threshold θ (a weight on the constant input −1).
For the lecture's 12-3-2 network:

    (w_11^O, w_21^O, w_31^O, θ_1^O,  w_12^O, w_22^O, w_32^O, θ_2^O,
     w_11^H, …, w_12,1^H, θ_1^H,  …,  w_13^H, …, w_12,3^H, θ_3^H)

so index l here is index l on the slides (47 numbers). With D > 1 hidden
layers they are named ^H1 (the first) … ^HD, and the vector reads
^O, ^HD, …, ^H1: the backward pass walks it from the front.
"""

import numbers
from dataclasses import dataclass

import numpy as np

from ..options import MAX_DEPTH


def _subscript(a, b):
    # The slides write w_11 but w_12,1: a comma only where an index has two digits.
    return f"{a}{b}" if a < 10 and b < 10 else f"{a},{b}"


# Parameters per run at most: the kernels keep about eight arrays of P numbers per lane,
# so 10^5 (64 lanes, float64) is about 400 MB for a block; a larger network is refused.
MAX_PARAMS = 100_000


def network(n_in, hidden, n_out):
    """The Layout n_in-hidden-n_out (hidden: a width or a list of widths), or a
    ValueError naming `hidden` when it has more than MAX_DEPTH layers or more
    than MAX_PARAMS numbers."""
    layout = Layout(n_in, hidden, n_out)
    shown = list(layout.hidden)
    if layout.depth > MAX_DEPTH:
        raise ValueError(f"hidden: {shown} has {layout.depth} layers, more than the {MAX_DEPTH} allowed")
    if layout.size > MAX_PARAMS:
        raise ValueError(
            f"hidden: {shown} on {n_in} inputs and {n_out} outputs is {layout.size:,} parameters per run, "
            f"more than the {MAX_PARAMS:,} allowed; use narrower or fewer layers"
        )
    return layout


def param_names(layouts):
    """The names of several networks' numbers in one table (the params table's
    columns): the largest network's, then each other's not among them (a
    narrower one-layer network's are all among the widest's)."""
    layouts = list(layouts)
    names = max(layouts, key=lambda layout: layout.size).names
    seen = set(names)
    for layout in layouts:
        names += [name for name in layout.names if name not in seen]
        seen.update(layout.names)
    return names


def _positive(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class Layout:
    """Sizes, offsets and slide names of the flat parameter vector.

    Parameters
    ----------
    n_in, n_out : int
        Input and output units; the lecture's network is 12-3-2 (size 47).
    hidden : int or sequence of int
        Hidden widths, the first hidden layer (nearest the input) first; an
        int is one layer (Layout(12, 3, 2) is Layout(12, (3,), 2)).

    Attributes
    ----------
    size : int
        Numbers in the flat vector: Σ over layers of fan_out·(fan_in + 1).
    names : list of str
        The slides' name of each number ('w_11^O', …, 'θ_3^H').
    is_threshold : bool array [size]
        True where the number is a threshold θ.

    Examples
    --------
    >>> Layout().names[:4]
    ['w_11^O', 'w_21^O', 'w_31^O', 'θ_1^O']
    >>> Layout(2, (2, 2), 2).names[6:9]
    ['w_11^H2', 'w_21^H2', 'θ_1^H2']
    """

    n_in: int = 12
    hidden: tuple = (3,)
    n_out: int = 2

    def __post_init__(self):
        for name in ("n_in", "n_out"):
            if not _positive(getattr(self, name)):
                raise ValueError(f"Layout: {name} must be a positive integer, got {getattr(self, name)!r}")
        hidden = (self.hidden,) if _positive(self.hidden) else self.hidden
        if not isinstance(hidden, (tuple, list)) or not hidden or not all(_positive(h) for h in hidden):
            raise ValueError(f"Layout: hidden must be a positive integer or a non-empty list of them, got {hidden!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))  # (3,) == [3] == 3: one layout

    @classmethod
    def fit(cls, size: int, n_in: int, n_out: int, name: str = "theta") -> "Layout":
        """The one-hidden-layer layout whose flat vector has `size` numbers for
        these inputs and outputs (size = H·(n_in + n_out + 1) + n_out), or a ValueError."""
        n_hidden, rest = divmod(size - n_out, n_in + n_out + 1)
        if rest or n_hidden < 1:
            raise ValueError(
                f"{name}: {size} numbers fit no layout with {n_in} inputs and {n_out} outputs (12-3-2 has 47)"
            )
        return cls(n_in, int(n_hidden), n_out)

    @property
    def depth(self) -> int:
        """Hidden layers."""
        return len(self.hidden)

    @property
    def widths(self) -> tuple:
        """Units per layer, input to output: (n_in, *hidden, n_out)."""
        return (self.n_in, *self.hidden, self.n_out)

    @property
    def n_hidden(self) -> int:
        """The width of the one hidden layer (the lecture's H); a ValueError at depth > 1."""
        self._one_layer("n_hidden")
        return self.hidden[0]

    def _one_layer(self, what):
        # the lecture's one-layer views: at depth > 1 a clear error, never a wrong number
        if self.depth > 1:
            raise ValueError(
                f"Layout: {what} takes one hidden layer, but {self} has {self.depth}; use hidden, widths or layers()"
            )

    def _block(self, l):
        # numbers of layer l (1..depth + 1): fan_out units of fan_in weights and a θ each
        return self.widths[l] * (self.widths[l - 1] + 1)

    def layer_offset(self, l: int) -> int:
        """Index of layer l's first number (l = 1 the first hidden layer, l =
        depth + 1 the output layer, at 0): the layers above it come first."""
        if not isinstance(l, numbers.Integral) or not 1 <= l <= self.depth + 1:
            raise ValueError(f"Layout: layer must be in 1..{self.depth + 1}, got {l!r}")
        return sum(self._block(k) for k in range(l + 1, self.depth + 2))

    @property
    def hidden_offset(self) -> int:
        """Index of the first hidden-layer number (w_11^H, or w_11^HD): the end of the output block."""
        return self.layer_offset(self.depth)

    @property
    def size(self) -> int:
        return self.layer_offset(1) + self._block(1)

    def _tag(self, l):
        if l == self.depth + 1:
            return "O"
        return "H" if self.depth == 1 else f"H{l}"

    @property
    def names(self) -> list[str]:
        out = []
        for l in range(self.depth + 1, 0, -1):
            tag, fan_in = self._tag(l), self.widths[l - 1]
            for j in range(1, self.widths[l] + 1):
                out += [f"w_{_subscript(i, j)}^{tag}" for i in range(1, fan_in + 1)]
                out.append(f"θ_{j}^{tag}")
        return out

    @property
    def is_threshold(self) -> np.ndarray:
        """Boolean mask over the flat vector: True where the number is a θ."""
        mask = np.zeros(self.size, dtype=bool)
        for l in range(1, self.depth + 2):
            start, fan_in = self.layer_offset(l), self.widths[l - 1]
            mask[start + fan_in : start + self._block(l) : fan_in + 1] = True
        return mask

    def _check(self, theta):
        theta = np.asarray(theta)
        if theta.shape[-1] != self.size:
            raise ValueError(f"theta: last axis must have {self.size} numbers for {self}, got shape {theta.shape}")
        return theta

    def layers(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Flat vector(s) [..., size] -> [(W [..., fan_out, fan_in], θ [..., fan_out])]
        per layer, the first hidden layer first and the output layer last (views)."""
        theta = self._check(theta)
        lead, out = theta.shape[:-1], []
        for l in range(1, self.depth + 2):
            start = self.layer_offset(l)
            block = theta[..., start : start + self._block(l)].reshape(*lead, self.widths[l], self.widths[l - 1] + 1)
            out.append((block[..., :-1], block[..., -1]))
        return out

    def pack_layers(self, layers) -> np.ndarray:
        """Inverse of layers: [(W, θ)] first hidden layer first -> flat vector(s)."""
        if len(layers) != self.depth + 1:
            raise ValueError(f"layers: {self} has {self.depth + 1} layers, got {len(layers)}")
        blocks = []
        for W, th in reversed(layers):  # the output layer first
            W, th = np.asarray(W), np.asarray(th)
            blocks.append(np.concatenate([W, th[..., None]], axis=-1).reshape(*th.shape[:-1], -1))
        return np.concatenate(blocks, axis=-1)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One hidden layer's flat vector(s) [..., size] -> (W_out[n_out, n_hidden],
        th_out[n_out], W_hid[n_hidden, n_in], th_hid[n_hidden]), with any leading
        axes kept (views). At depth > 1 see layers()."""
        self._one_layer("unpack")
        (W_hid, th_hid), (W_out, th_out) = self.layers(theta)
        return W_out, th_out, W_hid, th_hid

    def pack(self, W_out: np.ndarray, th_out: np.ndarray, W_hid: np.ndarray, th_hid: np.ndarray) -> np.ndarray:
        """Inverse of unpack."""
        self._one_layer("pack")
        return self.pack_layers([(W_hid, th_hid), (W_out, th_out)])
