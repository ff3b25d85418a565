"""engine.loss_grad (the numpy statement of the model) against the slow
reference, central differences, and a example worked by hand."""

import itertools

import naive
import numpy as np
import pytest

import engine
from engine import Layout, loss_grad

COMBOS = list(itertools.product(("sigmoid", "tanh", "relu"), ("softmax", "sigmoid"), ("cross_entropy", "squared")))


@pytest.fixture(scope="module")
def problem():
    d = engine.make_dataset(10, 2, seed=5)
    theta = engine.initial_params(Layout(), "he", [7])[0] + 0.1  # θ ≠ 0 too
    return theta, d.X_train, d.T_train


@pytest.mark.parametrize("activation, output, loss", COMBOS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_gradient_matches_central_differences(problem, activation, output, loss, weight_decay):
    theta, X, T = problem
    E, grad = loss_grad(theta, X, T, activation, output, loss, "sum", weight_decay)
    h = 1e-6
    numeric = np.array(
        [
            (
                loss_grad(theta + h * e, X, T, activation, output, loss, "sum", weight_decay)[0]
                - loss_grad(theta - h * e, X, T, activation, output, loss, "sum", weight_decay)[0]
            )
            / (2 * h)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("activation, output, loss", COMBOS)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_matches_sample_by_sample_reference(problem, activation, output, loss, reduction):
    theta, X, T = problem
    E, grad = loss_grad(theta, X, T, activation, output, loss, reduction, 0.2, decay_thresholds=True)
    E_ref, grad_ref = naive.loss_grad(theta, X, T, activation, output, loss, reduction, 0.2, True)
    assert E == pytest.approx(E_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-14)


def test_many_vectors_at_once(problem):
    theta, X, T = problem
    thetas = np.stack([theta, 2 * theta, -theta])
    E, grad = loss_grad(thetas, X, T)
    for i in range(3):
        E1, g1 = loss_grad(thetas[i], X, T)
        assert E[i] == pytest.approx(E1) and np.allclose(grad[i], g1)


def test_hand_worked_example():
    """A 2-1-2 network, every number worked out on paper.

    theta = (w_11^O, θ_1^O, w_12^O, θ_2^O, w_11^H, w_21^H, θ_1^H)
          = (1, 0, −1, 0, 0.5, −0.5, 0);  x = (1, 0);  t = (1, 0) (a 'C').
    s^H = 0.5·1 − 0.5·0 − 0 = 0.5;  h = σ(0.5) = 0.6224593312018546
    s^O = (h, −h);  z_1 = e^h / (e^h + e^−h) = σ(2h) = 0.7764190180520173
    e = −log z_1 = 0.25306293281466996
    δ^O = z − t = (−0.2235809819479827, 0.2235809819479827)
    δ^H = (δ_1 w_11^O + δ_2 w_12^O) h (1 − h) = −0.10508472147090724
    ∇e = (δ_1 h, −δ_1, δ_2 h, −δ_2, δ^H x_1, δ^H x_2, −δ^H)
    """
    theta = np.array([1.0, 0.0, -1.0, 0.0, 0.5, -0.5, 0.0])
    X, T = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
    h, z, _, _ = engine.forward(theta, X)
    assert h[0, 0] == pytest.approx(0.6224593312018546, rel=1e-15)
    assert z[0].tolist() == pytest.approx([0.7764190180520173, 0.2235809819479827], rel=1e-15)
    E, grad = loss_grad(theta, X, T, reduction="sum")
    assert E == pytest.approx(0.25306293281466996, rel=1e-15)
    expected = [
        -0.13917006849279523,
        0.2235809819479827,
        0.13917006849279523,
        -0.2235809819479827,
        -0.10508472147090724,
        0.0,
        0.10508472147090724,
    ]
    np.testing.assert_allclose(grad, expected, rtol=1e-14)
    # one steepest-descent step with η = 1, in the kernel
    result = engine.train(X, T, [0], params0=theta[None], n_hidden=1, lr=1.0, epochs=1, reduction="sum")
    np.testing.assert_allclose(result.params[0], theta - np.array(expected), rtol=1e-14)


def test_bad_names_are_refused_with_the_allowed_values(problem):
    theta, X, T = problem
    with pytest.raises(ValueError, match=r"activation: unknown value 'sigmod'.*did you mean 'sigmoid'"):
        loss_grad(theta, X, T, activation="sigmod")
    with pytest.raises(ValueError, match="reduction.*mean, sum"):
        loss_grad(theta, X, T, reduction="average")
    with pytest.raises(ValueError, match="theta: 46 numbers"):
        loss_grad(theta[:-1], X, T)
