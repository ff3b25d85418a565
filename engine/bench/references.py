"""Other ways to run the benchmark job, for `make bench` to measure the engine against.

The job: R independent trainings of one network (R rows of initial flat
vectors params0 [R, P] in slide order) on the same X [n, n_in], T [n, n_out];
sigmoid hidden units, softmax outputs, cross-entropy, E = (1/n) Σ_p e_p;
full batch; `epochs` Adam steps (Kingma & Ba, Algorithm 1), each evaluating
E and its exact gradient at the current weights, then updating.

Every `train_adam_<name>(params0, X, T, epochs, lr, beta1, beta2, eps, dtype)`
returns (params [R, P], E [R] at those params) as numpy arrays. numpy,
PyTorch and JAX all run the one array-library-neutral statement of the math
below (`xp` is the library's namespace); PyTorch and JAX are optional and
imported only when used (`available()` says which are there).
"""

import functools
import importlib
import os
import sys
from importlib import metadata

import numpy as np

from ..model.layout import Layout


def _unpack(w, layout):
    """(W_out, th_out, W_hid, th_hid) of flat vector(s) w [..., P] by slices and
    reshapes, as Layout.unpack, for any array library (no gathers: they cost)."""
    lead = w.shape[:-1]
    out = w[..., : layout.hidden_offset].reshape(*lead, layout.n_out, layout.n_hidden + 1)
    hid = w[..., layout.hidden_offset :].reshape(*lead, layout.n_hidden, layout.n_in + 1)
    return out[..., :-1], out[..., -1], hid[..., :-1], hid[..., -1]


def _pack(xp, W_out, th_out, W_hid, th_hid):
    """Inverse of _unpack: the flat vector(s) [..., P] in slide order."""
    lead = th_out.shape[:-1]
    return xp.concatenate(
        [
            xp.concatenate([W, th[..., None]], axis=-1).reshape(*lead, -1)
            for W, th in ((W_out, th_out), (W_hid, th_hid))
        ],
        axis=-1,
    )


def _loss_grad(xp, w, X, T, layout):
    """E and ∂E/∂w for flat vector(s) w [..., P] (any leading run axes).

    Samples lie along the last axis, so the hidden layer of all runs is one
    matrix product with the shared X (the runs' W_hid rows stacked). Augmented
    assignments update fresh arrays in place (numpy, torch: fewer temporaries
    to allocate, which costs more than the arithmetic here; jax just rebinds)."""
    W_out, th_out, W_hid, th_hid = _unpack(w, layout)
    n, n_in = X.shape
    lead = th_hid.shape[:-1]
    s = (W_hid.reshape(-1, n_in) @ X.T).reshape(*lead, -1, n)  # [..., H, n]
    s -= th_hid[..., None]
    s *= 0.5
    h = xp.tanh(s)  # sigmoid(s) = (1 + tanh(s/2)) / 2: no overflow for large |s|
    h += 1.0
    h *= 0.5
    s = W_out @ h  # [..., K, n]
    s -= th_out[..., None]
    s -= xp.amax(s, axis=-2, keepdims=True)  # softmax is shift-invariant: no overflow
    z = xp.exp(s)
    S = xp.sum(z, axis=-2, keepdims=True)
    z /= S
    log_z = s - xp.log(S)
    E = -xp.sum(T.T * log_z, axis=(-2, -1)) / n
    delta = z  # ∂E/∂s^O = (z − t)/n: softmax + cross-entropy, mean
    delta -= T.T
    delta /= n
    delta_h = W_out.mT @ delta  # ∂E/∂s^H = (W^O' δ) sigmoid'(s), sigmoid' = h(1 − h)
    delta_h *= h
    delta_h *= 1.0 - h
    # ∂s/∂w = the unit's input, ∂s/∂θ = −1.
    return E, _pack(
        xp,
        delta @ h.mT,
        -xp.sum(delta, axis=-1),
        (delta_h.reshape(-1, n) @ X).reshape(*lead, -1, n_in),
        -xp.sum(delta_h, axis=-1),
    )


def _adam(xp, w, g, m, v, t, lr, beta1, beta2, eps):
    """Step t (from 1) of Adam, Kingma & Ba Algorithm 1."""
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    return w - lr * m_hat / (xp.sqrt(v_hat) + eps), m, v


def _train(xp, w, X, T, layout, epochs, lr, beta1, beta2, eps):
    """The job as a Python loop over epochs, for eager libraries (numpy, torch)."""
    m, v = xp.zeros_like(w), xp.zeros_like(w)
    for t in range(1, epochs + 1):
        _, g = _loss_grad(xp, w, X, T, layout)  # E is computed every epoch, as in the engine
        w, m, v = _adam(xp, w, g, m, v, t, lr, beta1, beta2, eps)
    return w, _loss_grad(xp, w, X, T, layout)[0]


def _check(params0, X, T, epochs, dtype):
    """Arrays in `dtype` and the Layout they describe, or a ValueError."""
    params0, X, T = (np.asarray(a, dtype=dtype) for a in (params0, X, T))
    if params0.ndim != 2 or X.ndim != 2 or T.ndim != 2 or X.shape[0] != T.shape[0]:
        raise ValueError(
            f"expected params0 [R, P], X [n, n_in], T [n, n_out]; got shapes {params0.shape}, {X.shape}, {T.shape}"
        )
    layout = Layout.fit(params0.shape[1], X.shape[1], T.shape[1], "params0")
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs: must be a non-negative integer, got {epochs!r}")
    return params0, X, T, layout


def loss_grad_batched(params, X, T):
    """(E [R], ∂E/∂params [R, P]) as numpy_batched computes them."""
    dtype = np.result_type(np.asarray(params).dtype, np.float32)  # float32 stays, the rest float64
    params, X, T, layout = _check(params, X, T, 0, dtype)
    return _loss_grad(np, params, X, T, layout)


def train_adam_numpy_batched(params0, X, T, epochs, lr, beta1=0.9, beta2=0.999, eps=1e-8, dtype=np.float64):
    """All runs at once: [R, ...] arrays, two shared-X matrix products per epoch."""
    params0, X, T, layout = _check(params0, X, T, epochs, dtype)
    return _train(np, params0, X, T, layout, epochs, lr, beta1, beta2, eps)


def train_adam_numpy_loop(params0, X, T, epochs, lr, beta1=0.9, beta2=0.999, eps=1e-8, dtype=np.float64):
    """One run after another, each in plain numpy."""
    params0, X, T, layout = _check(params0, X, T, epochs, dtype)
    runs = [_train(np, w, X, T, layout, epochs, lr, beta1, beta2, eps) for w in params0]
    return np.stack([w for w, _ in runs]), np.array([E for _, E in runs], dtype=dtype)


# XLA runs one CPU device on about one core; with one device per core the runs
# axis is split over them (as numba's threads split the engine's blocks). The
# flag counts only if set before jax starts, so it is set on the first import.
JAX_DEVICES_FLAG = "--xla_force_host_platform_device_count"


def _import(name):
    if name == "jax" and "jax" not in sys.modules and JAX_DEVICES_FLAG not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {JAX_DEVICES_FLAG}={os.cpu_count()}".strip()
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f"this reference needs the optional package {name!r} "
            f"(pip install {name}, or the benchmark's extra: pip install -e '.[bench]')"
        ) from err


def train_adam_torch_batched(params0, X, T, epochs, lr, beta1=0.9, beta2=0.999, eps=1e-8, dtype=np.float64):
    """All runs at once in PyTorch on the CPU, gradient written out (no autograd:
    its graph costs more than this small network's arithmetic). Threads are
    torch's setting (torch.set_num_threads)."""
    torch = _import("torch")
    params0, X, T, layout = _check(params0, X, T, epochs, dtype)
    w, E = _train(torch, *map(torch.from_numpy, (params0, X, T)), layout, epochs, lr, beta1, beta2, eps)
    return w.numpy(), E.numpy()


@functools.cache
def _jax_trainer(layout):
    """jit(vmap(one run's whole training)), compiled once per layout, dtype and shape."""
    jax = _import("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def one_run(w, X, T, epochs, lr, beta1, beta2, eps):
        def epoch(t, state):
            w, m, v, _ = state
            E, g = _loss_grad(jnp, w, X, T, layout)
            return (*_adam(jnp, w, g, m, v, t + 1, lr, beta1, beta2, eps), E)

        zero = jnp.zeros_like(w)
        w, _, _, E_last = jax.lax.fori_loop(0, epochs, epoch, (w, zero, zero, zero[0]))
        # E_last is returned so that XLA keeps computing E every epoch, as the others do.
        return w, _loss_grad(jnp, w, X, T, layout)[0], E_last

    return jax.jit(jax.vmap(one_run, in_axes=(0,) + (None,) * 7))


def train_adam_jax_batched(params0, X, T, epochs, lr, beta1=0.9, beta2=0.999, eps=1e-8, dtype=np.float64):
    """jax.jit(jax.vmap(...)) of one run's training, epochs in a lax.fori_loop, on
    the CPU, the runs split evenly over the CPU devices (padded with copies of the
    first run to a multiple of their number; fewer runs than devices: one each).
    The first call for a shape and dtype includes compilation; float64 needs
    jax_enable_x64, which this turns on for the whole process."""
    params0, X, T, layout = _check(params0, X, T, epochs, dtype)
    train = _jax_trainer(layout)
    w, E, _ = train(jax_split(params0), X, T, epochs, lr, beta1, beta2, eps)
    return np.asarray(w)[: len(params0)], np.asarray(E)[: len(params0)]  # np.asarray waits for the result


def jax_split(*arrays):
    """Arrays [R, ...] split along the runs over the CPU devices, padded with copies of
    their first row to a multiple of the devices' number (fewer runs than devices:
    one each); one array, or a tuple of them."""
    jax = _import("jax")
    runs = len(arrays[0])
    devices = jax.devices("cpu")[: max(runs, 1)]  # a device without a run of its own would pad
    split = jax.sharding.NamedSharding(
        jax.sharding.Mesh(np.array(devices), ("runs",)), jax.sharding.PartitionSpec("runs")
    )
    placed = tuple(
        jax.device_put(np.concatenate([a, np.repeat(a[:1], -runs % len(devices), axis=0)]), split) for a in arrays
    )
    return placed if len(placed) > 1 else placed[0]


TRAINERS = {
    "numpy_batched": train_adam_numpy_batched,
    "numpy_loop": train_adam_numpy_loop,
    "torch_batched": train_adam_torch_batched,
    "jax_batched": train_adam_jax_batched,
}
NEEDS = {"torch_batched": "torch", "jax_batched": "jax"}
# what the references can use: their libraries, and threadpoolctl to set numpy's BLAS threads
OPTIONAL_PACKAGES = ("torch", "jax", "jaxlib", "threadpoolctl")


def versions():
    """{package: installed version or None} of the references' optional packages."""

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {name: version(name) for name in OPTIONAL_PACKAGES}


def available():
    """{name: True if its library imports here} for every name in TRAINERS."""

    def importable(name):
        try:
            _import(NEEDS[name])
            return True
        except ImportError:
            return False

    return {name: name not in NEEDS or importable(name) for name in TRAINERS}
