"""nn47: train and compare many runs of the lecture's 12-3-2 C/T network."""
from .analyze import load_results
from .data import glyphs, make_dataset
from .init import initial_params
from .layout import Layout
from .model import forward, loss_grad
from .training import TrainResult, train

__all__ = ["Layout", "TrainResult", "forward", "glyphs", "initial_params", "load_results", "loss_grad",
           "make_dataset", "train"]
