"""Spreadsheet formulas of the engine's model (engine.loss_grad), one per
setting, as text over cell references. Only functions that Excel and
LibreOffice Calc both have: EXP, LN, TANH, MAX, IF."""

# a(s) and a'(s), the latter written from y = a(s) as on the slides.
ACTIVATION = {
    "sigmoid": ("1/(1+EXP(-{s}))", "{y}*(1-{y})"),
    "tanh": ("TANH({s})", "1-{y}^2"),
    "relu": ("MAX({s},0)", "IF({y}>0,1,0)"),  # a'(0) = 0, as in the engine
}
ACTIVATION_TEXT = {
    "sigmoid": ("1/(1+exp(−s))", "h(1−h)"),
    "tanh": ("tanh(s)", "1−h²"),
    "relu": ("max(s, 0)", "1 if h > 0 else 0"),
}


def activation(name, s):
    return ACTIVATION[name][0].format(s=s)


def slope(name, y):
    """a'(s) from the unit's output y."""
    return ACTIVATION[name][1].format(y=y)


def outputs(output, s):
    """z_k for each output unit k, from the cells s = [s_1^O, s_2^O, …]."""
    if output == "sigmoid":
        return [ACTIVATION["sigmoid"][0].format(s=sk) for sk in s]
    total = "+".join(f"EXP({sk})" for sk in s)
    return [f"EXP({sk})/({total})" for sk in s]


def error(loss, z, t):
    """e_p from the cells z and t."""
    if loss == "squared":
        return "(" + "+".join(f"({tk}-{zk})^2" for zk, tk in zip(z, t)) + ")/2"
    return "-(" + "+".join(f"{tk}*LN({zk})" for zk, tk in zip(z, t)) + ")"


def delta_out(output, loss, z, t, k):
    """δ_k^O = ∂e_p/∂s_k^O for output unit k (0-based)."""
    zk, tk = z[k], t[k]
    if loss == "cross_entropy" and output == "softmax":
        return f"{zk}*({'+'.join(t)})-{tk}"  # z_k − t_k for one-hot t
    if loss == "cross_entropy":
        return f"-{tk}*(1-{zk})"
    if output == "sigmoid":
        return f"({zk}-{tk})*{zk}*(1-{zk})"  # the slides' (z − t) a'(s)
    inner = "+".join(f"({zj}-{tj})*{zj}" for zj, tj in zip(z, t))
    return f"{zk}*(({zk}-{tk})-({inner}))"


OUTPUT_TEXT = {"softmax": "exp(s_k^O)/Σ_j exp(s_j^O)", "sigmoid": "1/(1+exp(−s_k^O))"}
ERROR_TEXT = {"squared": "½Σ_k (t_k − z_k)²", "cross_entropy": "−Σ_k t_k ln z_k"}
DELTA_TEXT = {
    ("sigmoid", "squared"): "(z_k − t_k) z_k (1 − z_k)",
    ("softmax", "squared"): "z_k((z_k − t_k) − Σ_j (z_j − t_j) z_j)",
    ("sigmoid", "cross_entropy"): "−t_k (1 − z_k)",
    ("softmax", "cross_entropy"): "z_k Σ_j t_j − t_k  (= z_k − t_k)",
}
