"""The lecture: docs/lecture.md's worked example (computed as the slides write it, equal
to the engine, the page's copy the generated one) and experiments/lecture.toml."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.lecture import SLIDE_DEFAULTS
from engine.lecture import worked_example as we

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "lecture.md"


@pytest.mark.parametrize("letter", [0, 1])
def test_first_step_is_the_engines_gradient(letter):
    X, T = engine.glyphs()
    theta = np.random.default_rng(letter).normal(0.0, 0.8, engine.Layout().size)
    q = we.first_step(theta, X[letter], T[letter])
    E, grad = engine.loss_grad(
        theta,
        X[letter : letter + 1],
        T[letter : letter + 1],
        activation="sigmoid",
        output="sigmoid",
        loss="squared",
        reduction="sum",
    )
    assert q["e"] == pytest.approx(E, rel=1e-14)
    np.testing.assert_allclose(q["grad"], grad, rtol=1e-12, atol=1e-15)
    h, z, s_out, _ = engine.forward(theta, X[letter : letter + 1], "sigmoid", "sigmoid")
    np.testing.assert_allclose(q["h"], h[0], rtol=1e-14)
    np.testing.assert_allclose(q["z"], z[0], rtol=1e-14)


def test_output_deltas_are_the_engines():
    X, T = engine.glyphs()
    theta = np.random.default_rng(5).normal(0.0, 0.8, engine.Layout().size)
    s_out = we.first_step(theta, X[1], T[1])["s_out"]
    thresholds = [engine.Layout().names.index(f"θ_{k}^O") for k in (1, 2)]
    for (output, loss), (z, delta) in we.output_deltas(s_out, T[1]).items():
        _, grad = engine.loss_grad(theta, X[1:], T[1:], activation="sigmoid", output=output, loss=loss, reduction="sum")
        np.testing.assert_allclose(delta, -grad[thresholds], rtol=1e-12, err_msg=f"{output}, {loss}")
        np.testing.assert_allclose(z, engine.forward(theta, X[1:], "sigmoid", output)[1][0], rtol=1e-14)


def test_the_lecture_page_holds_the_generated_example():
    text = PAGE.read_text(encoding="utf-8")
    assert we.replace_block(text, we.markdown()) == text, (
        "docs/lecture.md's worked example differs from the code's; run "
        "python -m engine.lecture.worked_example --readme docs/lecture.md"
    )


def test_replace_block_needs_one_block():
    with pytest.raises(ValueError, match="expected one"):
        we.replace_block("no markers", "x\n")
    assert we.replace_block(f"a\n{we.BEGIN}\nold\n{we.END}\nb", "new\n") == f"a\n{we.BEGIN}\nnew\n{we.END}\nb"


def test_lecture_experiment_is_the_slides_setting():
    spec = tomllib.loads((ROOT / "experiments" / "lecture.toml").read_text(encoding="utf-8"))
    settings, factors = spec["settings"], spec["factors"]
    assert {k: settings[k] for k in ("output", "loss", "reduction")} == {
        k: v for k, v in SLIDE_DEFAULTS.items() if k != "activation"
    }
    assert settings["optimizer"] == "sgd" and settings["target_loss"] > 0  # steepest descent, stop at E < ε
    assert set(factors["schedule"]) == {"constant", "armijo"}
    assert set(factors["init"]) == {"std0.01", "xavier", "he"}
    assert set(factors["activation"]) == {"sigmoid", "tanh", "relu"}
