"""nn47: train and compare many runs of the lecture's 12-3-2 C/T network."""

from .model.data import glyphs, make_dataset
from .model.equations import forward, loss_grad
from .model.layout import Layout

__all__ = [
    "Layout",
    "TrainResult",
    "forward",
    "glyphs",
    "initial_params",
    "load_results",
    "loss_grad",
    "make_dataset",
    "trace",
    "train",
]


def __getattr__(name):
    # numba (training, initial weights), the analysis (scipy) and the trace (matplotlib) cost half a
    # second of imports each: only when asked for, so that `nn47 analyze` and `nn47 --help` skip numba
    if name in ("train", "TrainResult"):
        from . import training

        return getattr(training, name)
    if name == "initial_params":
        from .model.initial import initial_params

        return initial_params
    if name == "load_results":
        from .analysis.load import load_results

        return load_results
    if name == "trace":
        from .lecture.trace import trace

        return trace
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
