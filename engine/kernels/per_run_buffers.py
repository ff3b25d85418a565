"""Where the per-run pass's buffers lie in buf.deep (per_run.py), for CHUNK samples.

In order: four blocks of ΣH rows (outputs y, kept outputs, dropout factors,
δ), the inputs by input ([n_in, b], for the sums), five blocks of the
outputs' rows, four vectors, then the rows that the gradient's vectors
read and write (vector.add_outer), each padded to whole vectors: the
inputs by sample with θ's input −1 ([b, n_in + 1] padded), each hidden
layer's kept outputs likewise, and the gradient's sums, one padded row per
unit of every layer. Each layout is a formula, not a list: numba allocates
a list on the heap.
"""

from .borrow import matrix
from .config import jit_inline
from .vector import VECTOR_BYTES

CHUNK = 128  # samples side by side in the vector, at most
(AT_Y, AT_KEPT, AT_KEEP, AT_DELTA, AT_XC) = range(5)
(AT_S_OUT, AT_Z, AT_T, AT_D_OUT, AT_TERM, AT_S_MAX, AT_U, AT_T_SUM, AT_LOG_SUM) = range(5, 14)
(AT_XP, AT_KP, AT_G, AT_END) = range(14, 18)
WIDEST = 16  # entries of the widest vector (float32): buffers sized for it fit either dtype


@jit_inline
def padded(fan_in, entries):
    """A padded row's length: a unit's fan_in inputs and θ's −1, rounded up to
    whole vectors of `entries` numbers."""
    return -(-(fan_in + 1) // entries) * entries


@jit_inline
def kept_at(net, l, entries):
    """Where hidden layer l's padded rows start among AT_KP's."""
    at = 0
    for k in range(1, l):
        at += CHUNK * padded(net.widths[k], entries)
    return at


@jit_inline
def sums_at(net, l, entries):
    """Where layer l's padded gradient rows start among AT_G's (layer D + 1: the output layer)."""
    at = 0
    for k in range(1, l):
        at += net.widths[k] * padded(net.widths[k - 1], entries)
    return at


@jit_inline
def layout(net, a, entries):
    """Where buffer a (indexed by the names above) starts, for vectors of `entries` numbers."""
    U, n_in, K, D = net.n_units, net.n_in, net.n_out, net.depth
    rows = min(a, 4) * U + min(max(a - 4, 0), 1) * n_in + min(max(a - 5, 0), 5) * K + min(max(a - 10, 0), 4)
    at = rows * CHUNK
    if a > AT_XP:
        at += CHUNK * padded(n_in, entries)
    if a > AT_KP:
        at += kept_at(net, D + 1, entries)
    if a > AT_G:
        at += sums_at(net, D + 2, entries)
    return at


@jit_inline
def per_run_room(net):
    """Reals that the buffers take, in either dtype."""
    return layout(net, AT_END, WIDEST)


@jit_inline
def entries_of(deep):
    """Numbers of deep's dtype in one of vector.add_outer's vectors."""
    return VECTOR_BYTES // deep.itemsize


@jit_inline
def view(deep, net, a, rows, b):
    """Buffer a as a [rows, b] array (made directly: a reshape calls a C helper each time)."""
    return matrix(deep, layout(net, a, entries_of(deep)), rows, b)


@jit_inline
def vector(deep, net, a, b):
    """Buffer a's first b numbers (a vector of one number per sample)."""
    return matrix(deep, layout(net, a, entries_of(deep)), 1, b)[0]
