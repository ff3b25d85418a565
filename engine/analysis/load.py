"""Reading a results folder (runs, curves, params, manifest.json) into pandas
tables with proper dtypes. Only the files a sweep leaves behind are read, so
results copied from another machine work too.

Each table is read from its Parquet copy (NAME.parquet) when there is one at
least as new as NAME.csv, else from NAME.csv (a runs.csv edited by hand is
newer than its Parquet copy, and wins); both give the same tables. Only the
columns asked for are read."""

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet

from .. import schema
from ..model.layout import Layout, network, param_names
from ..options import hidden_from_label
from ..schema import EPOCH, MANIFEST, table_file
from .words import Text

KEY = list(schema.KEY)
CSV_CHUNK_ROWS = 100_000  # rows of the params table read at a time when looking for one run
SORT_CHECK_ROWS = 1 << 20  # rows checked at a time for order
CURVE_COLUMNS = schema.CURVE


class ResultsError(ValueError):
    """A results file is missing, empty or malformed; the message names it."""


@dataclass
class Results:
    """A loaded results folder. `runs` and `curves` have proper dtypes: factors
    and other text settings are categorical (levels in grid order), censored
    epochs are nullable integers, flags are booleans."""

    path: Path
    runs: pd.DataFrame
    curves: pd.DataFrame
    params: pd.DataFrame | None
    manifest: dict
    factors: list
    layout: Layout = field(default_factory=Layout)  # the largest network trained
    notes: list = field(default_factory=list)
    source: dict = field(default_factory=dict)  # the runs table read: file, bytes, sha256
    param_names: list = field(default_factory=lambda: Layout().names)  # the params table's columns

    @property
    def experiment(self):
        return self.manifest.get("experiment", self.path.name)


def table_path(folder, name):
    """NAME.parquet when it exists and is at least as new as NAME.csv, else
    NAME.csv (which may not exist)."""
    csv, parquet = folder / table_file(name, "csv"), folder / table_file(name, "parquet")
    if parquet.is_file() and (not csv.is_file() or parquet.stat().st_mtime >= csv.stat().st_mtime):
        return parquet
    return csv


def _read_csv(path, columns=None):
    try:
        # usecols as a callable: columns the file lacks are reported by _require.
        df = pd.read_csv(path, usecols=None if columns is None else lambda c: c in columns)
    except pd.errors.EmptyDataError:
        raise ResultsError(f"{path}: file is empty (expected a header row and data)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not a valid CSV file ({err})") from None
    return df


def _read_parquet(path, columns=None):
    try:
        schema = pyarrow.parquet.read_schema(path)
        names = [c for c in schema.names if columns is None or c in columns]
        # Text columns as dictionaries: they arrive categorical, without a string per row.
        text = [f.name for f in schema if f.name in names and pyarrow.types.is_string(f.type)]
        table = pyarrow.parquet.read_table(path, columns=names, read_dictionary=text)
        # Column by column into pandas, freeing each Arrow column as it goes.
        return table.to_pandas(self_destruct=True, split_blocks=True)
    except (pyarrow.ArrowException, OSError) as err:
        raise ResultsError(f"{path}: not a valid Parquet file ({err})") from None


def _header(path):
    """The column names of a table file, read without its rows."""
    try:
        if path.suffix == ".parquet":
            return pyarrow.parquet.read_schema(path).names
        return pd.read_csv(path, nrows=0).columns.tolist()
    except (pyarrow.ArrowException, OSError) as err:
        raise ResultsError(f"{path}: not a valid Parquet file ({err})") from None
    except pd.errors.EmptyDataError:
        raise ResultsError(f"{path}: file is empty (expected a header row and data)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not a valid CSV file ({err})") from None


def read_table(folder, name, columns=None):
    """Table NAME of a results folder as a DataFrame (see the module notes);
    columns: the names to read (those present), None for all. Raises
    ResultsError when it is missing, empty or unreadable."""
    path = table_path(folder, name)
    if not path.is_file():
        raise ResultsError(f"{path}: file not found")
    df = (_read_parquet if path.suffix == ".parquet" else _read_csv)(path, columns)
    if df.empty:
        raise ResultsError(f"{path}: has a header but no rows")
    return path, df


def _require(df, columns, path):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ResultsError(f"{path}: missing column(s) {', '.join(missing)}")


def _as_kind(df, column, kind, path):
    """Convert one column, or raise naming the first bad row (line numbers
    count the header as line 1)."""
    raw = df[column]
    # Columns a Parquet file typed already need no parsing.
    if kind == "float" and pd.api.types.is_float_dtype(raw) or kind == "bool" and pd.api.types.is_bool_dtype(raw):
        return raw
    if kind == "int" and pd.api.types.is_signed_integer_dtype(raw):  # uint64: read past int64, checked below
        return raw.astype("Int64")
    if kind == "bool":
        words = raw.astype("string").str.strip().str.lower()
        out = words.map({"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False})
        bad = out.isna()
        out = out.astype(bool) if not bad.any() else out
    else:
        out = _numbers(raw)
        bad = out.isna() & raw.notna()
        if kind == "int":  # a whole number that int64 holds (inf and 1e30 are not)
            bad |= out.notna() & ~((out == out.round()) & (out.abs() < 2.0**63))
            out = out.astype("Int64") if not bad.any() else out
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = raw.iloc[row]
        shown = "an empty value" if pd.isna(value) else repr(str(value))
        raise ResultsError(f"{path}: column {column!r} needs {kind} values; line {row + 2} has {shown}")
    return out


def _numbers(raw):
    """A column as numbers, NaN where a cell is none."""
    try:
        return pd.to_numeric(raw, errors="coerce")
    except OverflowError:  # a number past any float: cell by cell
        return pd.Series([_number(cell) for cell in raw], index=raw.index, dtype=float)


def _number(cell):
    try:
        return float(cell)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _sorted(frame, keys):
    """frame sorted by the integer columns keys; a sweep writes its tables
    sorted, so the check (one pass) usually spares the copy a sort makes."""
    values = [frame[column].to_numpy(np.int64) for column in keys]
    for start in range(0, max(len(frame) - 1, 0), SORT_CHECK_ROWS):  # in slices: little memory
        part = slice(start, start + SORT_CHECK_ROWS + 1)
        later = np.zeros(len(values[0][part]) - 1, bool)
        for v in reversed(values):  # lexicographic: the first key that differs decides
            step = np.diff(v[part])
            later = np.where(step != 0, step > 0, later)
        if not later.all():
            return frame.sort_values(keys, ignore_index=True)
    return frame


def _categorical(values, numeric):
    # Levels in grid order: numbers sorted, text in order of first appearance
    # (the runs are sorted by config, which follows the experiment file).
    levels = sorted(values.dropna().unique()) if numeric else list(values.dropna().unique())
    return pd.Categorical(values, categories=levels)


def _read_manifest(path):
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    for key, (test, wording) in _MANIFEST_TYPES.items():
        if key in manifest and not test(manifest[key]):
            raise ResultsError(f"{path}: {key!r} must be {wording}, got {manifest[key]!r:.80}")
    return manifest


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# The manifest's fields that the loader and the analysis read, and their types.
_MANIFEST_TYPES = {
    "factors": (lambda v: isinstance(v, list) and all(isinstance(f, str) for f in v), "a list of column names"),
    "n_runs": (_count, "a count of runs"),
    "n_configs": (_count, "a count of configurations"),
    "seeds": (lambda v: isinstance(v, list) and all(_count(s) for s in v), "a list of seeds"),
    "data": (lambda v: isinstance(v, dict), "an object of the data set's settings"),
    "spec": (lambda v: isinstance(v, str), "the experiment file's path"),
    "spec_text": (lambda v: isinstance(v, str), "the experiment file's text"),
}


def _layouts(manifest, path):
    """Each network the experiment trained, as the manifest records it: n_in,
    n_out and "hidden", every level of the runs' hidden column (older ones:
    n_hidden alone); the lecture's network without a layout."""
    if "layout" not in manifest:
        return [Layout()]
    try:
        sizes = manifest["layout"]
        levels = sizes["hidden"] if "hidden" in sizes else [sizes["n_hidden"]]
        # network(): a damaged manifest's sizes past the parameter limit are refused before
        # any name is made (a layout of 10^10 numbers would fill the memory)
        return [network(sizes["n_in"], hidden_from_label(level), sizes["n_out"]) for level in levels]
    except (TypeError, ValueError, KeyError) as err:  # not an object, keys missing, not positive integers
        raise ResultsError(f"{path}: 'layout' must be an object of the layout's sizes ({err})") from None


def _missing_runs(runs, manifest):
    """Notes on runs the manifest promises but runs.csv lacks."""
    expected = manifest.get("n_runs")
    if expected is None or len(runs) >= expected:
        return []
    note = Text("Partial sweep: runs.csv has {runs} of {expected} expected runs.", runs=len(runs), expected=expected)
    if "n_configs" in manifest and "seeds" in manifest:
        present = set(zip(runs["config"], runs["seed"]))
        lacking = {}
        for config in range(manifest["n_configs"]):
            seeds = [s for s in manifest["seeds"] if (config, s) not in present]
            if seeds:
                lacking[config] = (
                    Text("all seeds")
                    if len(seeds) == len(manifest["seeds"])
                    else Text("seeds {seeds}", seeds=", ".join(map(str, seeds)))
                )
        shown = [Text("config {config} ({seeds})", config=c, seeds=s) for c, s in list(lacking.items())[:8]]
        more = Text("; and {n} more configs", n=len(lacking) - 8) if len(lacking) > 8 else ""
        note = Text("{note} Missing: {shown}{more}.", note=note, shown=shown, more=more)
    return [note]


def file_digest(path):
    """{'file', 'bytes', 'sha256'} of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def read_curves(path, curve_columns=None):
    """The curves table of results folder `path`: config, seed, epoch and
    curve_columns (default: every curve column), typed and sorted by run and
    epoch; ResultsError when a column is missing or a key is empty."""
    wanted = {EPOCH: "int"} | {
        c: k for c, k in CURVE_COLUMNS.items() if c != EPOCH and (curve_columns is None or c in curve_columns)
    }
    curves_path, curves = read_table(path, "curves", KEY + list(wanted))
    _require(curves, KEY + list(wanted), curves_path)
    for column, kind in {"config": "int", "seed": "int", **wanted}.items():
        curves[column] = _as_kind(curves, column, kind, curves_path)
    for column in (*KEY, EPOCH):  # a curve point belongs to one run at one epoch
        if curves[column].isna().any():
            raise ResultsError(f"{curves_path}: column {column!r} has empty values")
    return _sorted(curves, KEY + [EPOCH])


def load_results(path: str | os.PathLike, *, curve_columns: list[str] | None = None, weights: bool = True) -> "Results":
    """Load a results folder into a `Results` (runs, curves, params, manifest).

    Parameters
    ----------
    path : str or Path
        The results folder. The runs and curves tables are required (Parquet
        or CSV, see the module notes); manifest.json names the factors (they
        are inferred as the setting columns that vary when it is absent) and
        the params table (final weights) is optional.
    curve_columns : list of str, optional
        The curve columns to read besides config, seed and epoch (default:
        all of train_loss, train_acc, test_loss, test_acc).
    weights : bool
        Whether `params` holds every run's parameters (True) or only the
        config and seed of the runs that have them (False: a large sweep's
        weights stay on disk; `run_weights` reads one run's).

    Returns
    -------
    Results

    Raises ResultsError with the file and the problem when something is
    missing, empty or malformed.
    """
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"{path}: results folder not found")
    notes = []
    manifest = _read_manifest(path / MANIFEST)

    runs_path, runs = read_table(path, "runs")
    _require(runs, KEY + list(schema.OUTCOMES), runs_path)
    for column in KEY:
        runs[column] = _as_kind(runs, column, "int", runs_path)
        if runs[column].isna().any():
            raise ResultsError(f"{runs_path}: column {column!r} has empty values")
        runs[column] = runs[column].astype("int64")
    if runs.duplicated(KEY).any():
        config, seed = runs.loc[runs.duplicated(KEY), KEY].iloc[0]
        raise ResultsError(f"{runs_path}: (config, seed) = ({config}, {seed}) appears more than once")
    for column, outcome in schema.OUTCOMES.items():
        runs[column] = _as_kind(runs, column, outcome.kind, runs_path)
    runs = _sorted(runs, KEY)

    settings = [c for c in runs.columns if c not in KEY and c not in schema.OUTCOMES]
    if "factors" in manifest:
        factors = manifest["factors"]
    else:
        factors = [c for c in settings if runs[c].nunique(dropna=False) > 1]
        notes.append(
            Text(
                "manifest.json is missing or names no factors: the factors were taken "
                "to be the setting columns that vary ({factors}).",
                factors=", ".join(factors) or Text("none"),
            )
        )
    _require(runs, factors, f"{runs_path} (factors listed in manifest.json)")
    for column in settings:
        if runs[column].isna().all():
            runs[column] = runs[column].astype(float)  # an unset option (None): CSV reads it as NaN
        numeric = pd.api.types.is_numeric_dtype(runs[column])
        if column in factors or not numeric:
            runs[column] = _categorical(runs[column], numeric)

    curves = read_curves(path, curve_columns)

    layouts = _layouts(manifest, path / MANIFEST)
    layout, names = max(layouts, key=lambda layout: layout.size), param_names(layouts)
    params = None
    params_path = table_path(path, "params")
    if params_path.is_file():
        columns = _header(params_path)
        if len(columns) != len(KEY) + len(names) or columns[:2] != KEY:
            raise ResultsError(
                f"{params_path}: expected columns config, seed and {len(names)} parameters, got {len(columns)} columns"
            )
        params_path, params = read_table(path, "params", None if weights else KEY)
    else:
        notes.append(Text("No params.csv or params.parquet: the learned hidden units are not drawn."))

    notes += _missing_runs(runs, manifest)
    key = curves[KEY].to_numpy(np.int64)  # sorted: each run's rows are together
    first = np.r_[True, (key[1:] != key[:-1]).any(axis=1)] if len(key) else np.zeros(0, bool)
    lacking = int((~pd.MultiIndex.from_frame(runs[KEY]).isin(pd.MultiIndex.from_arrays(key[first].T))).sum())
    if lacking:
        notes.append(
            Text(
                "{file} has no rows for {lacking} of the {runs} runs.",
                file=table_path(path, "curves").name,
                lacking=lacking,
                runs=len(runs),
            )
        )
    return Results(path, runs, curves, params, manifest, list(factors), layout, notes, file_digest(runs_path), names)


def run_weights(results, config, seed):
    """The final parameter vector of run (config, seed), or None when the
    params table has no row for it; read from the file, a chunk at a time,
    when `results` holds no weights (load_results(..., weights=False))."""
    params = results.params
    if params is None:
        return None
    if params.shape[1] > len(KEY):
        rows = params[(params["config"] == config) & (params["seed"] == seed)]
    else:
        path = table_path(results.path, "params")
        chunks = (
            pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=CSV_CHUNK_ROWS)
            if path.suffix == ".parquet"
            else pd.read_csv(path, chunksize=CSV_CHUNK_ROWS)
        )
        rows = pd.concat(
            chunk[(chunk["config"] == config) & (chunk["seed"] == seed)]
            for chunk in (c if isinstance(c, pd.DataFrame) else c.to_pandas() for c in chunks)
        )
    return None if rows.empty else rows.iloc[0, len(KEY) :].to_numpy(float)
