"""Names users pass, the integer codes the kernels see, and default settings.

Kernels take categorical choices as small integers; the tables here are the
only place where names meet codes, so a name is checked once, with a clear
error, before anything is compiled or run.
"""

import difflib
import math
import numbers

INITS = ("xavier", "he", "std0.01", "std1")
MAX_DEPTH = 8  # hidden layers at most (the kernels' Net holds each layer's widths in tuples this long)
ACTIVATIONS = ("sigmoid", "tanh", "relu")
OUTPUTS = ("softmax", "sigmoid")
LOSSES = ("cross_entropy", "squared")
REDUCTIONS = ("mean", "sum")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SCHEDULES = ("constant", "inverse_time", "step", "armijo")
DROPOUT_MODES = ("inverted", "scale")
DTYPES = ("float64", "float32")  # the kernels' real numbers (float32: about twice the lanes per vector)
BACKENDS = ("loky", "threading", "dask")  # where a sweep's chunks run (nn47 sweep --backend)

# Optimizer hyperparameters and their defaults (torch's and Kingma & Ba's
# where they agree; rho = 0.99 as in torch's RMSprop and Saito's book).
OPTIMIZER_PARAMS = {
    "momentum": 0.9,  # μ of momentum and nesterov
    "rho": 0.99,  # decay of RMSprop's running mean of g²
    "beta1": 0.9,  # Adam
    "beta2": 0.999,  # Adam
    "eps": 1e-8,  # added to √h (AdaGrad, RMSprop) and √v̂ (Adam)
}

# Each optimizer's own hyperparameters: the OPTIMIZER_PARAMS it reads besides lr.
OPTIMIZER_OWN = {
    "sgd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "adagrad": ("eps",),
    "rmsprop": ("rho", "eps"),
    "adam": ("beta1", "beta2", "eps"),
}

# Step-size schedule parameters: η_t = η / (1 + lr_decay·t) for inverse_time,
# η · lr_gamma^⌊t / lr_step⌋ for step (t counts epochs); Armijo backtracking
# starts each step at η and multiplies by armijo_beta until
# E(w − η g) ≤ E(w) − armijo_c · η · |g|².
SCHEDULE_PARAMS = {
    "lr_decay": 1e-3,
    "lr_step": 100,
    "lr_gamma": 0.5,
    "armijo_c": 1e-4,
    "armijo_beta": 0.5,
}


def code(kind, table, name):
    """The integer code of `name` in `table`, or a ValueError that names the
    argument, the allowed values and the closest one."""
    if name in table:
        return table.index(name)
    close = difflib.get_close_matches(str(name), table, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"{kind}: unknown value {name!r}; allowed: {', '.join(table)}{hint}")


# Every setting of one training run and its default; train() and the
# experiment files take exactly these names.
TRAIN_DEFAULTS = {
    "init": "xavier",
    "optimizer": "sgd",
    "lr": 0.1,
    "activation": "sigmoid",
    "output": "softmax",
    "loss": "cross_entropy",
    "reduction": "mean",
    "epochs": 1000,
    "batch_size": None,  # None: full batch
    "weight_decay": 0.0,
    "decay_thresholds": False,  # weight decay on θ too
    "dropout": 0.0,
    "dropout_mode": "inverted",
    "target_loss": None,  # ε: stop when E < ε
    "schedule": "constant",
    **SCHEDULE_PARAMS,
    **OPTIMIZER_PARAMS,
    "dtype": "float64",
    "hidden": 3,  # hidden widths, one per layer: [3] is the lecture's 12-3-2 (one layer kept as its width, an int)
}

# Per-run numbers the kernels take side by side, one row each.
HYPER = (
    "lr",
    "weight_decay",
    "dropout",
    "lr_decay",
    "lr_step",
    "lr_gamma",
    "armijo_c",
    "armijo_beta",
    "momentum",
    "rho",
    "beta1",
    "beta2",
    "eps",
)

NAMED = {
    "init": INITS,
    "optimizer": OPTIMIZERS,
    "activation": ACTIVATIONS,
    "output": OUTPUTS,
    "loss": LOSSES,
    "reduction": REDUCTIONS,
    "schedule": SCHEDULES,
    "dropout_mode": DROPOUT_MODES,
    "dtype": DTYPES,
}

# (test, wording) for numeric settings; ints are accepted where floats are.
_RANGES = {
    "lr": (lambda x: x > 0, "a number > 0"),
    "epochs": (lambda x: x >= 1, "an integer >= 1"),
    "batch_size": (lambda x: x >= 1, "an integer >= 1 (or none for full batch)"),
    "weight_decay": (lambda x: x >= 0, "a number >= 0"),
    "dropout": (lambda x: 0 <= x < 1, "a ratio in [0, 1)"),
    "target_loss": (lambda x: x > 0, "a number > 0 (or none)"),
    "lr_decay": (lambda x: x >= 0, "a number >= 0"),
    "lr_step": (lambda x: x >= 1, "an integer >= 1"),
    "lr_gamma": (lambda x: 0 < x <= 1, "a number in (0, 1]"),
    "armijo_c": (lambda x: 0 < x < 1, "a number in (0, 1)"),
    "armijo_beta": (lambda x: 0 < x < 1, "a number in (0, 1)"),
    "momentum": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "rho": (lambda x: 0 < x < 1, "a number in (0, 1)"),
    "beta1": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "beta2": (lambda x: 0 < x < 1, "a number in (0, 1)"),
    "eps": (lambda x: x > 0, "a number > 0"),
}
# The kernels' and numpy's integers are int64: a larger count or seed overflows deep inside them.
INT64_MAX = 2**63 - 1
FLOAT32_RESOLUTION = 2.0**-23  # float32's epsilon: the smallest relative step of E and of z
INTEGER_SETTINGS = {"epochs", "batch_size", "lr_step"}
_OPTIONAL = {"batch_size", "target_loss"}


# Names other libraries use for a setting: difflib finds typos, not these.
ALIASES = {
    "learning_rate": "lr",
    "eta": "lr",
    "step_size": "lr",
    "n_epochs": "epochs",
    "num_epochs": "epochs",
    "max_epochs": "epochs",
    "minibatch_size": "batch_size",
    "batchsize": "batch_size",
    "l2": "weight_decay",
    "wd": "weight_decay",
    "epsilon": "eps",
    "beta_1": "beta1",
    "beta_2": "beta2",
    "target": "target_loss",
    "activation_function": "activation",
    "initializer": "init",
}


def unknown_key(kind, key, allowed):
    """The ValueError for a key that is not one of `allowed` (closest one named)."""
    alias = ALIASES.get(str(key).lower())
    close = [alias] if alias in allowed else difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ValueError(f"{kind}: unknown key {key!r}; allowed: {', '.join(allowed)}{hint}")


def shown(value):
    """repr(value), but an integer too long to read as its number of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    return repr(value)


def too_large(name, value, wording):
    """The ValueError for an integer beyond int64, which would overflow in numpy
    or a kernel, or in a float, where math.isfinite fails with OverflowError."""
    return ValueError(f"{name}: must be {wording} that fits in 64 bits (below 2**63), got {shown(value)}")


def check_integer(name, value, minimum):
    """`value` if it is an integer >= minimum that fits int64, else a ValueError
    naming it (train's seeds, the sweep's jobs and chunk_runs, the command
    line's options: one wording everywhere)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {shown(value)}")
    if value > INT64_MAX:
        raise too_large(name, value, f"an integer >= {minimum}")
    return value


def check_batch_size(batch_size, n_train, where):
    """A mini-batch may not hold more samples than the training set
    (`where` says where its size was given)."""
    if batch_size is not None and batch_size > n_train:
        raise ValueError(f"batch_size: {batch_size} is larger than the training set ({where} = {n_train})")


def check_setting(key, value):
    """Return `value` normalised (floats as float, ints as int), or raise a
    ValueError naming the setting and what is allowed."""
    if key not in TRAIN_DEFAULTS:
        raise unknown_key("setting", key, TRAIN_DEFAULTS)
    if key in NAMED:
        code(key, NAMED[key], value)
        return value
    if key == "hidden":
        return check_hidden(value)
    if key == "decay_thresholds":
        if not isinstance(value, bool):
            raise ValueError(f"decay_thresholds: must be true or false, got {value!r}")
        return value
    if value is None and key in _OPTIONAL:
        return None
    test, wording = _RANGES[key]
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_number = is_int or isinstance(value, float)
    # the kernel counts epochs to epochs + 1
    if is_int and abs(value) > INT64_MAX - (key == "epochs"):
        raise too_large(key, value, wording)
    if is_number and not math.isfinite(value):  # inf passes "> 0" and trains to nan
        raise ValueError(f"{key}: must be finite ({wording}), got {value!r}")
    if key in INTEGER_SETTINGS and not is_int or not is_number or not test(value):
        raise ValueError(f"{key}: must be {wording}, got {value!r}")
    return int(value) if key in INTEGER_SETTINGS else float(value)


HIDDEN_WORDING = (
    "a list of hidden widths, one per layer, each an integer >= 1, such as [3] or [100, 100] (or one width alone)"
)


def check_hidden(value):
    """`hidden` normalised: the width H of one layer ([H], or H alone: a factor's
    levels may be plain integers), a tuple of the widths of more (first hidden
    layer first), or a ValueError naming the key and what is allowed. The depth
    and parameter limits are model.layout.network's (the kernels' own)."""
    widths = list(value) if isinstance(value, (list, tuple)) else [value]
    if not widths:
        raise ValueError(f"hidden: the list is empty; must be {HIDDEN_WORDING}")
    if any(isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1 for w in widths):
        raise ValueError(f"hidden: must be {HIDDEN_WORDING}, got {value!r}")
    # one layer stays an int: the tables' hidden column and every depth-1 result as before
    return int(widths[0]) if len(widths) == 1 else tuple(int(w) for w in widths)


def hidden_label(hidden):
    """A checked `hidden` as a label: the width of one layer, or the widths
    joined by '-' for more ("100-100-100-100")."""
    return hidden if isinstance(hidden, int) else "-".join(map(str, hidden))


def hidden_widths(hidden):
    """A checked `hidden` as a tuple of widths (the order networks are listed in)."""
    return (hidden,) if isinstance(hidden, int) else hidden


def hidden_column(levels):
    """The runs table's hidden column for checked `hidden` values: the widths
    (integers, a numeric factor) while every value has one layer, else each
    value's label as text ("100", "100-100"), a categorical factor."""
    if all(isinstance(level, int) for level in levels):
        return list(levels)
    return [str(hidden_label(level)) for level in levels]


def hidden_from_label(label):
    """The checked `hidden` of a hidden column's cell (an integer, or widths joined by '-')."""
    if isinstance(label, str):
        try:
            label = [int(width) for width in label.split("-")]
        except ValueError:
            raise ValueError(f"hidden: {label!r} is not widths joined by '-', such as 100-100") from None
    elif isinstance(label, numbers.Integral):
        label = int(label)  # numpy's integers too
    return check_hidden(label)


def check_settings(settings):
    """All settings of one run, defaults filled in and each one checked."""
    run = dict(TRAIN_DEFAULTS)
    for key, value in settings.items():
        run[key] = check_setting(key, value)
    if run["schedule"] == "armijo" and (
        run["optimizer"] != "sgd" or run["batch_size"] is not None or run["dropout"] > 0
    ):
        raise ValueError(
            "schedule: 'armijo' backtracking needs optimizer 'sgd', full batch (batch_size none) "
            f"and no dropout, got optimizer {run['optimizer']!r}, batch_size {run['batch_size']!r}, "
            f"dropout {run['dropout']!r}"
        )
    if run["dtype"] == "float32" and run["target_loss"] is not None and run["target_loss"] < FLOAT32_RESOLUTION:
        raise ValueError(
            f"target_loss: {run['target_loss']!r} is below float32's resolution for the loss "
            f"(about {FLOAT32_RESOLUTION:.1e}: outputs round to 0 or 1 there, so E stops falling "
            f"or rounds to 0); use dtype 'float64' or a target_loss >= {FLOAT32_RESOLUTION:.1e}"
        )
    return run
