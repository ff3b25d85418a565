"""The deep job of `nn47 bench throughput`: DLfS ch. 6's network on scikit-learn's
digits, trained by the engine and by batched numpy, PyTorch and JAX
(engine.bench.deep_references) in alternating rounds, per dtype.

The job: 64-100-100-100-100-10 (DEEP_HIDDEN), ReLU hidden units, softmax,
cross-entropy, mean over the mini-batch, He initial weights, plain SGD with
lr 0.01 on mini-batches of 128, every run in its own sample order.
"""

import functools

import numpy as np

from ..model.datasets import digits, split
from ..model.initial import initial_params
from ..model.layout import Layout
from . import deep_references, references
from .sizes import BenchError
from .throughput import FLOAT32_LOSS_RTOL, LOSS_RTOL, compare, on_one_thread, throughput_frame, train_engine

DEEP_HIDDEN = (100,) * 4  # the book's ch. 6 comparisons: 4 hidden layers of 100
N_IN, N_OUT = 64, 10  # the digits' pixels and classes
DEEP_SETTINGS = dict(optimizer="sgd", activation="relu", output="softmax", loss="cross_entropy", reduction="mean")
DEEP_LR = 0.01
DEEP_BATCH = 128
NOT_RUN = "not run: "  # the engine row's note where it refuses the network, before its reason


def shape_text(hidden=DEEP_HIDDEN):
    return "-".join(map(str, (N_IN, *hidden, N_OUT)))


@functools.cache
def deep_data(samples):
    """The first `samples` digits of a permutation by data seed 0: X [samples, 64], T [samples, 10]."""
    try:
        X, labels = digits()
    except ImportError as err:
        raise BenchError(f"the deep job trains on the digits: {err}") from None
    data = split(X, labels, samples, 0, 0, 0, "digits")
    return data.X_train, data.T_train


def deep_params(runs, hidden=DEEP_HIDDEN):
    """[runs, P] He initial flat vectors (N(0, 2/fan_in), θ = 0) for seeds 0…runs−1."""
    return initial_params(Layout(N_IN, tuple(hidden), N_OUT), "he", np.arange(runs))


def deep_job(runs, samples, hidden=DEEP_HIDDEN):
    """(params0, X, T, lr) of the deep job, for throughput.measure."""
    return (deep_params(runs, hidden), *deep_data(samples), DEEP_LR)


def train_engine_deep(params0, X, T, epochs, lr, hidden=DEEP_HIDDEN, batch_size=DEEP_BATCH, dtype=np.float64):
    """The deep job in the engine, with the references' signature and return values."""
    settings = {**DEEP_SETTINGS, "batch_size": batch_size, "hidden": list(hidden)}
    return train_engine(params0, X, T, epochs, lr, dtype=dtype, settings=settings)


def engine_refusal(hidden=DEEP_HIDDEN):
    """Why the engine cannot train this network (its ValueError's message), or None."""
    try:
        train_engine_deep(deep_params(1, hidden), *deep_data(DEEP_BATCH), 1, DEEP_LR, hidden=hidden)
    except ValueError as err:
        return str(err)
    return None


def deep_trainers(dtype, engine=True, hidden=DEEP_HIDDEN):
    """name -> trainer of the deep job in `dtype`: the engine (if asked), and every
    reference whose library imports here."""
    found = references.available()
    trainers = {"engine": train_engine_deep} if engine else {}
    trainers |= {
        name: on_one_thread(trainer, references.NEEDS.get(name))
        for name, trainer in deep_references.TRAINERS.items()
        if found[name]
    }
    return {
        name: functools.partial(t, hidden=hidden, batch_size=DEEP_BATCH, dtype=dtype) for name, t in trainers.items()
    }


def deep_rows(sizes, hidden=DEEP_HIDDEN):
    """The throughput rows of the deep job, one study per dtype; where the engine refuses
    the network, a row naming why, and the references held to numpy's losses."""
    rows = []
    refusal = engine_refusal(hidden)
    job = functools.partial(deep_job, hidden=hidden)
    for dtype, rtol in ((np.float64, LOSS_RTOL), (np.float32, FLOAT32_LOSS_RTOL)):
        study = f"deep {np.dtype(dtype).name}"
        trainers = deep_trainers(dtype, refusal is None, hidden)
        base = "numpy_batched" if refusal else "engine"
        rows += compare(study, trainers, *sizes.deep, sizes.deep_rounds, rtol=rtol, job=job, base=base)
        if refusal:
            rows.append({"study": study, "implementation": "engine", "note": NOT_RUN + refusal})
    return rows


def deep_table(sizes, hidden=DEEP_HIDDEN):
    """deep_rows as throughput.csv's rows (throughput.THROUGHPUT_COLUMNS)."""
    return throughput_frame(deep_rows(sizes, hidden))
