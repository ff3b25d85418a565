import numpy as np
import pytest

from engine import Layout


def test_lecture_layout_has_47_numbers_in_slide_order():
    layout = Layout()
    assert layout.size == 47 == (12 + 1) * 3 + (3 + 1) * 2
    names = layout.names
    assert names[:8] == ["w_11^O", "w_21^O", "w_31^O", "θ_1^O", "w_12^O", "w_22^O", "w_32^O", "θ_2^O"]
    assert names[8:10] == ["w_11^H", "w_21^H"] and names[8 + 11 : 8 + 13] == ["w_12,1^H", "θ_1^H"]
    assert names[-2:] == ["w_12,3^H", "θ_3^H"]
    assert len(set(names)) == 47


def test_unpack_puts_each_number_where_the_slides_do():
    layout = Layout()
    theta = np.arange(47.0)
    W_out, th_out, W_hid, th_hid = layout.unpack(theta)
    assert W_out.tolist() == [[0, 1, 2], [4, 5, 6]] and th_out.tolist() == [3, 7]
    assert W_hid[0].tolist() == list(range(8, 20)) and th_hid.tolist() == [20, 33, 46]
    assert W_hid[2, 11] == 45  # w_12,3^H
    assert np.flatnonzero(layout.is_threshold).tolist() == [3, 7, 20, 33, 46]


@pytest.mark.parametrize("sizes", [(12, 3, 2), (4, 1, 3), (2, 5, 2)])
def test_pack_inverts_unpack_for_any_size_and_leading_axes(sizes):
    layout = Layout(*sizes)
    assert layout.size == (sizes[0] + 1) * sizes[1] + (sizes[1] + 1) * sizes[2]
    theta = np.random.default_rng(0).normal(size=(4, 2, layout.size))
    assert np.array_equal(layout.pack(*layout.unpack(theta)), theta)
    assert len(layout.names) == layout.size


def test_bad_layouts_and_vectors_are_refused():
    with pytest.raises(ValueError, match="n_hidden"):
        Layout(12, 0, 2)
    with pytest.raises(ValueError, match="47"):
        Layout().unpack(np.zeros(46))
