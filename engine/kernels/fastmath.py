"""exp and log written so that LLVM vectorises loops that call them.

Numba has no vector math library here, so np.exp in a loop over runs is a
scalar call per element, and the transcendental calls dominate training time.
These use range reduction and a polynomial evaluated by Horner's scheme with
fused multiply-adds: the same bits in a vector lane as in a scalar loop, and
NaN in gives NaN out. One undecorated body per
function (`exp_of`, `log_of`) is compiled for each float type with that
type's constants (`FLOAT64`, `FLOAT32`); kernels call `exp_`, `log_`,
`log1p_`, and numba picks the variant by the argument's type.

Largest relative error against float64 libm, in units of the type's own
epsilon (float64 2.2e-16, float32 1.2e-7), measured over 2e5 arguments
(exp over the whole normal range, log over 1e∓300 or 1e∓37, log1p over
1e-30..3); tests/test_fastmath.py asserts < 2 for exp, < 4 for log, log1p:

    float64   exp 1.0   log 1.03   log1p 2.8
    float32   exp 0.81  log 1.5    log1p 2.2
"""

import collections
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

INT_OF = {types.float64: types.int64, types.float32: types.int32}


@intrinsic
def as_int(typingctx, x):
    """The bits of a float read as an integer of the same width (a free register move)."""
    int_type = INT_OF[x]

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(int_type.bitwidth))

    return int_type(x), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once (IEEE 754 fusedMultiplyAdd), for three numbers of one
    float type. Unlike FMA contraction (see config.py) it is asked for by name,
    so it is the same operation in a vector lane and a scalar loop, just
    compiled or loaded from the cache, on any machine (a library call where
    the CPU has no FMA unit): the same bits everywhere."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@intrinsic
def as_real(typingctx, bits, like):
    """The low bits of the integer `bits` read as a float of like's type
    (numba widens int32 arithmetic to int64; LLVM narrows it back)."""
    width = INT_OF[like].bitwidth

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(width)) if bits.bitwidth > width else args[0]
        return builder.bitcast(low, context.get_value_type(like))

    return like(bits, like), codegen


Constants = collections.namedtuple(
    "Constants",
    (
        "ONE HALF TWO LOG2E LN2_HI LN2_LO ROUND ROUND_BITS EXP_MAX EXP_MIN SQRT2 MANTISSA SHIFT BIAS ONE_BITS INF "
        "EXP_SERIES ATANH_SERIES"
    ),
)


def constants(real, mantissa_bits, exponent_bias, ln2_hi, ln2_lo, exp_max, exp_min, exp_terms, atanh_terms):
    """The numbers exp_of and log_of need for one float type, each of that type.

    ln 2 = ln2_hi + ln2_lo (fdlibm's split) so that k·LN2_HI is exact for every k the range allows;
    adding ROUND = 1.5·2^mantissa_bits rounds a float to an integer held in
    its low mantissa bits. e^r = Σ r^k / k! and atanh(t)/t = Σ t^2k / (2k+1),
    highest power first, to as many terms as the type's precision needs."""
    round_ = 1.5 * 2.0**mantissa_bits
    return Constants(
        real(1.0),
        real(0.5),
        real(2.0),
        real(1.0 / math.log(2.0)),
        real(ln2_hi),
        real(ln2_lo),
        real(round_),
        int(np.array(round_, real).view(np.int64 if real is np.float64 else np.int32)),
        real(exp_max),
        real(exp_min),
        real(math.sqrt(2.0)),
        (1 << mantissa_bits) - 1,
        mantissa_bits,
        exponent_bias,
        exponent_bias << mantissa_bits,
        real(np.inf),
        tuple(real(1.0 / math.factorial(k)) for k in range(exp_terms, -1, -1)),
        tuple(real(1.0 / (2 * k + 1)) for k in range(atanh_terms, -1, -1)),
    )


# float64: e^709 is near the largest float; below e^-708 it would be subnormal
# (3e-308 is close enough to 0). Series to r^13 (error below 1e-17) and t^21.
FLOAT64 = constants(np.float64, 52, 1023, 6.93147180369123816490e-01, 1.90821492927058770002e-10, 709.0, -708.0, 13, 10)
# float32: e^88 and e^-87 are the ends of its normal range. Series to r^7
# (error 5e-9 at |r| = ln2/2) and t^9 (|t| ≤ 0.172: error 2e-9).
FLOAT32 = constants(np.float32, 23, 127, 6.9314575195e-01, 1.4286067653e-06, 88.0, -87.0, 7, 4)


def exp_of(c):
    """e^x: x = k ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series, times
    2^k built from bits."""

    def exp_(x):
        x = c.EXP_MAX if x > c.EXP_MAX else x  # written so that NaN passes through
        x = c.EXP_MIN if x < c.EXP_MIN else x
        k_rounded = x * c.LOG2E + c.ROUND
        k = as_int(k_rounded) - c.ROUND_BITS
        kf = k_rounded - c.ROUND
        r = (x - kf * c.LN2_HI) - kf * c.LN2_LO
        p = c.EXP_SERIES[0]  # Horner's scheme from the highest power
        for coefficient in c.EXP_SERIES[1:]:
            p = fma(p, r, coefficient)
        return p * as_real((k + c.BIAS) << c.SHIFT, x)

    return exp_


def log_of(c):
    """ln x for normal x > 0: x = 2^e·m with m in [√½, √2), then
    ln m = 2 atanh(t), t = (m−1)/(m+1), |t| ≤ 0.172, by its series."""

    def log_(x):
        bits = as_int(x)
        m = as_real((bits & c.MANTISSA) | c.ONE_BITS, x)  # in [1, 2)
        e = (bits >> c.SHIFT) - c.BIAS
        if m > c.SQRT2:
            m = c.HALF * m
            e = e + 1
        ef = as_real(e + c.ROUND_BITS, x) - c.ROUND  # int -> float without cvtqq2pd
        t = (m - c.ONE) / (m + c.ONE)
        t2 = t * t
        p = c.ATANH_SERIES[0]
        for coefficient in c.ATANH_SERIES[1:]:
            p = fma(p, t2, coefficient)
        y = ef * c.LN2_HI + (c.TWO * t * p + ef * c.LN2_LO)
        return y if x < c.INF else x  # inf and NaN pass through

    return log_


def log1p_of(c):
    """ln(1 + x) for x ≥ 0, accurate for tiny x (Goldberg's trick: the
    rounding of w = 1 + x is undone by the factor x / (w − 1)); log_ is the
    dispatching one below."""

    def log1p_(x):
        w = c.ONE + x
        return x if w == c.ONE else log_(w) * (x / (w - c.ONE))

    return log1p_


def variants(make):
    """numba type -> the body compiled with that type's constants."""
    return {types.float64: make(FLOAT64), types.float32: make(FLOAT32)}


EXP, LOG, LOG1P = variants(exp_of), variants(log_of), variants(log1p_of)


def exp_(x):
    """e^x for float64 or float32 x (inside jitted code only)."""
    raise TypeError("exp_ runs inside numba-compiled code only")


def log_(x):
    """ln x for float64 or float32 x (inside jitted code only)."""
    raise TypeError("log_ runs inside numba-compiled code only")


def log1p_(x):
    """ln(1 + x) for float64 or float32 x ≥ 0 (inside jitted code only)."""
    raise TypeError("log1p_ runs inside numba-compiled code only")


def by_type(table):
    """numba's overload hook: the variant for the argument's type (None: no match)."""
    return lambda x: table.get(x)


# Not inlined in numba's IR (inline="always" copied each body into every caller,
# lengthening a cold compile): they take and return a number, so a call
# passes no arrays, and LLVM inlines them before it vectorises the lane loops.
for stub, table in ((exp_, EXP), (log_, LOG), (log1p_, LOG1P)):
    overload(stub)(by_type(table))
