"""Experiment files: a TOML file -> a validated grid of runs.

An experiment is a grid of configurations, each trained once per seed on one
data set. The whole file is checked before anything runs; every error is a
SpecError whose message starts with the file's path and names the section,
the key, what was given and what is allowed.

    name = "default"         # optional; defaults to the file name's stem
    description = "Which init, optimizer, activation and regulariser work best?"
    seeds = 100              # a count (seeds 0..99) or a list of distinct ints >= 0
    record_every = 10        # optional: epochs between learning-curve points
                             # (default: largest epochs // 100, at least 1)

    [data]                   # optional; the data set every run trains on
    set = "ct"               # or "digits"; file = "mine.npz" instead (model.datasets)
    n_train = 32             # (defaults shown: those of engine.make_dataset)
    n_test = 1000
    flip = 0.05
    noise = 0.1
    seed = 0
    n_val = 0                # validation images, for tuning (0: none)

    [settings]               # fixed settings for every run: any key of
    epochs = 2000            # options.TRAIN_DEFAULTS
    hidden = [3]             # a list, yet one value: the hidden widths
    target_loss = 0.01
    batch_size = "full"      # "full" (or leaving it out) means full batch

    [factors]                # the grid: the product of all factors
    init = ["xavier", "he"]  # a plain factor: values of one setting
    activation = ["sigmoid", "tanh", "relu"]

    [factors.optimizer]      # a variant factor: each level names what it sets
    sgd = { lr = 0.5 }
    adam = { lr = [0.003, 0.01, 0.03] }   # a list expands into a sub-axis

    [factors.regularization] # not a setting: a label column with the level name
    none = {}
    weight_decay = { weight_decay = 1e-3 }
    dropout = { dropout = 0.2 }

Rules:
- Grid order is itertools.product over the factors in file order, the last
  varying fastest. TOML puts the keys written right under [factors] before
  the [factors.x] tables; dotted keys (`optimizer.sgd = { lr = 0.5 }` under
  [factors]) place a variant factor anywhere.
- Precedence: TRAIN_DEFAULTS < [settings] < factors. A key set both in
  [settings] and by a factor, or by two factors, is an error.
- A variant factor named after a setting (`optimizer`) sets that setting to
  the level's name as well as the level's own settings; any other name
  (`regularization`) becomes a label column holding the level's name. A label
  may not look like a named setting (`optimiser` is taken for a typo).
- A list inside a level gives one configuration per value, and that key
  becomes a factor column after the variant's own (optimizer, lr, ...);
  several lists in one level form their product.
- Every configuration is checked whole by options.check_settings, and a
  batch_size may not exceed n_train.
- An optional [tune] section (engine.sweep.search) tunes each combination of
  the levels of the factors it names before the comparison.
"""

import difflib
import hashlib
import inspect
import itertools
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import options
from ..model import datasets
from ..model.data import check_sizes, make_dataset
from ..model.layout import Layout, network, param_names
from ..schema import CHOSEN, CURVE, EPOCHS_TO_TARGET, KEY, TEST_ACC, TRAIN_LOSS, TRIAL, TRIAL_RESULT, outcomes
from . import search


class SpecError(ValueError):
    """A bad experiment file; the message starts with the file's path."""


TOP_KEYS = ("name", "description", "seeds", "record_every", "data", "settings", "factors", "tune", "analysis")
# [analysis]: the report's practical margins (engine.analysis.effects) -> (metric, unit in the file)
MARGIN_KEYS = {
    "margin_accuracy": (
        TEST_ACC,
        0.01,
        lambda x: math.isfinite(x) and 0 < x <= 100,
        "a number of accuracy points in (0, 100]",
    ),
    "margin_epochs": (
        EPOCHS_TO_TARGET,
        1.0,
        lambda x: math.isfinite(x) and 0 < x < 10,
        "a ratio share in (0, 10) (0.1: 10 %)",
    ),
    "margin_loss": (TRAIN_LOSS, 1.0, lambda x: math.isfinite(x) and 0 < x < 10, "a ratio share in (0, 10) (0.1: 10 %)"),
}
# [analysis] cost: the unit of the cost to ε that ranks configurations (engine.analysis.costs.UNITS)
COST_UNITS = ("epochs", "updates", "samples")
# [analysis] lang: the language of report.md and the figures (engine.analysis.words), English first
LANGS = ("en", "ja")
ANALYSIS_KEYS = (*MARGIN_KEYS, "cost", "lang")

# make_dataset's own defaults, so the file format and the data module agree; set (or file) picks the data.
DATA_DEFAULTS = {
    "set": "ct",
    **{key: p.default for key, p in inspect.signature(make_dataset).parameters.items() if key != "scale"},
}
DATA_FILE = "file"  # [data] file = "path.npz" or ".csv", relative to the experiment file: the user's own data
GLYPHS_ONLY = ("flip", "noise")  # what only the C/T glyphs take
_DATA_RULES = {
    "set": (str, lambda x: x in datasets.SETS, f"one of {', '.join(map(repr, datasets.SETS))}"),
    "n_train": (int, lambda x: x >= 1, "an integer >= 1"),
    "n_test": (int, lambda x: x >= 1, "an integer >= 1"),
    "flip": (float, lambda x: 0 <= x <= 1, "a probability in [0, 1]"),
    "noise": (float, lambda x: x >= 0, "a number >= 0 (a fraction of 255)"),
    "seed": (int, lambda x: x >= 0, "an integer >= 0"),
    "n_val": (int, lambda x: x >= 0, "an integer >= 0 (0: no validation set)"),
}
# The data seed is renamed in tables so it is not taken for the run's seed.
DATA_COLUMNS = {
    "set": "data",  # the set's name or the file's path (not with the C/T glyphs: older tables keep their columns)
    "sha256": "data_sha256",  # datasets.sha256 of the numbers trained on (as "data")
    "n_train": "n_train",
    "n_test": "n_test",
    "flip": "flip",
    "noise": "noise",
    "seed": "data_seed",
    "n_val": "n_val",
}
# Labels may not shadow the columns that the results tables and tuning.csv add
# (a label named test_acc made a runs table with two such columns).
_RESERVED = (
    *KEY,
    *DATA_COLUMNS.values(),
    *outcomes(validation=True),
    *CURVE,
    *TRIAL,
    *TRIAL_RESULT,
    CHOSEN,
)
# What TOML, which has no null, writes instead of None.
_FILE_HINTS = {
    "batch_size": ' (in a file, full batch is written "full")',
    "target_loss": " (in a file, leave it out for none)",
}
# None (full batch, no target) becomes a missing value; batch sizes stay ints.
_FRAME_DTYPES = {"batch_size": "Int64", "target_loss": "float64"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Experiment:
    name: str
    path: str
    text: str = field(repr=False)
    sha256: str
    description: str
    data: dict
    seeds: tuple
    record_every: int
    factors: tuple  # columns that vary, in grid order
    labels: tuple  # the factors that are labels, not settings
    configs: tuple = field(repr=False)  # full run settings + labels, in grid order
    tune: object = None  # the [tune] section (search.Tune), None without one
    tuning: dict = None  # what tuning chose (engine.sweep.tune), for the manifest
    test_set: bool = True  # False: the test outcomes stay empty (a tuning rung's objective never reads them)
    params: bool = True  # False: no params table (nothing reads a tuning trial's final weights)

    @property
    def n_runs(self):
        return len(self.configs) * len(self.seeds)

    def config_frame(self):
        """One row per configuration: `config` (its index), labels, every
        setting in TRAIN_DEFAULTS order, then the data columns."""
        # n_val only with a validation set, so older tables keep their columns
        data = {column: self.data.get(key) for key, column in DATA_COLUMNS.items() if self._has_column(key)}
        if "data" in data:
            data.update(data=self.data.get(DATA_FILE) or self.data["set"], data_sha256=data_digest(self.data))
        columns = ["config", *self.labels, *options.TRAIN_DEFAULTS, *data]
        hidden = options.hidden_column([config["hidden"] for config in self.configs])
        rows = [{"config": i, **config, "hidden": h, **data} for i, (config, h) in enumerate(zip(self.configs, hidden))]
        return pd.DataFrame(rows, columns=columns).astype(_FRAME_DTYPES)

    def _has_column(self, key):
        if key == "n_val":
            return self.data[key] > 0
        glyphs = self.data["set"] == "ct" and DATA_FILE not in self.data
        return not glyphs if key in ("set", "sha256") else glyphs or key not in GLYPHS_ONLY

    def layouts(self):
        """Each network the experiment trains, once, by widths (the manifest's order)."""
        d = datasets.load(self.data)
        hidden = sorted({config["hidden"] for config in self.configs}, key=options.hidden_widths)
        return [Layout(d.X_train.shape[1], h, d.T_train.shape[1]) for h in hidden]

    def layout(self):
        """The largest network the experiment trains (the most parameters)."""
        return max(self.layouts(), key=lambda layout: layout.size)

    def param_names(self):
        """The params table's columns: every network's parameters, the largest's first
        (none where the experiment keeps no params table)."""
        return param_names(self.layouts()) if self.params else []


def data_digest(data):
    """The sha256 of the data set a [data] table describes (datasets.sha256)."""
    return datasets.sha256(datasets.load(data))


@dataclass(frozen=True)
class _Factor:
    name: str
    is_label: bool
    columns: tuple  # the factor's name, then its levels' sub-axis keys
    points: list  # one dict of column/setting values per grid position
    sets: dict  # every key it sets -> where in the file, for conflicts


def load(path):
    """Read, check and expand an experiment file; raise SpecError if it is bad."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise SpecError(f"{path}: cannot read the file: {e.strerror}") from e
    try:
        return _experiment(str(path), raw)
    except ValueError as e:  # TOML and UTF-8 errors are ValueErrors too
        raise SpecError(f"{path}: {e}") from e


def _experiment(path, raw):
    text = _decode(raw)
    doc = _parse(text)
    for key in doc:
        _known("top level", key, TOP_KEYS)
    if "seeds" not in doc:
        raise ValueError(
            "seeds: missing; give a count (seeds = 100 means seeds 0..99) or a list of distinct integers >= 0"
        )
    data = _data(_table("[data]", doc.get("data", {})), Path(path).parent)
    fixed = _fixed(_table("[settings]", doc.get("settings", {})))
    factors, owners = _factors(_table("[factors]", doc.get("factors", {})), fixed)
    _check_grid(factors)
    configs, explicit = _configs(fixed, factors, data)
    seeds = _seeds(doc["seeds"], configs, data["n_train"])
    columns = tuple(column for factor in factors for column in factor.columns)
    margins(doc.get("analysis", {}))  # checked now, read by the analysis from the manifest's copy
    cost_unit(doc.get("analysis", {}))
    report_language(doc.get("analysis", {}))
    tune = None
    if "tune" in doc:
        tune = search.parse(_table("[tune]", doc["tune"]), columns, configs, explicit, owners, seeds, data, MAX_RUNS)
    return Experiment(
        name=_name(doc.get("name", Path(path).stem)),
        path=path,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        description=_string("description", doc.get("description", "")),
        data=data,
        seeds=seeds,
        record_every=_record_every(doc.get("record_every"), configs),
        factors=columns,
        labels=tuple(factor.name for factor in factors if factor.is_label),
        configs=tuple(configs),
        tune=tune,
    )


def margins(table):
    """The [analysis] table's margins as metric -> margin (accuracy as a fraction)."""
    _table("[analysis]", table)
    out = {}
    for key, value in table.items():
        _known("[analysis]", key, ANALYSIS_KEYS)
        if key not in MARGIN_KEYS:
            continue
        metric, unit, test, wording = MARGIN_KEYS[key]
        out[metric] = unit * _number(f"[analysis] {key}", value, float, test, wording)
    return out


def cost_unit(table):
    """The [analysis] table's cost unit (default "epochs")."""
    unit = _table("[analysis]", table).get("cost", COST_UNITS[0])
    if unit not in COST_UNITS:
        allowed = ", ".join(f'"{u}"' for u in COST_UNITS)
        raise ValueError(f"[analysis] cost: must be one of {allowed}, got {unit!r}")
    return unit


def report_language(table):
    """The [analysis] table's lang (default "en")."""
    return check_language(_table("[analysis]", table).get("lang", LANGS[0]), "[analysis] lang")


def check_language(lang, where="lang"):
    """lang, one of LANGS; else one error naming where it was given and the languages allowed."""
    if lang not in LANGS:
        allowed = ", ".join(f'"{x}"' for x in LANGS)
        raise ValueError(f"{where}: must be one of {allowed}, got {lang!r}")
    return lang


def _decode(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text (byte {e.start})") from e


def _parse(text):
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"TOML syntax error: {e}") from e


# --- small checks shared by the sections ----------------------------------


def _known(section, key, allowed):
    if key not in allowed:
        raise options.unknown_key(section, key, allowed)


def _table(where, value):
    if not isinstance(value, dict):
        raise ValueError(f"{where}: must be a table, got {value!r}")
    return value


def _string(where, value):
    if not isinstance(value, str):
        raise ValueError(f"{where}: must be a string, got {value!r}")
    return value


def _number(where, value, kind, test, wording):
    """`value` as `kind` (int or float; ints count as floats, bools as neither)."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and abs(value) > options.INT64_MAX:
        raise options.too_large(where, value, wording)
    if not (is_int or kind is float and isinstance(value, float)) or not math.isfinite(value) or not test(value):
        raise ValueError(f"{where}: must be {wording}, got {value!r}")
    return kind(value)


def _distinct(where, values):
    seen = []
    for value in values:
        if value in seen:
            raise ValueError(f"{where}: {value!r} is listed twice; each value may appear once")
        seen.append(value)


def _setting(section, key, value):
    """One setting's value as written in a file, normalised by options.check_setting."""
    if key == "batch_size" and value == "full":
        return None
    try:
        return options.check_setting(key, value)
    except ValueError as e:
        raise ValueError(f"{section} {e}{_FILE_HINTS.get(key, '')}") from None


def _values(section, key, values):
    """A list of values of one setting: not empty, each valid, none repeated."""
    if not values:
        raise ValueError(f"{section} {key}: the list of values is empty; give at least one")
    checked = [_setting(section, key, value) for value in values]
    _distinct(f"{section} {key}", checked)
    return checked


# --- top-level keys and sections -------------------------------------------


def _name(name):
    # The name becomes the results folder, so it must be a plain file name.
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"name: must start with a letter or digit and hold only letters, digits, "
            f"'_', '-' and '.' (it names the results folder), got {name!r}; "
            f'set name = "..." in the file'
        )
    return name


# Runs in one results folder at most: a million runs take about 2 GiB to analyse, so ten
# million are the most one machine handles; a larger study is several experiment files.
MAX_RUNS = 10**7


def _seeds(value, configs, n_train):
    if not isinstance(value, list):
        count = _number("seeds", value, int, lambda x: x >= 1, "a count >= 1 or a list of distinct integers >= 0")
        _check_runs(count, configs, n_train)  # before the seeds are made
        return tuple(range(count))
    _check_runs(len(value), configs, n_train)
    if not value:
        raise ValueError("seeds: the list is empty; give at least one seed")
    seeds = [_number("seeds", s, int, lambda x: x >= 0, "integers >= 0") for s in value]
    _distinct("seeds", seeds)
    return tuple(seeds)


# sample-steps/s of the kernels' throughput job on 2 cores (docs/performance.md): a study
# refused for its size is timed at this rate, not calibrated (--dry-run calibrates)
BEST_RATE = 1e8


def _check_runs(seeds, configs, n_train):
    n_configs = len(configs)
    if seeds * n_configs > MAX_RUNS:
        steps = seeds * n_train * sum(config["epochs"] for config in configs)
        raise ValueError(
            f"seeds: {n_configs:,} configurations × {seeds:,} seeds = {seeds * n_configs:,} runs, more than one "
            f"results folder holds ({MAX_RUNS:,}); up to {steps:.3g} sample-steps (each run to its epoch budget), "
            f"about {steps / BEST_RATE / 3600:,.0f} h at {BEST_RATE:.0e} sample-steps/s (the kernels' best rate on "
            "2 cores); use fewer seeds or split the study into several experiment files "
            "(nn47 sweep --dry-run shows what a file costs)"
        )


def _record_every(value, configs):
    if value is None:
        return max(1, max(config["epochs"] for config in configs) // 100)
    return _number("record_every", value, int, lambda x: x >= 1, "an integer >= 1 (epochs)")


def _data(table, folder):
    data = dict(DATA_DEFAULTS)
    for key, value in table.items():
        if key == DATA_FILE:
            data[key] = _data_file(table, value, folder)
            continue
        _known("[data]", key, (*DATA_DEFAULTS, DATA_FILE))
        if _DATA_RULES[key][0] is str:
            data[key] = _string(f"[data] {key}", value)
            if not _DATA_RULES[key][1](value):
                raise ValueError(f"[data] {key}: must be {_DATA_RULES[key][2]}, got {value!r}")
        else:
            data[key] = _number(f"[data] {key}", value, *_DATA_RULES[key])
    glyphs_only = [key for key in GLYPHS_ONLY if key in table]
    if glyphs_only and (DATA_FILE in data or data["set"] != "ct"):
        raise ValueError(f'[data] {glyphs_only[0]}: only the C/T glyphs (set = "ct") take it; leave it out')
    try:
        check_sizes(data["n_train"], data["n_test"], data["n_val"])
    except ValueError as e:
        raise ValueError(f"[data] {e}") from None
    try:
        datasets.load(data)  # a bad file or a missing package: said now, nothing runs
    except ImportError as e:
        raise ValueError(str(e)) from None
    return data


def _data_file(table, value, folder):
    """The absolute path of [data] file (relative to the experiment file's folder)."""
    if "set" in table:
        raise ValueError("[data] file: give set or file, not both (a file is its own data set)")
    _string("[data] file", value)
    if not value.endswith(datasets.FILE_SUFFIXES):
        raise ValueError(f"[data] file: must name a .npz or .csv file, got {value!r}")
    return str((folder / value).resolve())


def _fixed(table):
    settings = {}
    for key, value in table.items():
        _known("[settings]", key, options.TRAIN_DEFAULTS)
        if isinstance(value, list) and key != "hidden":  # hidden = [3]: one value, a list of widths
            raise ValueError(
                f"[settings] {key}: takes one value, got the list {value!r}; lists of values belong in [factors]"
            )
        settings[key] = _setting("[settings]", key, value)
    return settings


# --- factors ----------------------------------------------------------------


def _factors(table, fixed):
    """The factors in file order and where each key is set; a key set in two
    places is an error."""
    owners = dict.fromkeys(fixed, "[settings]")
    factors = []
    for name, value in table.items():
        factor = _factor(name, value)
        for key, place in factor.sets.items():
            if key in owners:
                raise ValueError(f"{place}: {key!r} is also set in {owners[key]}; set each setting in one place only")
        owners.update(factor.sets)
        factors.append(factor)
    return factors, owners


def _factor(name, value):
    if isinstance(value, list):
        _known("[factors]", name, options.TRAIN_DEFAULTS)
        points = [{name: v} for v in _values("[factors]", name, value)]
        return _Factor(name, False, (name,), points, {name: f"[factors] {name}"})
    if isinstance(value, dict):
        return _variant(name, value)
    raise ValueError(
        f"[factors] {name}: must be a list of values (a plain factor) or a table "
        f"of levels (a variant factor), got {value!r}"
    )


def _variant(name, levels):
    section = f"[factors.{name}]"
    if not levels:
        raise ValueError(f"{section}: has no levels; give at least one, e.g. name = {{ lr = 0.1 }}")
    is_label = name not in options.TRAIN_DEFAULTS
    if is_label:
        _check_label(section, name)
    columns, points = [name], []
    sets = {} if is_label else {name: section}
    for level, table in levels.items():
        where = f"[factors.{name}.{level}]"
        if not isinstance(table, dict):
            raise ValueError(
                f"{section} {level}: must be a table of settings such as "
                f"{level} = {{ lr = 0.1 }} (or {{}}), got {table!r}"
            )
        if name in table:
            raise ValueError(f"{where}: sets {name!r}, which the level's name already sets")
        head = {name: level if is_label else _setting(section, name, level)}
        fixed, lists = _level(where, table)
        if len(points) + math.prod(len(values) for values in lists.values()) > MAX_RUNS:  # before they are made
            raise ValueError(
                f"{where}: its lists make the factor's levels more than one results folder holds "
                f"({MAX_RUNS:,} runs) even at one seed each; use shorter lists or split the study into several files"
            )
        columns += [key for key in lists if key not in columns]
        points += [{**head, **fixed, **dict(zip(lists, combo))} for combo in itertools.product(*lists.values())]
        sets.update({key: where for key in table if key not in sets})
    return _Factor(name, is_label, tuple(columns), points, sets)


def _check_label(section, name):
    if name in _RESERVED:
        raise ValueError(f"{section}: {name!r} is a column of the results tables; choose another label name")
    # A misspelt setting would silently become a label and vary nothing.
    close = difflib.get_close_matches(name, options.NAMED, n=1, cutoff=0.8)
    if close:
        raise ValueError(
            f"{section}: {name!r} is not a setting, so it would be a label column; "
            f"did you mean the setting {close[0]!r}? (a label's name must not "
            f"resemble a setting's)"
        )


def _level(where, table):
    """A level's settings, split into fixed values and lists (its sub-axes)."""
    fixed, lists = {}, {}
    for key, value in table.items():
        _known(where, key, options.TRAIN_DEFAULTS)
        if isinstance(value, list):
            lists[key] = _values(where, key, value)
        else:
            fixed[key] = _setting(where, key, value)
    return fixed, lists


# --- the grid ---------------------------------------------------------------


def _configs(fixed, factors, data):
    """Every configuration, each checked whole (an error names its levels),
    and the settings each one sets in the file rather than by default."""
    labels = [factor.name for factor in factors if factor.is_label]
    configs, explicit = [], []
    d = datasets.load(data)
    n_in, n_out = d.X_train.shape[1], d.T_train.shape[1]
    for index, points in enumerate(itertools.product(*(factor.points for factor in factors))):
        chosen = {key: value for point in points for key, value in point.items()}
        try:
            run = options.check_settings({**fixed, **{k: v for k, v in chosen.items() if k not in labels}})
            _check_batch(run, data)
            network(n_in, run["hidden"], n_out)  # within the parameter limit
        except ValueError as e:
            levels = ", ".join(f"{k}={v!r}" for k, v in chosen.items()) or "no factors"
            raise ValueError(f"configuration {index} ({levels}): {e}") from None
        configs.append({**run, **{k: chosen[k] for k in labels}})
        explicit.append(frozenset(fixed) | frozenset(chosen).difference(labels))
    return configs, explicit


def _check_grid(factors):
    """Refuse, before it is made, a grid of more configurations than a results folder holds runs."""
    count = math.prod(len(factor.points) for factor in factors)
    if count > MAX_RUNS:
        sizes = " × ".join(f"{len(factor.points):,} ({factor.name})" for factor in factors)
        raise ValueError(
            f"[factors]: {sizes} = {count:,} configurations, more than one results folder holds "
            f"({MAX_RUNS:,} runs) even at one seed each; use fewer levels or split the study into several files"
        )


def _check_batch(run, data):
    if run["batch_size"] is not None and run["batch_size"] > data["n_train"]:
        raise ValueError(
            f"batch_size: {run['batch_size']} is larger than the training set ([data] n_train = {data['n_train']})"
        )
