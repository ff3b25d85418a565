"""Reading the 47 parameters from a CSV file.

The file has a header row. Its columns are the 47 parameter names exactly as
on the slides (Layout().names), in that order, optionally after `config`
and `seed` columns: a results folder's params.csv is read as it is. A file
of one row needs no choice; in a longer one, `run` = 'CONFIG:SEED' picks the
row (as `nn47 analyze --run`).
"""

import csv

import numpy as np

from ..model.layout import Layout

ID_COLUMNS = ("config", "seed")


def read_params(path, run=None):
    """The parameter vector [47] of one row of `path`, or a ValueError naming
    the file and the problem."""
    names = Layout().names
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"params: cannot read {path}: {error}") from None
    if not rows:
        raise ValueError(f"params: {path} is empty; expected a header row of the {len(names)} parameter names")
    header, body = rows[0], [row for row in rows[1:] if row]
    ids = [c for c in header[: len(ID_COLUMNS)] if c in ID_COLUMNS]
    if header[len(ids) :] != names:
        raise ValueError(
            f"params: {path}: {_header_problem(header[len(ids) :], names)}; expected the "
            f"{len(names)} names as on the slides ({names[0]}, {names[1]}, … {names[-1]}), "
            f"optionally after columns {' and '.join(ID_COLUMNS)}"
        )
    row = _pick(path, ids, body, run)
    values = []
    for name, text in zip(names, row[len(ids) :]):
        try:
            values.append(float(text))
        except ValueError:
            raise ValueError(f"params: {path}: {name} is {text!r}, not a number") from None
    bad = [name for name, value in zip(names, values) if not np.isfinite(value)]
    if bad:
        raise ValueError(f"params: {path}: non-finite weights: {', '.join(bad)}")
    return np.array(values)


def _header_problem(got, names):
    if len(got) != len(names):
        return f"{len(got)} parameter columns, not {len(names)}"
    l = next(l for l, (a, b) in enumerate(zip(got, names)) if a != b)
    return f"column {got[l]!r} where the slides have {names[l]!r}"


def _pick(path, ids, body, run):
    if run is None:
        if len(body) != 1:
            hint = "; choose one with --run CONFIG:SEED" if ids == list(ID_COLUMNS) else ""
            raise ValueError(f"params: {path} holds {len(body)} rows, not one{hint}")
        return _whole(path, body[0], ids)
    if ids != list(ID_COLUMNS):
        raise ValueError(f"params: {path} has no config and seed columns to choose run {run!r} by")
    config, colon, seed = str(run).partition(":")
    if not colon:
        raise ValueError(f"run: expected CONFIG:SEED such as 3:0, got {run!r}")
    for row in body:
        if _whole(path, row, ids)[:2] == [config.strip(), seed.strip()]:
            return row
    raise ValueError(f"params: {path} has no row with config {config!r} and seed {seed!r} (run {run!r})")


def _whole(path, row, ids):
    if len(row) != len(ids) + len(Layout().names):
        raise ValueError(f"params: {path}: a row has {len(row)} columns, the header {len(ids) + len(Layout().names)}")
    return row
