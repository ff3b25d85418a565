"""The lecture, cell by cell: the network as a live spreadsheet
(`workbook`) and one forward and backward pass in the slides' notation
(`python -m engine.lecture.worked_example`)."""

# The slides' own setting: sigmoid hidden units, outputs z = a(s^O) with the
# same sigmoid, squared error, E = Σ_p e_p. nn47 train defaults differ
# (softmax, cross-entropy, mean), so the lecture tools name theirs here.
SLIDE_DEFAULTS = {"activation": "sigmoid", "output": "sigmoid", "loss": "squared", "reduction": "sum"}

# The settings a workbook writes into its formulas (the others shape training only).
WORKBOOK_SETTINGS = ("lr", "activation", "output", "loss", "reduction", "weight_decay", "decay_thresholds")

__all__ = ["SLIDE_DEFAULTS", "WORKBOOK_SETTINGS", "workbook"]


def __getattr__(name):
    # openpyxl loads only when a workbook is written, not with the nn47 command
    if name == "workbook":
        from .xlsx import workbook
        return workbook
    raise AttributeError(f"module 'engine.lecture' has no attribute {name!r}")
