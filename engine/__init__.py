"""nn47: train and compare many runs of the lecture's 12-3-2 C/T network."""
from .data import glyphs, make_dataset
from .init import initial_params
from .layout import Layout
from .model import forward, loss_grad
from .training import TrainResult, train

__all__ = ["Layout", "TrainResult", "forward", "glyphs", "initial_params", "load_results", "loss_grad",
           "make_dataset", "train"]


def __getattr__(name):
    # the analysis pulls in scipy and half a second of imports: only when asked for
    if name == "load_results":
        from .analyze import load_results
        return load_results
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
