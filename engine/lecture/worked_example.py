"""One forward pass and one backprop step on the clean C glyph, in the
slides' notation, as Markdown for docs/lecture.md.

    python -m engine.lecture.worked_example               # print the Markdown
    python -m engine.lecture.worked_example --readme docs/lecture.md   # rewrite its block

The block sits between the marker comments below; tests/test_lecture.py
regenerates it and fails if docs/lecture.md differs.
"""

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from .. import options
from ..model.data import glyphs
from ..model.initial import initial_params
from ..model.layout import Layout
from .notation import derivative, roles

BEGIN, END = "<!-- lecture:begin -->", "<!-- lecture:end -->"
INIT, SEED = "xavier", 0
ETA = options.TRAIN_DEFAULTS["lr"]


def sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


def first_step(theta, x, t):
    """Every quantity of the slides' setting (sigmoid units, sigmoid outputs,
    squared error) for one image, computed as the slides write it."""
    layout = Layout()
    W_out, th_out, W_hid, th_hid = layout.unpack(theta)  # W_out[k, j] = w_jk^O, W_hid[i, m] = w_mi^H
    s_hid = W_hid @ x - th_hid
    h = sigmoid(s_hid)
    s_out = W_out @ h - th_out
    z = sigmoid(s_out)
    e = ((t - z) ** 2).sum() / 2
    delta_out = (z - t) * z * (1 - z)  # (z_k − t_k) a'(s_k^O), a' = z(1 − z)
    delta_hid = (W_out.T @ delta_out) * h * (1 - h)  # (Σ_k δ_k^O w_ik^O) a'(s_i^H)
    grad = layout.pack(np.outer(delta_out, h), -delta_out, np.outer(delta_hid, x), -delta_hid)
    return dict(s_hid=s_hid, h=h, s_out=s_out, z=z, e=e, delta_out=delta_out, delta_hid=delta_hid, grad=grad)


# δ_k^O = ∂e/∂s_k^O for each output × error pair, from z (of that output) and t.
DELTAS = {
    ("sigmoid", "squared"): (
        "(z_k − t_k) z_k (1 − z_k), the slides' (z_k − t_k) a′(s_k^O)",
        lambda z, t: (z - t) * z * (1 - z),
    ),
    ("softmax", "cross_entropy"): ("z_k − t_k", lambda z, t: z - t),
    ("sigmoid", "cross_entropy"): ("−t_k (1 − z_k)", lambda z, t: -t * (1 - z)),
    ("softmax", "squared"): (
        "z_k ((z_k − t_k) − Σ_j (z_j − t_j) z_j)",
        lambda z, t: z * ((z - t) - ((z - t) * z).sum()),
    ),
}


def output_deltas(s_out, t):
    """{(output, loss): (z, δ^O)} at the same s^O."""
    softmax = np.exp(s_out) / np.exp(s_out).sum()
    return {
        (output, loss): ((z := sigmoid(s_out) if output == "sigmoid" else softmax), rule(z, t))
        for (output, loss), (_, rule) in DELTAS.items()
    }


def num(value):
    return f"{value:.6g}" if value != 0 else "0"


def values(array):
    return ", ".join(num(v) for v in array)


def markdown():
    layout = Layout()
    X, T = glyphs()
    x, t = X[0], T[0]
    theta = initial_params(layout, INIT, [SEED])[0]
    q = first_step(theta, x, t)
    lines = [
        f"The slides' setting (sigmoid hidden units, sigmoid outputs z = a(s^O), squared error) on the clean "
        f"C of `engine.glyphs()` with t = (1, 0), from the initial weights "
        f'`engine.initial_params(Layout(), "{INIT}", [{SEED}])` (thresholds start at 0), η = {ETA}. '
        f"a(s) = 1/(1 + e^(−s)), so a′(s) = a(s)(1 − a(s)). The slides write each derivative as a chain; "
        f"δ names the shared factor: δ_k^O = ∂e/∂s_k^O = (z_k − t_k) a′(s_k^O) and "
        f"δ_i^H = ∂e/∂s_i^H = (δ_1^O w_i1^O + δ_2^O w_i2^O) a′(s_i^H).",
        "",
        "| symbol | formula | value |",
        "|---|---|---|",
        f"| x_1 … x_12 | pixels / 255, row by row (011/100/100/011) | {values(x)} |",
        *(
            f"| s_{i + 1}^H | w_1{i + 1}^H x_1 + … + w_12,{i + 1}^H x_12 − θ_{i + 1}^H | {num(v)} |"
            for i, v in enumerate(q["s_hid"])
        ),
        *(f"| h_{i + 1} | a(s_{i + 1}^H) | {num(v)} |" for i, v in enumerate(q["h"])),
        *(
            f"| s_{k + 1}^O | w_1{k + 1}^O h_1 + w_2{k + 1}^O h_2 + w_3{k + 1}^O h_3 − θ_{k + 1}^O | {num(v)} |"
            for k, v in enumerate(q["s_out"])
        ),
        *(f"| z_{k + 1} | a(s_{k + 1}^O) | {num(v)} |" for k, v in enumerate(q["z"])),
        f"| e | ((t_1 − z_1)² + (t_2 − z_2)²)/2 | {num(q['e'])} |",
        *(
            f"| δ_{k + 1}^O | (z_{k + 1} − t_{k + 1}) a′(s_{k + 1}^O) | {num(v)} |"
            for k, v in enumerate(q["delta_out"])
        ),
        *(
            f"| δ_{i + 1}^H | (δ_1^O w_{i + 1}1^O + δ_2^O w_{i + 1}2^O) a′(s_{i + 1}^H) | {num(v)} |"
            for i, v in enumerate(q["delta_hid"])
        ),
        "",
        "The 47 partial derivatives (∂s/∂w is the unit's input, ∂s/∂θ = −1) and one step of steepest descent:",
        "",
        "| l | parameter | w | ∂e/∂w | = | w − η ∂e/∂w |",
        "|---|---|---|---|---|---|",
    ]
    for l, (name, w, g, role) in enumerate(zip(layout.names, theta, q["grad"], roles(layout))):
        lines.append(f"| {l} | {name} | {num(w)} | {derivative(*role)} | {num(g)} | {num(w - ETA * g)} |")
    lines += [
        "",
        "The output factor the slides print, (z_k − t_k) a′(s_k^O), belongs to the squared error. With "
        "other outputs and errors (the same weights, so the same s^O) it is:",
        "",
        "| output, error | δ_k^O = ∂e/∂s_k^O | z_1, z_2 | δ_1^O, δ_2^O |",
        "|---|---|---|---|",
    ]
    for (output, loss), (z, delta) in output_deltas(q["s_out"], t).items():
        lines.append(
            f"| {output}, {loss.replace('_', '-')} | {DELTAS[output, loss][0]} | {values(z)} | {values(delta)} |"
        )
    return "\n".join(lines) + "\n"


def replace_block(text, block):
    """`text` with the part between the markers replaced by `block`."""
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"expected one {BEGIN} … {END} block")
    return pattern.sub(lambda _: f"{BEGIN}\n{block}{END}", text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", type=Path, help="rewrite the block between the markers in this file")
    args = p.parse_args(argv)
    if args.readme:
        args.readme.write_text(replace_block(args.readme.read_text(encoding="utf-8"), markdown()), encoding="utf-8")
    else:
        sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
