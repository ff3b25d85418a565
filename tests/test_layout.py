import numpy as np
import pytest

from engine import Layout
from engine.model.layout import MAX_DEPTH, MAX_PARAMS, network


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
    for hidden in (0, (), (3, 0), (2.5,), (True,)):
        with pytest.raises(ValueError, match="^Layout: hidden must be"):
            Layout(12, hidden, 2)
    with pytest.raises(ValueError, match="47"):
        Layout().unpack(np.zeros(46))


def test_a_width_and_a_list_of_one_width_are_one_layout():
    assert Layout(12, 3, 2) == Layout(12, [3], 2) == Layout(12, (3,), 2) == Layout()
    assert Layout().hidden == (3,) and Layout().depth == 1 and Layout().widths == (12, 3, 2)


def test_the_slide_order_of_a_2_2_2_2_network_worked_by_hand():
    # 2 inputs, hidden layers H1 and H2 of 2 units, 2 outputs: the output layer first,
    # then H2 (nearest the output), then H1; each unit its weights then θ.
    layout = Layout(2, (2, 2), 2)
    assert layout.depth == 2 and layout.widths == (2, 2, 2, 2) and layout.size == 18
    assert layout.names == [
        "w_11^O", "w_21^O", "θ_1^O", "w_12^O", "w_22^O", "θ_2^O",  # 0-5: output units 1, 2 (inputs from H2)
        "w_11^H2", "w_21^H2", "θ_1^H2", "w_12^H2", "w_22^H2", "θ_2^H2",  # 6-11: H2 (inputs from H1)
        "w_11^H1", "w_21^H1", "θ_1^H1", "w_12^H1", "w_22^H1", "θ_2^H1",  # 12-17: H1 (inputs x)
    ]  # fmt: skip
    assert [layout.layer_offset(l) for l in (1, 2, 3)] == [12, 6, 0] and layout.hidden_offset == 6
    assert np.flatnonzero(layout.is_threshold).tolist() == [2, 5, 8, 11, 14, 17]
    (W1, th1), (W2, th2), (W3, th3) = layout.layers(np.arange(18.0))
    assert W1.tolist() == [[12, 13], [15, 16]] and th1.tolist() == [14, 17]  # W[unit, input]
    assert W2.tolist() == [[6, 7], [9, 10]] and th2.tolist() == [8, 11]
    assert W3.tolist() == [[0, 1], [3, 4]] and th3.tolist() == [2, 5]


def test_layers_of_depth_1_are_unpack():
    theta = np.arange(47.0)
    (W_hid, th_hid), (W_out, th_out) = Layout().layers(theta)
    for a, b in zip((W_out, th_out, W_hid, th_hid), Layout().unpack(theta)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("hidden", [(5,), (4, 3), (3, 1, 2), (2, 2, 2, 2, 2)])
def test_pack_layers_inverts_layers_at_any_depth(hidden):
    layout = Layout(6, hidden, 3)
    assert layout.size == sum(o * (i + 1) for i, o in zip(layout.widths, layout.widths[1:])) == len(layout.names)
    assert len(set(layout.names)) == layout.size
    assert layout.is_threshold.sum() == sum(hidden) + 3
    theta = np.random.default_rng(1).normal(size=(2, 3, layout.size))
    layers = layout.layers(theta)
    assert [W.shape for W, _ in layers] == [(2, 3, o, i) for i, o in zip(layout.widths, layout.widths[1:])]
    assert np.array_equal(layout.pack_layers(layers), theta)


def test_one_layer_views_refuse_depth():
    deep = Layout(12, (3, 3), 2)
    for what in ("n_hidden", "unpack"):
        with pytest.raises(ValueError, match=f"^Layout: {what} takes one hidden layer, but .* has 2"):
            getattr(deep, what) if what == "n_hidden" else deep.unpack(np.zeros(deep.size))


def test_network_refuses_too_deep_and_too_large_naming_hidden():
    assert network(12, [100] * MAX_DEPTH, 2).depth == MAX_DEPTH == 8
    with pytest.raises(
        ValueError, match=rf"^hidden: \[3, 3, 3, 3, 3, 3, 3, 3, 3\] has 9 layers, more than the {MAX_DEPTH}"
    ):
        network(12, [3] * (MAX_DEPTH + 1), 2)
    with pytest.raises(ValueError, match=rf"^hidden: \[400, 400\] on 12 inputs .* more than the {MAX_PARAMS:,}"):
        network(12, [400, 400], 2)
