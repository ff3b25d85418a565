"""fastmath's exp, log and log1p against float64 libm, for both float types:
the error is stated in units of the type's own epsilon (its ulp at 1); and
its fused multiply-add against exact arithmetic."""

from fractions import Fraction

import numpy as np
import pytest

from engine.kernels.config import jit
from engine.kernels.fastmath import exp_, fma, log1p_, log_

# (dtype, largest exp argument tested, smallest log argument tested)
TYPES = [(np.float64, 700.0, 1e-300), (np.float32, 87.0, 1e-37)]


@jit
def apply(name, x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = exp_(x[i]) if name == 0 else log_(x[i]) if name == 1 else log1p_(x[i])
    return out


def relative_error(name, x, exact):
    """Largest |fast − exact| / |exact| over x, in units of x's epsilon."""
    x64 = x.astype(np.float64)
    fast = apply(name, x).astype(np.float64)
    return np.max(np.abs(fast - exact(x64)) / np.maximum(np.abs(exact(x64)), 1e-300)) / np.finfo(x.dtype).eps


@pytest.mark.parametrize("dtype, x_max, _", TYPES)
def test_exp_within_two_ulp_of_libm(dtype, x_max, _):
    x = np.random.default_rng(0).uniform(-x_max, x_max, 20000)
    x = np.concatenate([x, np.linspace(-2, 2, 2001)]).astype(dtype)
    assert relative_error(0, x, np.exp) < 2
    one = apply(0, np.zeros(1, dtype))
    assert one.dtype == dtype and one[0] == 1.0


@pytest.mark.parametrize("dtype, _, x_min", TYPES)
def test_log_and_log1p_within_four_ulp(dtype, _, x_min):
    rng = np.random.default_rng(1)
    exponent = np.log10(x_min)
    x = (10 ** rng.uniform(exponent, -exponent, 20000)).astype(dtype)
    assert relative_error(1, x, np.log) < 4
    u = np.concatenate([10 ** rng.uniform(-30, 0.5, 20000), [0.0]]).astype(dtype)
    assert relative_error(2, u, np.log1p) < 4


def test_a_float32_error_is_measured_as_one():
    # the test can fail: the float64 variant applied to float32-rounded inputs is
    # far within float32's epsilon, but the float32 one is not within float64's
    x = np.linspace(-2, 2, 2001, dtype=np.float32)
    assert relative_error(0, x, np.exp) > 0.1
    assert relative_error(0, x.astype(np.float64), np.exp) < 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_finite_inputs_pass_through(dtype):
    big_x = 1e4
    assert np.isnan(apply(0, np.array([np.nan], dtype))[0]) and np.isnan(apply(1, np.array([np.nan], dtype))[0])
    assert apply(1, np.array([np.inf], dtype))[0] == np.inf
    big = apply(0, np.array([big_x, -big_x], dtype))
    tiny = np.finfo(dtype).tiny
    assert big[0] > np.finfo(dtype).max / 1e2 and 0 <= big[1] < 1e2 * tiny  # clamped, never an overflow


@jit
def fma_each(a, b, c):
    out = np.empty_like(a)
    for i in range(a.size):  # a vector body and a scalar remainder (37 elements)
        out[i] = fma(a[i], b[i], c[i])
    return out


def test_fma_rounds_once_in_every_lane():
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(size=(3, 37))
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]  # correctly rounded
    assert np.array_equal(fma_each(a, b, c), exact)
    for dtype, d in ((np.float64, 2.0**-30), (np.float32, 2.0**-13)):
        # (1 + d)(1 − d) = 1 − d²: a product rounded first gives 1, and then 0
        x, y, minus_one = (np.full(37, v, dtype) for v in (1 + d, 1 - d, -1.0))
        assert (x * y + minus_one == 0).all()
        assert (fma_each(x, y, minus_one) == dtype(-d * d)).all()
