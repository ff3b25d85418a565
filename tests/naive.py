"""Slow, obvious references: one network, one sample at a time, plain Python
and numpy, written for clarity. Every fast path is compared with these."""

import math

import numpy as np

from engine.kernels import rng


def act(name, s):
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-s))
    if name == "tanh":
        return math.tanh(s)
    return s if s > 0 else 0.0


def act_slope(name, s):
    if name == "sigmoid":
        y = act(name, s)
        return y * (1.0 - y)
    if name == "tanh":
        return 1.0 - math.tanh(s) ** 2
    return 1.0 if s > 0 else 0.0


def unit(theta, start, inputs):
    """s = w·x − θ for the unit whose numbers start at theta[start]."""
    n = len(inputs)
    return sum(theta[start + m] * inputs[m] for m in range(n)) - theta[start + n]


def starts(n_in, hidden, n_out):
    """Where layer l's numbers start, l = 1 (first hidden) … D + 1 (output) at
    index l − 1: the output layer comes first in the vector, then the hidden
    layers from the last to the first."""
    widths = [n_in, *hidden, n_out]
    out, at = [0] * (len(widths) - 1), 0
    for l in range(len(widths) - 1, 0, -1):
        out[l - 1] = at
        at += widths[l] * (widths[l - 1] + 1)
    return out


def ones(hidden):
    return [[1.0] * width for width in hidden]


def forward(theta, x, activation, output, hidden=(3,), n_out=2, keep=None):
    """(s of each hidden layer, h of each hidden layer, s^O, z); keep: each
    hidden layer's dropout factors."""
    widths = [len(x), *hidden, n_out]
    first, keep = starts(len(x), hidden, n_out), keep or ones(hidden)
    s_hid, h, inputs = [], [], x
    for l in range(1, len(hidden) + 1):
        s_l = [unit(theta, first[l - 1] + i * (widths[l - 1] + 1), inputs) for i in range(widths[l])]
        inputs = [act(activation, s) * keep[l - 1][i] for i, s in enumerate(s_l)]
        s_hid.append(s_l)
        h.append(inputs)
    s_out = [unit(theta, first[-1] + k * (hidden[-1] + 1), inputs) for k in range(n_out)]
    if output == "softmax":
        m = max(s_out)
        total = sum(math.exp(s - m) for s in s_out)
        z = [math.exp(s - m) / total for s in s_out]
    else:
        z = [1.0 / (1.0 + math.exp(-s)) for s in s_out]
    return s_hid, h, s_out, z


def log_outputs(s_out, output):
    """log z_k from s^O without taking the log of a rounded z."""
    if output == "softmax":
        m = max(s_out)
        log_total = m + math.log(sum(math.exp(s - m) for s in s_out))
        return [s - log_total for s in s_out]
    return [-(max(-s, 0.0) + math.log1p(math.exp(-abs(s)))) for s in s_out]


def sample_error(s_out, z, t, output, loss):
    if loss == "cross_entropy":
        return -sum(tk * log_zk for log_zk, tk in zip(log_outputs(s_out, output), t))
    return sum((tk - zk) ** 2 for zk, tk in zip(z, t)) / 2


def sample_gradient(theta, x, t, activation, output, loss, hidden=(3,), keep=None):
    """∂e_p/∂theta by the chain rule written out, one derivative at a time."""
    n_in, n_out, depth = len(x), len(t), len(hidden)
    widths, first, keep = [n_in, *hidden, n_out], starts(n_in, hidden, n_out), keep or ones(hidden)
    s_hid, h, s_out, z = forward(theta, x, activation, output, hidden, n_out, keep)
    # ∂e/∂z_k
    if loss == "cross_entropy":
        de_dz = [-t[k] / z[k] if t[k] else 0.0 for k in range(n_out)]
    else:
        de_dz = [z[k] - t[k] for k in range(n_out)]
    # ∂z_j/∂s_k
    if output == "softmax":
        dz_ds = [[z[j] * ((j == k) - z[k]) for k in range(n_out)] for j in range(n_out)]
    else:
        dz_ds = [[z[j] * (1 - z[j]) if j == k else 0.0 for k in range(n_out)] for j in range(n_out)]
    delta = [sum(de_dz[j] * dz_ds[j][k] for j in range(n_out)) for k in range(n_out)]
    grad = np.zeros(len(theta))
    for l in range(depth + 1, 0, -1):  # the output layer, then the hidden layers down to the first
        inputs, fan_in = (h[l - 2] if l > 1 else x), widths[l - 1]
        for k in range(widths[l]):
            start = first[l - 1] + k * (fan_in + 1)
            for i in range(fan_in):
                grad[start + i] = delta[k] * inputs[i]
            grad[start + fan_in] = -delta[k]
        if l > 1:  # δ of layer l − 1: back through the weights w_ik of layer l
            back = [
                sum(delta[k] * theta[first[l - 1] + k * (fan_in + 1) + i] for k in range(widths[l]))
                for i in range(fan_in)
            ]
            delta = [back[i] * keep[l - 2][i] * act_slope(activation, s_hid[l - 2][i]) for i in range(fan_in)]
    return grad


def is_threshold(n_in=12, hidden=(3,), n_out=2):
    widths, first = [n_in, *hidden, n_out], starts(n_in, hidden, n_out)
    mask = np.zeros(first[0] + widths[1] * (n_in + 1), bool)
    for l in range(1, len(widths)):
        for k in range(widths[l]):
            mask[first[l - 1] + k * (widths[l - 1] + 1) + widths[l - 1]] = True
    return mask


def loss_grad(theta, X, T, activation, output, loss, reduction, weight_decay=0.0, decay_thresholds=False, hidden=(3,)):
    """E and ∇E summed sample by sample."""
    E, grad = 0.0, np.zeros(len(theta))
    for x, t in zip(X, T):
        _, _, s_out, z = forward(theta, x, activation, output, hidden, len(t))
        E += sample_error(s_out, z, t, output, loss)
        grad += sample_gradient(theta, x, t, activation, output, loss, hidden)
    if reduction == "mean":
        E, grad = E / len(X), grad / len(X)
    decayed = np.ones(len(theta)) if decay_thresholds else ~is_threshold(len(X[0]), hidden, len(T[0]))
    return (
        E + weight_decay / 2 * np.sum(decayed * np.asarray(theta) ** 2),
        grad + weight_decay * decayed * np.asarray(theta),
    )


def hidden_of(s):
    """A run's hidden widths as a tuple (the settings hold one layer as its width)."""
    hidden = s.get("hidden", 3)
    return (hidden,) if isinstance(hidden, int) else tuple(hidden)


def data_error(theta, X, T, s):
    """(E with the run's reduction, accuracy) without penalty or dropout."""
    hidden = hidden_of(s)
    keep = [[1 - s["dropout"]] * width for width in hidden] if s["dropout_mode"] == "scale" else None
    errors, hits = [], 0
    for x, t in zip(X, T):
        _, _, s_out, z = forward(theta, x, s["activation"], s["output"], hidden, len(t), keep)
        errors.append(sample_error(s_out, z, t, s["output"], s["loss"]))
        hits += int(np.argmax(z) == np.argmax(t))
    total = sum(errors)
    return (total / len(X) if s["reduction"] == "mean" else total), hits / len(X)


class Optimizer:
    """The textbook update rules, one flat vector, state kept here."""

    def __init__(self, s, size):
        self.s, self.t = s, 0
        self.m, self.v = np.zeros(size), np.zeros(size)

    def step(self, w, g, eta):
        s, self.t = self.s, self.t + 1
        name = s["optimizer"]
        if name == "sgd":
            return w - eta * g
        if name == "momentum":
            self.m = s["momentum"] * self.m - eta * g
            return w + self.m
        if name == "nesterov":
            self.m = s["momentum"] * self.m + g
            return w - eta * (g + s["momentum"] * self.m)
        if name == "adagrad":
            self.v = self.v + g * g
            return w - eta * g / (np.sqrt(self.v) + s["eps"])
        if name == "rmsprop":
            self.v = s["rho"] * self.v + (1 - s["rho"]) * g * g
            return w - eta * g / (np.sqrt(self.v) + s["eps"])
        self.m = s["beta1"] * self.m + (1 - s["beta1"]) * g
        self.v = s["beta2"] * self.v + (1 - s["beta2"]) * g * g
        m_hat = self.m / (1 - s["beta1"] ** self.t)
        v_hat = self.v / (1 - s["beta2"] ** self.t)
        return w - eta * m_hat / (np.sqrt(v_hat) + s["eps"])


def schedule(s, epoch):
    if s["schedule"] == "inverse_time":
        return s["lr"] / (1 + s["lr_decay"] * epoch)
    if s["schedule"] == "step":
        return s["lr"] * s["lr_gamma"] ** (epoch // s["lr_step"])
    return s["lr"]


def permutation(seed, epoch, n):
    """Fisher–Yates with the engine's counter-based uniforms."""
    order = list(range(n))
    for q in range(n - 1, 0, -1):
        j = int(rng.uniform(seed, rng.SHUFFLE, epoch * n + q) * (q + 1))
        order[q], order[j] = order[j], order[q]
    return order


def dropout_keep(s, seed, epoch, n, q, hidden=(3,)):
    """Each hidden layer's factors for sample q of the epoch: its hidden units
    numbered across the layers, the first layer's first (unit u of sample q
    draws uniform number (epoch·n + q)·Σ H + u)."""
    if s["dropout"] == 0:
        return None
    kept = 1.0 if s["dropout_mode"] == "scale" else 1 / (1 - s["dropout"])
    draws = [
        kept if rng.uniform(seed, rng.DROPOUT, (epoch * n + q) * sum(hidden) + u) >= s["dropout"] else 0.0
        for u in range(sum(hidden))
    ]
    return [draws[sum(hidden[:l]) : sum(hidden[: l + 1])] for l in range(len(hidden))]


def train(theta, X, T, seed, s):
    """One run, as the slides' algorithm: measure E(w_t), stop if E < ε,
    else one epoch of (mini-batch) steps. Returns (theta, epochs_run,
    epochs_to_target or None, [E(w_t) for each epoch measured])."""
    theta = np.array(theta, dtype=float)
    n = len(X)
    batch = s["batch_size"] or n
    opt = Optimizer(s, len(theta))
    hidden = hidden_of(s)
    decayed = np.ones(len(theta)) if s["decay_thresholds"] else ~is_threshold(X.shape[1], hidden, T.shape[1])
    history = []
    for epoch in range(s["epochs"] + 1):
        E = data_error(theta, X, T, s)[0]
        history.append(E)
        if s["target_loss"] is not None and E < s["target_loss"]:
            return theta, epoch, epoch, history
        if epoch == s["epochs"]:
            return theta, epoch, None, history
        order = permutation(seed, epoch, n) if batch < n else list(range(n))
        for start in range(0, n, batch):
            grad = np.zeros(len(theta))
            chosen = order[start : start + batch]
            for q, p in zip(range(start, start + len(chosen)), chosen):
                keep = dropout_keep(s, seed, epoch, n, q, hidden)
                grad += sample_gradient(theta, X[p], T[p], s["activation"], s["output"], s["loss"], hidden, keep)
            if s["reduction"] == "mean":
                grad /= len(chosen)
            grad += s["weight_decay"] * decayed * theta
            eta = schedule(s, epoch)
            if s["schedule"] == "armijo":
                eta = armijo(theta, grad, X, T, s, decayed)
            theta = opt.step(theta, grad, eta)


def armijo(theta, grad, X, T, s, decayed):
    def objective(w):
        return data_error(w, X, T, s)[0] + s["weight_decay"] / 2 * np.sum(decayed * w**2)

    eta, E0, gg = s["lr"], objective(theta), grad @ grad
    for _ in range(50):
        if objective(theta - eta * grad) <= E0 - s["armijo_c"] * eta * gg:
            return eta
        eta *= s["armijo_beta"]
    return eta
