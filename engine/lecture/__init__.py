"""The lecture, cell by cell: the network as a live spreadsheet
(`workbook`) and one forward and backward pass in the slides' notation
(`python -m engine.lecture.worked_example`)."""

from .settings import SLIDE_DEFAULTS, WORKBOOK_SETTINGS

__all__ = ["SLIDE_DEFAULTS", "WORKBOOK_SETTINGS", "workbook"]


def __getattr__(name):
    # openpyxl loads only when a workbook is written, not with the nn47 command
    if name == "workbook":
        from .xlsx import workbook

        return workbook
    raise AttributeError(f"module 'engine.lecture' has no attribute {name!r}")
