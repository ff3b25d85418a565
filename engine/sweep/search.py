"""The [tune] section of an experiment file: what is tuned, over which ranges,
with which budget, objective and seeds; the Sobol samples of a search space
and the rungs of successive halving.

    [tune]
    factors = ["optimizer", "activation"]   # tune each combination of these factors' levels apart
    trials = 16            # the budget: trials per combination, the same for every one
    seeds = 8              # tuning seeds: a count (the seeds right after the largest evaluation
                           # seed) or a list; never one of the evaluation seeds
    objective = "ert"      # "ert": expected running time to ε on the training set (lower is better);
                           # val_loss: median validation loss; val_acc: mean validation accuracy
    halving = 3            # optional: successive halving with η = 3
    sampler_seed = 0       # scrambles the Sobol sequence

    [tune.space.optimizer] # optional ranges per level of a tuned factor: [scale, low, high],
    adam = { lr = ["log", 1e-4, 1], beta1 = ["uniform", 0.5, 0.99] }   # scale "log" or "uniform"

A combination none of whose levels has a range table tunes its optimizer's lr
and the optimizer's own hyperparameters over DEFAULT_SPACE. A trial is one
point of the space; it trains every configuration of its combination on every
tuning seed, and its objective pools all those runs.
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import options
from ..schema import VAL_ACC, VAL_LOSS

KEYS = ("factors", "trials", "seeds", "objective", "halving", "sampler_seed", "space")
SCALES = ("log", "uniform")
# objective -> True where higher is better
OBJECTIVES = {"ert": False, VAL_LOSS: False, VAL_ACC: True}
DEFAULT_TUNING_SEEDS = 10
DIGITS = 4  # samples keep 4 significant digits, so tables show the very values trained

# What each schedule reads besides lr (options.SCHEDULE_PARAMS; the optimizers'
# are options.OPTIMIZER_OWN): a setting no configuration reads cannot be tuned.
SCHEDULE_OWN = {
    "constant": (),
    "inverse_time": ("lr_decay",),
    "step": ("lr_gamma",),
    "armijo": ("armijo_c", "armijo_beta"),
}
# Per-run numbers with a continuous range (lr_step counts epochs).
TUNABLE = tuple(key for key in options.HYPER if key not in options.INTEGER_SETTINGS)

# Default ranges: each optimizer's lr over the 3.5 decades of the benchmark's
# grid (engine.bench.convergence), which reach past where runs fail on this
# task, and the usual ranges of the optimizers' own hyperparameters.
DEFAULT_LR = {
    "sgd": (0.01, 30.0),
    "momentum": (0.001, 3.0),
    "nesterov": (0.001, 3.0),
    "adagrad": (0.003, 10.0),
    "rmsprop": (0.0003, 1.0),
    "adam": (0.0003, 1.0),
}
DEFAULT_OWN = {
    "momentum": ("uniform", 0.5, 0.999),
    "rho": ("uniform", 0.8, 0.999),
    "beta1": ("uniform", 0.5, 0.99),
    "beta2": ("uniform", 0.9, 0.9999),
    "eps": ("log", 1e-10, 1e-2),
}


@dataclass(frozen=True)
class Range:
    scale: str  # "log" or "uniform"
    low: float
    high: float

    def at(self, u):
        """The values at fractions u ∈ [0, 1) of the range, on its scale,
        rounded to DIGITS significant digits and kept inside [low, high]."""
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        rounded = np.array([float(f"{v:.{DIGITS}g}") for v in np.ravel(x)]).reshape(x.shape)
        return np.clip(rounded, self.low, self.high)

    def position(self, x):
        """Where x sits in the range, 0 at low and 1 at high, on its scale."""
        if self.scale == "log":
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def text(self):
        return f"{self.scale} [{self.low:g}, {self.high:g}]"


def default_space(optimizer):
    """lr and the optimizer's own hyperparameters over DEFAULT_LR, DEFAULT_OWN."""
    return {
        "lr": Range("log", *DEFAULT_LR[optimizer]),
        **{key: Range(*DEFAULT_OWN[key]) for key in options.OPTIMIZER_OWN[optimizer]},
    }


@dataclass(frozen=True)
class Group:
    """One tuned combination of levels: its configurations and search space."""

    levels: tuple  # ((factor, value), ...)
    configs: tuple  # indices into the experiment's configurations
    space: dict  # setting -> Range

    @property
    def name(self):
        return ", ".join(f"{factor}={value}" for factor, value in self.levels)


@dataclass(frozen=True)
class Tune:
    factors: tuple
    trials: int  # per group
    seeds: tuple  # tuning seeds, disjoint from the evaluation seeds
    objective: str
    halving: int  # successive halving's η; 0 for none
    sampler_seed: int
    groups: tuple

    @property
    def higher_is_better(self):
        return OBJECTIVES[self.objective]


# --- the search ---------------------------------------------------------------


def samples(space, trials, sampler_seed, group_index):
    """The trials of one group: the first points of a scrambled Sobol sequence
    seeded by (sampler_seed, group), the same on every machine, a different
    scramble per group.

    Parameters
    ----------
    space : dict, setting -> Range
    trials : int, how many points
    sampler_seed, group_index : int, the seed of the scramble

    Returns
    -------
    dict, setting -> array of `trials` values inside its range
    """
    from scipy.stats import qmc  # a heavy import: only when a [tune] section samples, not for every command

    sobol = qmc.Sobol(len(space), scramble=True, seed=np.random.default_rng([sampler_seed, group_index]))
    u = sobol.random_base2(max(0, math.ceil(math.log2(trials))))[:trials]  # whole powers of two: balanced
    return {key: r.at(u[:, j]) for j, (key, r) in enumerate(space.items())}


def rungs(trials, eta):
    """Successive halving's rungs as (trials kept, fraction of the epochs):
    rung k keeps trials // η^k and trains them for epochs / η^(K−k), K the
    last rung with a trial left; one rung at the full budget without halving."""
    if not eta:
        return [(trials, 1.0)]
    last = int(math.floor(math.log(trials, eta) + 1e-9))
    return [(trials // eta**k, eta ** -(last - k)) for k in range(last + 1)]


def rung_epochs(epochs, fraction):
    return max(1, int(round(epochs * fraction)))


def order(objectives, higher_is_better):
    """Trial positions from best to worst; NaN (no result) last, ties in trial order."""
    x = np.asarray(objectives, dtype=float)
    key = np.where(np.isnan(x), np.inf, -x if higher_is_better else x)
    return np.argsort(key, kind="stable")


def survivors(alive, objectives, keep, higher_is_better):
    """The `keep` best of the trials `alive` (their objectives in the same
    order), best first: the trials successive halving trains on."""
    return [alive[i] for i in order(objectives, higher_is_better)[:keep]]


# --- reading the section ------------------------------------------------------


def parse(table, columns, configs, explicit, owners, seeds, data, max_runs):
    """The [tune] section, checked against the experiment: `columns` are its
    factor columns, `explicit` the settings each configuration sets in the
    file, `owners` where each one is set, `max_runs` the most runs one
    results folder (a rung's) holds."""
    for key in table:
        if key not in KEYS:
            raise options.unknown_key("[tune]", key, KEYS)
    factors = _factors(table.get("factors"), columns)
    objective = table.get("objective", "ert")
    if not isinstance(objective, str) or objective not in OBJECTIVES:  # a list is no dict key
        options.code("[tune] objective", tuple(OBJECTIVES), objective)
    _check_objective(objective, configs, data)
    spaces = _spaces(table.get("space", {}), factors, configs)
    grouped = {}
    for index, config in enumerate(configs):
        grouped.setdefault(tuple((f, config[f]) for f in factors), []).append(index)
    groups = tuple(
        Group(levels, tuple(indices), _space(levels, indices, spaces, configs, explicit, owners))
        for levels, indices in grouped.items()
    )
    trials = _integer("trials", table.get("trials"), 1, "an integer >= 1 (the budget: trials per tuned combination)")
    return Tune(
        factors=factors,
        trials=trials,
        seeds=_seeds(table.get("seeds", DEFAULT_TUNING_SEEDS), seeds, trials * len(configs), max_runs),
        objective=objective,
        halving=_integer(
            "halving",
            table.get("halving", 0),
            2,
            "an integer >= 2 (successive halving's η), or left out for none",
            allow_zero=True,
        ),
        sampler_seed=_integer("sampler_seed", table.get("sampler_seed", 0), 0, "an integer >= 0"),
        groups=groups,
    )


def _integer(key, value, least, wording, allow_zero=False):
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if value is None:
        raise ValueError(f"[tune] {key}: missing; give {wording}")
    if not is_int or not (value >= least or allow_zero and value == 0):
        raise ValueError(f"[tune] {key}: must be {wording}, got {options.shown(value)}")
    if value > options.INT64_MAX:
        raise options.too_large(f"[tune] {key}", value, wording)
    return value


def _factors(value, columns):
    if value is None:
        raise ValueError(
            f"[tune] factors: missing; name the factors whose levels are tuned apart, "
            f'e.g. factors = ["optimizer"] (factors here: {", ".join(columns) or "none"})'
        )
    if not isinstance(value, list) or not value or not all(isinstance(f, str) for f in value):
        raise ValueError(f"[tune] factors: must be a non-empty list of factor names, got {value!r}")
    for name in value:
        if name not in columns:
            raise options.unknown_key("[tune] factors", name, columns)
    if len(set(value)) < len(value):
        raise ValueError(f"[tune] factors: names a factor twice: {value!r}")
    return tuple(value)


def _check_objective(objective, configs, data):
    if objective.startswith("val_") and data["n_val"] == 0:
        raise ValueError(
            f"[tune] objective: {objective!r} is measured on a validation set, and "
            f'[data] n_val is 0; set [data] n_val (e.g. n_val = 200) or use objective = "ert"'
        )
    if objective == "ert" and any(config["target_loss"] is None for config in configs):
        raise ValueError(
            "[tune] objective: 'ert' is the expected running time to ε, and some "
            "configurations have no target; set target_loss in [settings]"
        )


def _seeds(value, evaluation, runs_per_seed, max_runs):
    """The tuning seeds; `runs_per_seed`: the first rung's runs on each (trials × configurations)."""
    count = len(value) if isinstance(value, list) else value
    if isinstance(count, int) and runs_per_seed * count > max_runs:  # before a count's seeds are made
        raise ValueError(
            f"[tune] seeds: {runs_per_seed:,} trials × configurations × {count:,} seeds = "
            f"{runs_per_seed * count:,} runs in the first rung, more than one results folder holds "
            f"({max_runs:,}); use fewer trials or tuning seeds (nn47 sweep --dry-run shows what a file costs)"
        )
    if isinstance(value, list):
        if not value or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= options.INT64_MAX for s in value
        ):
            raise ValueError(
                f"[tune] seeds: must be a count >= 1 or a list of distinct integers >= 0 (below 2**63), got {value!r}"
            )
        if len(set(value)) < len(value):
            raise ValueError(f"[tune] seeds: {value!r} lists a seed twice")
        shared = sorted(set(value) & set(evaluation))
        if shared:
            raise ValueError(
                f"[tune] seeds: {shared} are also evaluation seeds (top-level seeds); "
                f"settings must be chosen on other seeds than the ones they are compared on"
            )
        return tuple(value)
    count = _integer("seeds", value, 1, "a count >= 1 or a list of distinct integers >= 0")
    first = max(evaluation) + 1
    if first + count - 1 > options.INT64_MAX:
        raise ValueError(
            f"[tune] seeds: {count:,} seeds after the largest evaluation seed ({first - 1}) pass 2**63 - 1; "
            "give the tuning seeds as a list"
        )
    return tuple(range(first, first + count))


def _spaces(table, factors, configs):
    """[tune.space]: factor -> level (as written) -> (where, {setting: Range})."""
    if not isinstance(table, dict):
        raise ValueError(f"[tune] space: must be a table of factors, got {table!r}")
    spaces = {}
    for factor, levels in table.items():
        if factor not in factors:
            raise ValueError(
                f"[tune.space] {factor}: is not one of [tune] factors ({', '.join(factors)}); "
                f"ranges are given per level of a tuned factor"
            )
        if not isinstance(levels, dict):
            raise ValueError(f"[tune.space.{factor}]: must be a table of levels, got {levels!r}")
        names = list(dict.fromkeys(str(config[factor]) for config in configs))
        spaces[factor] = {}
        for level, settings in levels.items():
            where = f"[tune.space.{factor}.{level}]"
            if level not in names:
                raise options.unknown_key(f"[tune.space.{factor}]", level, names)
            if not isinstance(settings, dict) or not settings:
                raise ValueError(
                    f'{where}: must be a table of ranges such as {{ lr = ["log", 1e-4, 1] }}, got {settings!r}'
                )
            spaces[factor][level] = (where, {key: _range(where, key, value) for key, value in settings.items()})
    return spaces


def _range(where, key, value):
    if key not in TUNABLE:
        raise options.unknown_key(f"{where} (tunable settings)", key, TUNABLE)
    if not (
        isinstance(value, list)
        and len(value) == 3
        and value[0] in SCALES
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[1:])
    ):
        raise ValueError(
            f'{where} {key}: must be [scale, low, high] with scale "log" or "uniform", '
            f'e.g. ["log", 1e-4, 1], got {value!r}'
        )
    scale, low, high = value[0], float(value[1]), float(value[2])
    if not low < high:
        raise ValueError(f"{where} {key}: the range's low ({low:g}) must be below its high ({high:g})")
    if scale == "log" and low <= 0:
        raise ValueError(
            f'{where} {key}: a "log" range needs bounds > 0, got low {low:g}; use "uniform" or a positive low'
        )
    for bound in (low, high):
        try:
            options.check_setting(key, bound)
        except ValueError as e:
            raise ValueError(f"{where} {key}: the bound {bound:g} is not a valid value ({e})") from None
    return Range(scale, low, high)


def _space(levels, indices, spaces, configs, explicit, owners):
    """A group's space (its levels' tables, or its optimizer's default), each
    setting checked: read by every configuration, set by none."""
    name = ", ".join(f"{factor}={value}" for factor, value in levels)
    given = [spaces[factor][str(value)] for factor, value in levels if str(value) in spaces.get(factor, {})]
    space, place = {}, {}
    for where, ranges in given:
        for key, r in ranges.items():
            if key in space:
                raise ValueError(
                    f"{where} {key}: also given in {place[key]}, which tunes the same "
                    f"configurations ({name}); give each range once"
                )
            space[key], place[key] = r, where
    if not given:
        optimizers = sorted({configs[i]["optimizer"] for i in indices})
        if len(optimizers) > 1:
            raise ValueError(
                f"[tune] factors: the configurations of {name} use several optimizers "
                f"({', '.join(optimizers)}), so they share no default search space; add "
                f'"optimizer" to [tune] factors or give ranges in [tune.space]'
            )
        space = default_space(optimizers[0])
        place = dict.fromkeys(
            space, f"[tune] (the default space of {name}: lr and {optimizers[0]}'s own hyperparameters)"
        )
    for key in space:
        for i in indices:
            config = configs[i]
            used = (
                "lr",
                "weight_decay",
                "dropout",
                *options.OPTIMIZER_OWN[config["optimizer"]],
                *SCHEDULE_OWN[config["schedule"]],
            )
            if key not in used:
                raise ValueError(
                    f"{place[key]} {key}: configuration {i} ({name}) does not use it (optimizer "
                    f"{config['optimizer']!r}, schedule {config['schedule']!r} use: "
                    f"{', '.join(used)})"
                )
            if key in explicit[i]:
                raise ValueError(
                    f"{place[key]} {key}: is tuned, and also set in {owners.get(key, 'the file')}; "
                    f"a setting is either tuned or set: remove one"
                )
    return space
