"""borrow.py: a borrowed array is its owner's data (reads and writes, views
and slices), tuples keep their numbers, and what holds a count it cannot drop
(a list) is refused; matrix views a C-contiguous array's numbers as rows."""

import numba
import numpy as np
import pytest

from engine.kernels.borrow import borrowed, matrix


@numba.njit
def write_through(a):
    b = borrowed(a)
    b[1:, :][0, 2] = 7.0  # through a view of the borrowed copy
    return b.shape[0], b.shape[1], b.strides[0], b[0, 1]


@numba.njit
def through_a_tuple(a, v):
    t = borrowed((a, (v, 3.5), np.int64(2)))
    t[1][0][0] = t[1][1] + t[2]
    return t[0][0], t[1][1]


@numba.njit
def of_a_list(x):
    return borrowed([x])


def test_a_borrowed_array_is_its_owners_data():
    a = np.arange(12.0).reshape(3, 4)
    rows, cols, stride, read = write_through(a)
    assert (rows, cols, stride, read) == (3, 4, 32, 1.0)
    assert a[1, 2] == 7.0


def test_a_tuple_keeps_its_numbers_and_nesting():
    a, v = np.array([4.0, 5.0]), np.zeros(3)
    assert through_a_tuple(a, v) == (4.0, 3.5)
    assert v[0] == 5.5


def test_a_list_is_refused():
    with pytest.raises(numba.core.errors.TypingError):
        of_a_list(1.0)


@numba.njit
def rows_of(a, start, rows, cols):
    m = matrix(a, start, rows, cols)
    m[1, 0] = -1.0
    return m.copy(), m.strides


def test_matrix_views_numbers_as_rows():
    a = np.arange(20.0).reshape(10, 2)  # any C-contiguous array: numbers in order
    m, strides = rows_of(a, 3, 2, 5)
    assert np.array_equal(m, [[3, 4, 5, 6, 7], [-1, 9, 10, 11, 12]]) and strides == (40, 8)
    assert a.ravel()[8] == -1.0  # a view, not a copy


def test_matrix_refuses_a_strided_array():
    with pytest.raises(numba.core.errors.TypingError):
        rows_of(np.zeros((4, 4))[:, 0], 0, 2, 2)
