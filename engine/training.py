"""`train`: check the arguments, lay the runs out in blocks, call the kernel,
return pandas tables."""

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from . import schema
from .kernels import entry as kernels
from .kernels.entry import LANES, TRACE_W, Plan, make_net
from .model.data import machine_memory
from .model.equations import forward, loss_grad
from .model.initial import check_seeds, initial_params
from .model.layout import Layout, network
from .options import (
    ACTIVATIONS,
    HYPER,
    LOSSES,
    OPTIMIZERS,
    OUTPUTS,
    SCHEDULES,
    TRAIN_DEFAULTS,
    check_batch_size,
    check_setting,
    check_settings,
    code,
    unknown_key,
)


def kernels_compiled(dtype="float64", deep=False):
    """Whether numba's on-disk cache holds the training kernels for `dtype`,
    so that a first train() loads them instead of compiling (for a message;
    False where that cannot be known).

    Parameters
    ----------
    dtype : str
        One of options.DTYPES.

    Returns
    -------
    bool
    """
    return kernels.compiled(dtype, deep)


def compile_kernels(dtypes=("float64",), say=print, deep=False):
    """Compile (or load) the training kernel for each dtype with a tiny train(),
    saying first that it compiles if the cache lacks any of them.

    Parameters
    ----------
    dtypes : iterable of str
        Dtypes (options.DTYPES) whose kernels the next calls need.
    say : callable or None
        Called with the one-line message before compiling; None: silent.
    deep : bool
        The kernels of networks of several hidden layers (their own pass
        over samples), not those of one.
    """
    missing = sorted(d for d in set(dtypes) if not kernels_compiled(d, deep))
    if missing and say is not None:
        # the time of the last compilation on this machine, where one was measured
        last = [kernels.compile_seconds(kind(d, deep)) for d in missing]
        about = f", {sum(last):.0f} s last time" if None not in last else ""
        say(f"compiling the kernels (once per machine{about})")
    X, T = np.eye(2, 12), np.eye(2)
    for dtype in missing:
        start = time.perf_counter()
        for lanes in (8, 1):  # the lane pass and the per-run pass (kernels.entry.train_blocks)
            train(X, T, [0], epochs=1, dtype=dtype, hidden=[1, 1] if deep else [1], block_size=lanes)
        kernels.note_compile_seconds(kind(dtype, deep), time.perf_counter() - start)


def kind(dtype, deep):
    """The name under which a compilation's seconds are kept."""
    return f"{dtype}, deep" if deep else dtype


@dataclass(frozen=True)
class TrainResult:
    # the runs table's columns, by name (seed, then schema's outcomes): arrays, one entry per run
    columns: dict
    params: np.ndarray  # [runs, P] final flat vectors in slide order
    # [runs, slots, schema.CURVE] as the kernel wrote them (epoch −1: an unused slot); see curves
    slots: np.ndarray
    layout: Layout
    trace: np.ndarray | None = None  # with trace=True: [runs, updates, TRACE_W + 2P], NaN after a run stopped
    # epochs computed, summed over lanes (a free lane computes until a run takes it or its
    # block narrows), so Σ epochs_run ÷ lane_epochs is the lanes' occupancy
    lane_epochs: int = 0

    @functools.cached_property
    def runs(self) -> pd.DataFrame:
        """One row per seed: final errors, accuracies, ε, divergence (the columns as a
        frame). Made when first read: the pandas frame was half of a one-run call's
        fixed time, and a sweep's shards take the columns without it."""
        return pd.DataFrame(self.columns)

    @functools.cached_property
    def curves(self) -> pd.DataFrame:
        """Long: run (row of runs), seed, epoch, train/test loss and accuracy. Made
        when first read: a sweep's shards take the points from `slots` (schema.curve_points)
        without it, and the pandas frame was a sixth of a one-run call's time."""
        run, columns = schema.curve_points(self.slots)
        # one construction from columns: inserting columns into a frame cost a small call 0.5 ms
        return pd.DataFrame({"run": run, "seed": self.columns["seed"][run], **columns})


def check_data(X, T, name_X="X", name_T="T", n_in=None):
    X = np.ascontiguousarray(X, dtype=np.float64)
    T = np.ascontiguousarray(T, dtype=np.float64)
    if X.ndim != 2 or (n_in is not None and X.shape[1] != n_in):
        want = f"[samples, {n_in}]" if n_in else "[samples, inputs]"
        raise ValueError(f"{name_X}: must be a 2-d array {want}, got shape {X.shape}")
    if T.ndim != 2 or T.shape[0] != X.shape[0] or T.shape[1] < 2:
        raise ValueError(
            f"{name_T}: must be one-hot targets [{X.shape[0]}, outputs ≥ 2] matching {name_X}, got shape {T.shape}"
        )
    if not (np.isfinite(X).all() and np.isfinite(T).all()):
        raise ValueError(f"{name_X}, {name_T}: must be finite numbers")
    return X, T


def per_run_hyper(settings, n_runs):
    """[len(HYPER), n_runs]: each per-run number given once or once per run."""
    hyper = np.empty((len(HYPER), n_runs))
    for row, key in enumerate(HYPER):
        given = settings[key]
        values = list(given) if np.ndim(given) else [given]
        if len(values) not in (1, n_runs):
            raise ValueError(f"{key}: give one value or one per seed ({n_runs}), got {len(values)}")
        for value in dict.fromkeys(values):  # a sweep's chunk repeats a few values many times
            check_setting(key, value.item() if isinstance(value, np.generic) else value)
        hyper[row] = values  # one value: every run's (a row per key made and stacked cost a small call 0.1 ms)
    return hyper


def check_memory(n_runs, n_slots, trace_numbers):
    """Refuse a call whose curves and trace would not fit in memory, before numpy fails allocating them."""
    need = n_runs * (n_slots * len(schema.CURVE) + trace_numbers) * 8
    if need > machine_memory():
        raise ValueError(
            f"epochs, record_every: {n_runs:,} run(s) with {n_slots:,} curve points each"
            + (f" and a trace of {trace_numbers:,} numbers" if trace_numbers else "")
            + f" need about {need / 2**30:,.0f} GiB, more than this machine's memory "
            f"({machine_memory() / 2**30:,.0f} GiB); use fewer epochs or a larger record_every"
        )


def per_run_init(init, n_runs):
    """[n_runs] init names: `init` given once or once per run (runs that differ
    only in init share a call: it sets their initial parameters alone)."""
    values = [init] if isinstance(init, str) else list(init)
    if len(values) not in (1, n_runs):
        raise ValueError(f"init: give one value or one per seed ({n_runs}), got {len(values)}")
    for value in dict.fromkeys(values):
        check_setting("init", value)
    return np.array(np.broadcast_to(np.array(values, dtype=object), n_runs))


def queues(n_runs, n_queues):
    """The runs of each queue: run i goes to queue i mod n_queues, so that each
    queue gets a share of every configuration a call holds in turn."""
    return [np.arange(q, n_runs, n_queues) for q in range(min(n_queues, n_runs))]


def train(
    X: np.ndarray,
    T: np.ndarray,
    seeds: Sequence[int] | np.ndarray,
    *,
    params0: np.ndarray | None = None,
    X_test: np.ndarray | None = None,
    T_test: np.ndarray | None = None,
    X_val: np.ndarray | None = None,
    T_val: np.ndarray | None = None,
    n_hidden: int | None = None,
    record_every: int | None = None,
    threads: int | None = None,
    block_size: int | None = None,
    trace: bool = False,
    **settings,
) -> TrainResult:
    """Train one network per seed, all in one compiled call.

    A run's numbers depend only on its settings and seed: the same bit for
    bit whatever the runs per call, block_size or threads.

    Parameters
    ----------
    X : array [n, n_in]
        Training inputs (pixels scaled to [0, 1]).
    T : array [n, n_out]
        One-hot targets.
    seeds : sequence of int >= 0
        One run per seed: its initial weights, shuffles and dropout masks.
    params0 : array [runs, P], optional
        Initial parameters in slide order, instead of `init`'s.
    X_test, T_test : arrays, optional
        A held-out set measured at curve points and at the end.
    X_val, T_val : arrays, optional
        A validation set (for tuning): val_loss and val_acc at the final
        parameters, after the test columns.
    n_hidden : int, optional
        Units of one hidden layer, the same as hidden=[n_hidden] (give one
        of the two).
    record_every : int, optional
        Epochs between curve points (default epochs // 100, at least 1); the
        last epoch of each run is always a point.
    threads : int, optional
        Threads that take the blocks (default numba's thread count).
    block_size : int, optional
        Runs side by side in SIMD lanes (default up to LANES, fewer when that
        would leave a thread idle). When a run stops, its lane takes the next
        run of its thread's queue, and (by default) a queue's last 8 runs
        train one at a time on the per-run pass; a block_size given keeps
        its lanes to the end. 1: one run at a time with its samples in
        the lanes instead (the default for few runs per thread and for wide
        networks with long passes: see auto_block_size); the numbers are the
        same either way.
    trace : bool
        Record every update of every run in TrainResult.trace: its epoch,
        step size, the weights it started from and its gradient (see
        engine.lecture.trace); no number changes.
    **settings
        Any of options.TRAIN_DEFAULTS: init, optimizer, lr, activation,
        output, loss, reduction, epochs, batch_size, weight_decay,
        decay_thresholds, dropout, dropout_mode, target_loss, schedule and
        its parameters, momentum, rho, beta1, beta2, eps, dtype, hidden
        ([H1, …, HD]: the widths of D hidden layers, the first nearest the
        inputs; default [3]). The numbers
        in options.HYPER, and init, may be given one per seed. dtype "float32" rounds
        the data, initial weights and per-run numbers to float32 and trains
        in float32; the tables hold those numbers as float64.

    Returns
    -------
    TrainResult
        runs (one row per seed: final train/test loss and accuracy, epochs
        to ε, converged, diverged, epochs run, gradient evaluations, dead
        units), params [runs, P] (final, slide order), curves (long table),
        layout, and trace when asked.
    """
    kernels.fresh_cache()  # before initial_params, which may load a kernel from the cache
    seeds = check_seeds(seeds)
    for key in settings:
        if key not in TRAIN_DEFAULTS:
            raise unknown_key("train", key, TRAIN_DEFAULTS)
    hyper = per_run_hyper({**TRAIN_DEFAULTS, **settings}, seeds.size)
    dropout = hyper[HYPER.index("dropout")]
    inits = per_run_init(settings.get("init", TRAIN_DEFAULTS["init"]), seeds.size)
    # the other settings, and combination rules against the largest per-run dropout
    per_run = (*HYPER, "init")
    run = check_settings({**{k: v for k, v in settings.items() if k not in per_run}, "dropout": dropout.max()})

    X, T = check_data(X, T)
    check_batch_size(run["batch_size"], X.shape[0], "rows of X")
    layout = network(X.shape[1], hidden_width(run["hidden"], n_hidden, "hidden" in settings), T.shape[1])
    if X_test is None and T_test is None:
        X_test, T_test = np.empty((0, layout.n_in)), np.empty((0, layout.n_out))
    X_test, T_test = check_data(X_test, T_test, "X_test", "T_test", layout.n_in)
    if X_val is not None or T_val is not None:
        X_val, T_val = check_data(X_val, T_val, "X_val", "T_val", layout.n_in)
    if params0 is None:
        params0 = np.empty((seeds.size, layout.size))
        for init in set(inits):
            runs = inits == init
            params0[runs] = initial_params(layout, init, seeds[runs])
    params0 = np.asarray(params0, dtype=np.float64)
    if params0.shape != (seeds.size, layout.size):
        raise ValueError(
            f"params0: must have shape (seeds, {layout.size}) = {(seeds.size, layout.size)}, got {params0.shape}"
        )
    if record_every is None:
        record_every = max(1, run["epochs"] // 100)
    if not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise ValueError(f"record_every: must be an integer >= 1, got {record_every!r}")

    net = make_net(
        layout.widths,
        code("activation", ACTIVATIONS, run["activation"]),
        code("output", OUTPUTS, run["output"]),
        code("loss", LOSSES, run["loss"]),
    )
    plan = Plan(
        run["epochs"],
        run["batch_size"] or X.shape[0],
        record_every,
        code("optimizer", OPTIMIZERS, run["optimizer"]),
        code("schedule", SCHEDULES, run["schedule"]),
        run["reduction"] == "mean",
        bool((dropout > 0).any()),
        run["dropout_mode"] == "scale",
        float(run["target_loss"] or -1.0),
    )
    real = np.dtype(run["dtype"])
    X, T, X_test, T_test, params0, hyper = (
        a.astype(real, copy=False)  # float64: no copy
        for a in (X, T, X_test, T_test, params0, hyper)
    )
    data = (X, T, T.argmax(1), X_test, T_test, T_test.argmax(1))
    decayed = np.ones(layout.size, np.bool_) if run["decay_thresholds"] else ~layout.is_threshold

    threads = thread_count(threads)
    alone = kernels.ALONE if block_size is None else 0  # a block_size given: its lanes to the end
    if block_size is None:
        block_size = auto_block_size(seeds.size, threads, layout.size, min(plan.batch_size, X.shape[0]))
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size: must be an integer >= 1, got {block_size!r}")
    P, n_slots = layout.size, run["epochs"] // record_every + 2
    updates = run["epochs"] * -(-X.shape[0] // plan.batch_size) if trace else 0
    check_memory(seeds.size, n_slots, updates * (TRACE_W + 2 * P))
    # per queue, runs on the last axis: params, hyper, seeds, then what the kernel fills
    # (float64 whatever the dtype; a stats row the kernel does not fill stays NaN)
    work = [
        (
            np.ascontiguousarray(params0[runs].T),
            np.ascontiguousarray(hyper[:, runs]),
            seeds[runs].astype(np.uint64),
            np.empty((P, runs.size), real),
            np.full((len(schema.STATS), runs.size), np.nan),
            np.empty((n_slots, len(schema.CURVE), runs.size)),
            np.full((updates, TRACE_W + 2 * P, runs.size), np.nan),
        )
        for runs in queues(seeds.size, threads)
    ]
    lane_epochs = kernels.train_blocks(net, plan, data, decayed, work, block_size, threads, alone)

    def gathered(i):  # output i of every queue, back in run order: [runs, ...]
        out = np.empty((seeds.size, *work[0][i].shape[:-1]), work[0][i].dtype)
        for runs, queue in zip(queues(seeds.size, threads), work):
            out[runs] = np.moveaxis(queue[i], -1, 0)
        return out

    params, stats, curves, steps = (gathered(i) for i in (3, 4, 5, 6))
    params = params.astype(np.float64, copy=False)
    held_out = None if X_val is None else validation(params, X_val, T_val, run, dropout, layout)
    return TrainResult(
        run_columns(seeds, stats, held_out),
        params,
        curves,
        layout,
        steps if trace else None,
        lane_epochs,
    )


def validation(params, X, T, run, dropout, layout):
    """E (the run's loss and reduction, no penalty) and accuracy on X at the final
    parameters, by the numpy model. The book's dropout scales the hidden outputs
    by 1 − r at evaluation: the same as scaling the weights (not θ) of every layer
    above the first, which come before it in the flat vector."""
    if run["dropout_mode"] == "scale":
        above = np.arange(layout.layer_offset(1))
        above = above[~layout.is_threshold[above]]
        params = params.copy()
        params[:, above] *= (1.0 - dropout)[:, None]
    with np.errstate(all="ignore"):  # a diverged run's non-finite weights give NaN, as in the kernel
        E, _ = loss_grad(params, X, T, run["activation"], run["output"], run["loss"], run["reduction"], layout=layout)
        _, z, _, _ = forward(params, X, run["activation"], run["output"], layout)  # any n_out, not only 2
    return E, (z.argmax(-1) == T.argmax(-1)).mean(-1)


def hidden_width(hidden, n_hidden, hidden_given):
    """The hidden widths: the checked setting hidden=[...], or train()'s
    n_hidden= (the older spelling of one layer)."""
    if n_hidden is None:
        return hidden
    if hidden_given:
        raise ValueError("n_hidden: give hidden=[H] or n_hidden=H, not both")
    try:
        return check_setting("hidden", n_hidden)
    except ValueError as e:
        raise ValueError(f"n_{e}") from None  # the message names the argument given


# The per-run pass (one lane, the samples in the vector: kernels/per_run.py) beats the
# lane passes for networks of PER_RUN_PARAMS parameters or more whose passes take
# PER_RUN_SAMPLES samples or more (a mini-batch, or the full batch); shorter passes
# leave its vectors short. docs/performance.md has the measurements.
PER_RUN_PARAMS = 1000
PER_RUN_SAMPLES = 128


def auto_block_size(n_runs, threads, n_params=0, pass_samples=0):
    """LANES runs side by side, or fewer (a multiple of 8, whole vectors) so
    that small calls are not padded far beyond their size and every thread
    gets a block; 1 (the per-run pass) where a thread has kernels.ALONE runs
    or fewer (they train one after another faster than in a narrow block),
    or for a wide network with long passes (see PER_RUN_PARAMS)."""
    per_thread = -(-n_runs // threads)
    if per_thread <= kernels.ALONE or (n_params >= PER_RUN_PARAMS and pass_samples >= PER_RUN_SAMPLES):
        return 1
    return min(LANES, -(-per_thread // 8) * 8)


def thread_count(n):
    """n checked, or numba's thread count (NUMBA_NUM_THREADS; 1 in loky workers) for None."""
    if n is None:
        return numba.get_num_threads()
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"threads: must be an integer in 1..{numba.config.NUMBA_NUM_THREADS}, got {n!r}")
    return int(n)


def outcome_column(values, outcome, flags):
    """One outcome column of its kind (schema.Outcome), empty where its rule says."""
    hide = (
        flags[outcome.empty_if] if outcome.empty_if else ~flags[outcome.empty_unless] if outcome.empty_unless else None
    )
    if outcome.kind == "bool":
        return values > 0
    if outcome.kind == "float":
        return values if hide is None else np.where(hide, np.nan, values)
    if hide is None:
        return values.astype(np.int64)
    return pd.arrays.IntegerArray(np.where(hide, 0, values).astype(np.int64), hide)


def run_columns(seeds, stats, held_out=None):
    """[runs, schema.STATS] -> the runs table's columns: seed, then schema.OUTCOMES,
    and with held_out = (E, accuracy) on a validation set schema.VALIDATION's in
    their place; each outcome empty where its rule says."""
    values = dict(zip(schema.STATS, stats.T))
    if held_out is not None:
        values.update(zip(schema.VALIDATION, (np.asarray(v, float) for v in held_out)))
    flags = {name: values[name] > 0 for name, outcome in schema.OUTCOMES.items() if outcome.kind == "bool"}
    rules = schema.outcomes(validation=held_out is not None)
    return {"seed": seeds, **{name: outcome_column(values[name], o, flags) for name, o in rules.items()}}
