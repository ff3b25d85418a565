"""exp and log written so that LLVM vectorises loops that call them.

Numba has no vector math library here, so np.exp in a loop over runs is a
scalar call per element, and the transcendental calls dominate training time.
These use range reduction and a polynomial: a few ulp from libm, the same
bits in a vector lane as in a scalar loop, and NaN in gives NaN out.
"""
import math

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .config import jit_inline


@intrinsic
def as_int64(typingctx, x):
    """The bits of a float64 read as an int64 (a free register move)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def as_float64(typingctx, x):
    """The bits of an int64 read as a float64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k·LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10
# Adding 1.5·2^52 rounds a float to an integer held in the low mantissa bits.
ROUND = 6755399441055744.0
ROUND_BITS = 0x4338000000000000
EXP_MAX = 709.0    # e^709 is near the largest float64
EXP_MIN = -708.0   # below this e^x would be subnormal: 3e-308 is close enough to 0
SQRT2 = 1.4142135623730951
MANTISSA = 0x000FFFFFFFFFFFFF
INF = float("inf")
ONE_BITS = 0x3FF0000000000000


# e^r = Σ r^k / k!, k ≤ 13; atanh(t)/t = Σ t^2k / (2k+1), k ≤ 10 (highest power first)
EXP_SERIES = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))
ATANH_SERIES = tuple(1.0 / (2 * k + 1) for k in range(10, -1, -1))


@jit_inline
def horner(coefficients, x):
    p = 0.0
    for c in coefficients:
        p = p * x + c
    return p


@jit_inline
def exp_(x):
    """e^x: x = k ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^13
    (error below 1e-17), times 2^k built from bits."""
    x = EXP_MAX if x > EXP_MAX else x      # written so that NaN passes through
    x = EXP_MIN if x < EXP_MIN else x
    k_rounded = x * LOG2E + ROUND
    k = as_int64(k_rounded) - ROUND_BITS
    kf = k_rounded - ROUND
    r = (x - kf * LN2_HI) - kf * LN2_LO
    p = horner(EXP_SERIES, r)
    return p * as_float64((k + 1023) << 52)


@jit_inline
def log_(x):
    """ln x for normal x > 0: x = 2^e·m with m in [√½, √2), then
    ln m = 2 atanh(t), t = (m−1)/(m+1), |t| ≤ 0.172, by its series to t^21."""
    bits = as_int64(x)
    m = as_float64((bits & MANTISSA) | ONE_BITS)   # in [1, 2)
    e = (bits >> 52) - 1023
    if m > SQRT2:
        m = 0.5 * m
        e = e + 1
    ef = as_float64(e + ROUND_BITS) - ROUND      # int64 -> float64 without cvtqq2pd
    t = (m - 1.0) / (m + 1.0)
    p = horner(ATANH_SERIES, t * t)
    y = ef * LN2_HI + (2.0 * t * p + ef * LN2_LO)
    return y if x < INF else x    # inf and NaN pass through


@jit_inline
def log1p_(u):
    """ln(1 + u) for u ≥ 0, accurate for tiny u (Goldberg's trick: the
    rounding of 1 + u is undone by the factor u / (w − 1))."""
    w = 1.0 + u
    return u if w == 1.0 else log_(w) * (u / (w - 1.0))
