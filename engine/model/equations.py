"""The network in plain numpy: forward pass, error E and its exact gradient.

This is the readable statement of the model that the kernels must agree
with (tests compare them), at any depth. Shapes: theta [..., P] in slide
order, X [n, n_in], T [n, n_out] one-hot; leading axes of theta are
independent networks. Without a Layout, one hidden layer is assumed and its
width read off P.
"""

import numpy as np

from ..options import ACTIVATIONS, LOSSES, OUTPUTS, REDUCTIONS, code
from .layout import Layout


def sigmoid(s):
    return 0.5 * (1.0 + np.tanh(0.5 * s))  # no overflow warnings for large |s|


# a(s) and a'(s) written from the output y = a(s), as in the slides.
ACTIVATION = {
    "sigmoid": (sigmoid, lambda y: y * (1.0 - y)),
    "tanh": (np.tanh, lambda y: 1.0 - y * y),
    "relu": (lambda s: np.maximum(s, 0.0), lambda y: (y > 0).astype(y.dtype)),  # a'(0) = 0
}


def layout_for(theta, X, T=None):
    theta, X = np.asarray(theta, dtype=np.float64), np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X: must be a 2-d array [samples, inputs], got shape {X.shape}")
    n_out = 2 if T is None else np.shape(T)[-1]
    return Layout.fit(theta.shape[-1], X.shape[1], n_out), theta, X


def hidden_outputs(theta, X, activation="sigmoid", layout=None):
    """The hidden outputs of each layer, [h^1 [..., n, H_1], …, h^D [..., n, H_D]]
    (h^l = a(s^l), the first hidden layer first)."""
    code("activation", ACTIVATIONS, activation)
    if layout is None:
        layout, theta, X = layout_for(theta, X)
    h, out = X, []
    for W, th in layout.layers(theta)[:-1]:
        h = ACTIVATION[activation][0](h @ np.swapaxes(W, -1, -2) - th[..., None, :])
        out.append(h)
    return out


def forward(theta, X, activation="sigmoid", output="softmax", layout=None):
    """The forward pass of flat vector(s) theta [..., P] on inputs X [n, n_in].

    Returns
    -------
    h : array [..., n, H_D]
        Outputs a(s^H) of the last hidden layer (the one the outputs read;
        hidden_outputs gives every layer's).
    z : array [..., n, n_out]
        Network outputs.
    s_out : array [..., n, n_out]
        The output units' inputs s^O.
    log_z : array [..., n, n_out]
        log z, computed from s^O (no log of a rounded z).
    """
    if layout is None:
        layout, theta, X = layout_for(theta, X)
    hs, z, s_out, log_z = _network(theta, X, activation, output, layout)
    return hs[-1], z, s_out, log_z


def _network(theta, X, activation, output, layout):
    """(every hidden layer's outputs, z, s^O, log z)."""
    code("output", OUTPUTS, output)
    hs = hidden_outputs(theta, X, activation, layout)
    W_out, th_out = layout.layers(theta)[-1]
    s_out = hs[-1] @ np.swapaxes(W_out, -1, -2) - th_out[..., None, :]
    if output == "softmax":
        log_z = s_out - np.logaddexp.reduce(s_out, axis=-1, keepdims=True)
    else:
        log_z = -np.logaddexp(0.0, -s_out)
    return hs, np.exp(log_z), s_out, log_z


def loss_grad(
    theta,
    X,
    T,
    activation="sigmoid",
    output="softmax",
    loss="cross_entropy",
    reduction="mean",
    weight_decay=0.0,
    decay_thresholds=False,
    layout=None,
):
    """The error E and its exact gradient ∂E/∂w, in plain numpy.

    Parameters
    ----------
    theta : array [..., P]
        Flat parameter vector(s) in the slides' order (P = 47 for 12-3-2);
        leading axes are kept, so many networks are evaluated at once.
    X : array [n, n_in]
        Inputs, one row per sample (pixels scaled to [0, 1]).
    T : array [n, n_out]
        One-hot targets.
    activation : {'sigmoid', 'tanh', 'relu'}
        Hidden units' a(s); relu's a'(0) is taken as 0.
    output : {'softmax', 'sigmoid'}
    loss : {'cross_entropy', 'squared'}
        e_p = −Σ t log z, or ½ Σ (t − z)².
    reduction : {'mean', 'sum'}
        E = Σ_p e_p (the slides') or its mean over the samples.
    weight_decay : float
        λ: adds λ/2 Σ w² over the weights to E.
    decay_thresholds : bool
        Whether the thresholds θ are decayed too.
    layout : Layout, optional
        The network (any depth); by default one hidden layer, its width read off P.

    Returns
    -------
    E : float or array [...]
    grad : array [..., P]
        ∂E/∂w in the same order as theta.
    """
    code("loss", LOSSES, loss)
    code("reduction", REDUCTIONS, reduction)
    if layout is None:
        layout, theta, X = layout_for(theta, X, T)
    else:
        theta, X = np.asarray(theta, dtype=np.float64), np.asarray(X, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    hs, z, _, log_z = _network(theta, X, activation, output, layout)
    scale = 1.0 / X.shape[0] if reduction == "mean" else 1.0

    # e_p and δ^O = ∂e_p/∂s^O for each output × loss pair.
    if loss == "cross_entropy":
        e = -(T * log_z).sum(-1)
        if output == "softmax":
            delta = z * T.sum(-1, keepdims=True) - T
        else:
            delta = -T * (1.0 - z)
    else:
        e = 0.5 * ((T - z) ** 2).sum(-1)
        if output == "softmax":
            delta = z * ((z - T) - ((z - T) * z).sum(-1, keepdims=True))
        else:
            delta = (z - T) * z * (1.0 - z)
    delta = delta * scale

    # Backward from the output layer: ∂s/∂w = the layer's input, ∂s/∂θ = −1,
    # and δ of the layer below = (δ W) · a'(its outputs).
    layers, inputs = layout.layers(theta), [X, *hs]
    grads = [None] * len(layers)
    for l in range(len(layers) - 1, -1, -1):
        grads[l] = (np.swapaxes(delta, -1, -2) @ inputs[l], -delta.sum(-2))
        if l:
            delta = (delta @ layers[l][0]) * ACTIVATION[activation][1](inputs[l])
    grad = layout.pack_layers(grads)
    E = e.sum(-1) * scale
    decayed = np.ones(layout.size) if decay_thresholds else (~layout.is_threshold).astype(np.float64)
    E = E + 0.5 * weight_decay * (decayed * theta**2).sum(-1)
    grad = grad + weight_decay * decayed * theta
    return E, grad
