"""The benchmark's reference trainers agree with each other and with the math."""

import os
import sys

import numpy as np
import pytest

from engine import Layout, initial_params, make_dataset
from engine.bench import references
from engine.model import equations as model

R, EPOCHS, LR = 4, 200, 0.01


@pytest.fixture(scope="module")
def job():
    data = make_dataset(n_train=16, n_test=1, seed=0)
    return initial_params(Layout(), "xavier", np.arange(R)), data.X_train, data.T_train


@pytest.fixture(scope="module")
def numpy_result(job):
    return references.train_adam_numpy_batched(*job, EPOCHS, LR)


def test_gradient_matches_central_differences(job):
    params, X, T = job
    w = params[:1]
    _, grad = references.loss_grad_batched(w, X, T)
    h = 1e-6
    steps = h * np.eye(w.shape[1])
    E_plus, _ = references.loss_grad_batched(w + steps, X, T)
    E_minus, _ = references.loss_grad_batched(w - steps, X, T)
    np.testing.assert_allclose(grad[0], (E_plus - E_minus) / (2 * h), rtol=1e-6, atol=1e-9)


def test_loss_and_gradient_match_the_model(job):
    params, X, T = job
    E, grad = references.loss_grad_batched(params, X, T)
    E_model, grad_model = model.loss_grad(params, X, T)
    np.testing.assert_allclose(E, E_model, rtol=1e-12)
    np.testing.assert_allclose(grad, grad_model, rtol=1e-10, atol=1e-15)


def test_first_adam_step_is_lr_times_sign_of_gradient(job):
    # From m = v = 0: m̂ = g and v̂ = g², so w₁ = w₀ − lr·g / (|g| + eps).
    params, X, T = job
    _, g = references.loss_grad_batched(params, X, T)
    w, E = references.train_adam_numpy_batched(params, X, T, 1, LR)
    np.testing.assert_allclose(w, params - LR * g / (np.abs(g) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(E, references.loss_grad_batched(w, X, T)[0], rtol=1e-14)


def test_zero_epochs_returns_the_start(job):
    params, X, T = job
    w, E = references.train_adam_numpy_batched(params, X, T, 0, LR)
    np.testing.assert_array_equal(w, params)
    np.testing.assert_allclose(E, model.loss_grad(params, X, T)[0], rtol=1e-12)


def test_training_lowers_the_loss(job, numpy_result):
    params, X, T = job
    assert (numpy_result[1] < 0.5 * model.loss_grad(params, X, T)[0]).all()


def skip_unless_installed(name, library):
    # through available(), not importorskip: the first import of jax must be the references' own,
    # which gives XLA one CPU device per core
    if library and not references.available()[name]:
        pytest.skip(f"{library} is not installed")


@pytest.mark.parametrize("name, library", [("numpy_loop", None), ("torch_batched", "torch"), ("jax_batched", "jax")])
def test_trainers_agree_with_numpy_batched(job, numpy_result, name, library):
    skip_unless_installed(name, library)
    w, E = references.TRAINERS[name](*job, EPOCHS, LR)
    assert w.dtype == E.dtype == np.float64
    np.testing.assert_allclose(E, numpy_result[1], rtol=1e-9)
    np.testing.assert_allclose(w, numpy_result[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, library", [("numpy_batched", None), ("torch_batched", "torch"), ("jax_batched", "jax")])
def test_float32_option(job, numpy_result, name, library):
    skip_unless_installed(name, library)
    w, E = references.TRAINERS[name](*job, EPOCHS, LR, dtype=np.float32)
    assert w.dtype == E.dtype == np.float32
    np.testing.assert_allclose(E, numpy_result[1], rtol=1e-4)


def test_jax_splits_runs_over_every_cpu_device(job, numpy_result):
    # 3 runs over 2 devices: padded with a copy of the first, which must not come back
    skip_unless_installed("jax_batched", "jax")
    import jax  # optional: imported above by available() when installed

    # XLA took the count set on the first import (os.cpu_count(), unless XLA_FLAGS named one)
    assert f"{references.JAX_DEVICES_FLAG}={len(jax.devices('cpu'))}" in os.environ["XLA_FLAGS"]
    params, X, T = job
    w, E = references.train_adam_jax_batched(params[:3], X, T, EPOCHS, LR)
    assert w.shape == (3, params.shape[1]) and E.shape == (3,)
    np.testing.assert_allclose(E, numpy_result[1][:3], rtol=1e-9)
    np.testing.assert_allclose(w, numpy_result[0][:3], rtol=1e-9, atol=1e-12)


def test_available_lists_every_trainer():
    found = references.available()
    assert set(found) == set(references.TRAINERS)
    assert found["numpy_batched"] and found["numpy_loop"]


def test_missing_library_is_a_clear_import_error(job, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    with pytest.raises(ImportError, match="optional package 'torch'"):
        references.train_adam_torch_batched(*job, 1, LR)
    assert references.available()["torch_batched"] is False


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, X, T: (p[:, :-1], X, T), "fit no layout"),
        (lambda p, X, T: (p[0], X, T), "expected params0"),
        (lambda p, X, T: (p, X, T[:-1]), "expected params0"),
    ],
)
def test_bad_shapes_are_value_errors(job, change, message):
    with pytest.raises(ValueError, match=message):
        references.train_adam_numpy_batched(*change(*job), 1, LR)


def test_negative_epochs_is_a_value_error(job):
    with pytest.raises(ValueError, match="epochs"):
        references.train_adam_numpy_batched(*job, -1, LR)
