"""The slides' names for the parts of ∂e/∂w: which unit and input each of
the flat vector's numbers belongs to."""


def roles(layout):
    """(layer 'O' or 'H', unit, input index or None for θ) of each parameter, 0-based, in slide order."""
    out = [
        ("O", k, j if j < layout.n_hidden else None) for k in range(layout.n_out) for j in range(layout.n_hidden + 1)
    ]
    hid = [("H", i, m if m < layout.n_in else None) for i in range(layout.n_hidden) for m in range(layout.n_in + 1)]
    return out + hid


def derivative(layer, unit, source):
    """∂e/∂w in δ notation: δ times the unit's input (h or x), or −δ for θ (∂s/∂θ = −1)."""
    if source is None:
        return f"−δ_{unit + 1}^{layer}"
    return f"δ_{unit + 1}^{layer} {'h' if layer == 'O' else 'x'}_{source + 1}"
