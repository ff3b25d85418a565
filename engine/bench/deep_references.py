"""Other ways to run the deep job, for `nn47 bench throughput` to measure the engine against.

The job: R independent trainings of one deep network n_in-H_1-…-H_L-n_out
(R rows of initial flat vectors params0 [R, P]) on the same X [n, n_in],
T [n, n_out]; ReLU hidden units, softmax outputs, cross-entropy, mean over
the mini-batch; plain SGD w ← w − lr·∂E/∂w over mini-batches of
`batch_size` samples in each run's own order per epoch (the engine's
shuffle, so every implementation sees the same batches).

The flat vector is model.layout.Layout's: the slides' order generalised to
depth (the output layer first, then the hidden layers down to the first;
each unit its incoming weights, then θ).

Every `train_sgd_<name>(params0, X, T, epochs, lr, hidden, batch_size, dtype)`
returns (params [R, P], E [R] on the whole of X at those params) as numpy
arrays. numpy, PyTorch and JAX all run the one array-library-neutral
statement of the math below (`xp` is the library's namespace).
"""

import functools

import numpy as np

from ..kernels.config import jit
from ..kernels.train import shuffle
from ..model.layout import Layout
from .references import _import, jax_split


def _unpack(w, layout):
    """[(W [..., units, fan_in], θ [..., units])] of flat vector(s) w [..., P], from the
    first hidden layer to the output, as Layout.layers takes them, by slices and
    reshapes that any array library has (Layout.layers is numpy's)."""
    lead, widths, out = w.shape[:-1], layout.widths, []
    for l in range(1, layout.depth + 2):
        start, units, fan_in = layout.layer_offset(l), widths[l], widths[l - 1]
        block = w[..., start : start + units * (fan_in + 1)].reshape(*lead, units, fan_in + 1)
        out.append((block[..., :-1], block[..., -1]))
    return out


def _pack(xp, grads):
    """Inverse of _unpack for [(∂W, ∂θ)] from the first hidden layer to the output."""
    lead = grads[0][1].shape[:-1]
    return xp.concatenate(
        [xp.concatenate([W, th[..., None]], axis=-1).reshape(*lead, -1) for W, th in grads[::-1]], axis=-1
    )


def _forward(xp, w, X, layout):
    """The layers' (W, θ), each hidden layer's output (the input first) and the output units' sums s^O."""
    params = _unpack(w, layout)
    ys = [X]
    for W, th in params[:-1]:
        s = ys[-1] @ W.mT
        s -= th[..., None, :]
        ys.append(xp.where(s > 0, s, 0.0))
    W, th = params[-1]
    s = ys[-1] @ W.mT
    s -= th[..., None, :]
    return params, ys, s


def _log_softmax(xp, s):
    s = s - xp.amax(s, axis=-1, keepdims=True)  # softmax is shift-invariant: no overflow
    return s - xp.log(xp.sum(xp.exp(s), axis=-1, keepdims=True))


def _loss(xp, w, X, T, layout):
    """E = (1/n) Σ_p e_p of flat vector(s) w [..., P] on X [..., n, n_in]."""
    _, _, s = _forward(xp, w, X, layout)
    return -xp.sum(T * _log_softmax(xp, s), axis=(-2, -1)) / X.shape[-2]


def _grad(xp, w, X, T, layout):
    """∂E/∂w for flat vector(s) w [..., P] on a batch X [..., n, n_in] (samples along rows,
    so every layer is one batched matrix product per run)."""
    params, ys, s = _forward(xp, w, X, layout)
    delta = xp.exp(_log_softmax(xp, s))  # ∂E/∂s^O = (z − t)/n: softmax + cross-entropy, mean
    delta -= T
    delta /= X.shape[-2]
    grads = []
    for (W, _), y, layer in zip(params[::-1], ys[::-1], range(len(params) - 1, -1, -1)):
        # ∂s/∂w = the unit's input, ∂s/∂θ = −1
        grads.append((delta.mT @ y, -xp.sum(delta, axis=-2)))
        if layer:  # δ of the layer below: (δ W) a'(s), ReLU's a' = [y > 0] (a'(0) = 0)
            delta = (delta @ W) * (y > 0)
    return _pack(xp, grads[::-1])


@jit
def _engine_order(seeds, epochs, n):
    """[epochs, n, R]: the sample order of run r (seed seeds[r]) in each epoch, by the engine's own shuffle."""
    out = np.empty((epochs, n, seeds.size), np.int64)
    order = np.empty((n, seeds.size), np.int64)
    at = np.empty(seeds.size, np.int64)
    for epoch in range(epochs):
        at[:] = epoch
        shuffle(order, seeds, at)
        out[epoch] = order
    return out


def sample_order(runs, epochs, n):
    """[runs, epochs, n] sample indices: the engine's order for seeds 0…runs−1 (the deep job's seeds)."""
    return np.ascontiguousarray(np.moveaxis(_engine_order(np.arange(runs, dtype=np.uint64), epochs, n), -1, 0))


def _check(params0, X, T, epochs, hidden, batch_size, dtype):
    """Arrays in `dtype` and the network's Layout, or a ValueError."""
    params0, X, T = (np.asarray(a, dtype=dtype) for a in (params0, X, T))
    if params0.ndim != 2 or X.ndim != 2 or T.ndim != 2 or X.shape[0] != T.shape[0]:
        raise ValueError(
            f"expected params0 [R, P], X [n, n_in], T [n, n_out]; got shapes {params0.shape}, {X.shape}, {T.shape}"
        )
    layout = Layout(X.shape[1], tuple(hidden), T.shape[1])
    if params0.shape[1] != layout.size:
        raise ValueError(f"params0: {layout} has {layout.size} numbers per run, got {params0.shape[1]}")
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs: must be a non-negative integer, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= X.shape[0]:
        raise ValueError(f"batch_size: must be an integer in 1..{X.shape[0]}, got {batch_size!r}")
    return params0, X, T, layout


def _train(xp, w, X, T, order, lr, batch_size, layout):
    """The job as Python loops over epochs and batches, for eager libraries (numpy, torch)."""
    n = X.shape[0]
    for epoch in range(order.shape[1]):
        for start in range(0, n, batch_size):
            batch = order[:, epoch, start : start + batch_size]  # [R, b]: each run's own samples
            w -= lr * _grad(xp, w, X[batch], T[batch], layout)
    return w, _loss(xp, w, X, T, layout)


def train_sgd_numpy_batched(params0, X, T, epochs, lr, hidden, batch_size, dtype=np.float64):
    """All runs at once: [R, b, units] arrays, a batched matrix product per layer and pass."""
    params0, X, T, layout = _check(params0, X, T, epochs, hidden, batch_size, dtype)
    order = sample_order(len(params0), epochs, len(X))
    return _train(np, params0.copy(), X, T, order, lr, batch_size, layout)


def train_sgd_torch_batched(params0, X, T, epochs, lr, hidden, batch_size, dtype=np.float64):
    """All runs at once in PyTorch on the CPU, batched matrix products, the gradient
    written out (the same statement as numpy's). Threads are torch's setting."""
    torch = _import("torch")
    params0, X, T, layout = _check(params0, X, T, epochs, hidden, batch_size, dtype)
    order = torch.from_numpy(sample_order(len(params0), epochs, len(X)))
    w, E = _train(torch, *map(torch.from_numpy, (params0.copy(), X, T)), order, lr, batch_size, layout)
    return w.numpy(), E.numpy()


@functools.cache
def _jax_trainer(layout, batch_size):
    """jit(vmap(one run's whole training)), compiled once per network, batch size, dtype and data shape."""
    jax = _import("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def one_run(w, order, X, T, lr):
        n = X.shape[0]
        starts = range(0, n, batch_size)

        def epoch(e, w):
            for start in starts:  # unrolled: the batches' sizes are static
                batch = order[e, start : start + batch_size]
                w = w - lr * _grad(jnp, w, X[batch], T[batch], layout)
            return w

        w = jax.lax.fori_loop(0, order.shape[0], epoch, w)
        return w, _loss(jnp, w, X, T, layout)

    return jax.jit(jax.vmap(one_run, in_axes=(0, 0, None, None, None)))


def train_sgd_jax_batched(params0, X, T, epochs, lr, hidden, batch_size, dtype=np.float64):
    """jax.jit(jax.vmap(...)) of one run's training, epochs in a lax.fori_loop, on the CPU,
    the runs split over the CPU devices as references.train_adam_jax_batched does."""
    params0, X, T, layout = _check(params0, X, T, epochs, hidden, batch_size, dtype)
    runs = len(params0)
    w, E = _jax_trainer(layout, batch_size)(
        *jax_split(params0, sample_order(runs, epochs, len(X))), X, T, np.asarray(lr, dtype)
    )
    return np.asarray(w)[:runs], np.asarray(E)[:runs]  # np.asarray waits for the result


TRAINERS = {
    "numpy_batched": train_sgd_numpy_batched,
    "torch_batched": train_sgd_torch_batched,
    "jax_batched": train_sgd_jax_batched,
}
