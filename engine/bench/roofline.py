"""A roofline of the engine's kernel: for each section of one sample-step
(forward, error, backward, update) the work it does, counted from the code,
the time it takes, and how close that comes to each of the machine's limits,
all measured in the same run on one thread.

Limits, each from a tiny numba microbenchmark:
- arithmetic: independent multiply-add chains across lanes, written as the
  kernels are (a·b + c with no contraction to FMA, see kernels/config.py);
- L1 and L2 bandwidth: y ← y + a·x over arrays that fit each cache
  (2 loads and 1 store per element);
- transcendental functions: fastmath.exp_ over a block of lanes;
- divisions: 1/(1 + x) over a block of lanes (the divider is a unit of its
  own, shared by square roots).

A section's time is the difference of cumulative timings (forward; forward +
error; + backward; + update) of the engine's own inlined functions on the
benchmark job, so each part runs on the data the previous one left. The
binding limit of a section is the one its measured rate comes closest to.
On a busy machine a difference can come out near zero or below: the table
shows what was measured.
"""

import time

import numpy as np
import pandas as pd

from ..kernels.config import jit
from ..kernels.fastmath import exp_
from ..kernels.network import (
    CHUNK,
    INPUTS,
    LANES,
    TILE,
    add_error,
    hidden_gradient,
    hidden_sums,
    load_inputs,
    load_targets,
    make_net,
    output_backward,
    output_sums,
    outputs,
    scratch,
)
from ..kernels.optimizers import ADAM, add_decay, update
from ..kernels.per_run import BLOCK, GROUP
from ..kernels.vector import ROWS, VECTOR_BYTES
from ..model.layout import Layout
from ..options import ACTIVATIONS, HYPER, LOSSES, OPTIMIZER_PARAMS, OUTPUTS
from .throughput import JOB_LR, job_data, job_params

SECTIONS = ("forward", "error", "backward", "update")
CHAINS = 8  # independent chains per lane: enough to fill both arithmetic pipes
ROUNDS = 7  # timings per level; the best counts


def counts(layout, n):
    """(flops, array elements read or written, exp/log calls, divisions and square
    roots) per sample-step of each section, for the benchmark job (sigmoid, softmax
    of two outputs, cross-entropy, mean, full batch of n samples, no dropout, Adam),
    counted from kernels/network.py and optimizers.py; negations, compares and
    selects are not counted as flops, nor scalars held in registers (such as the
    inputs every lane shares) as elements. A tile's work is divided among its TILE
    samples."""
    n_in, H, K = layout.n_in, layout.n_hidden, layout.n_out
    P, weights = layout.size, int((~layout.is_threshold).sum())
    # hidden sums: per unit θ read and TILE sums written; each w row read once a tile;
    # each sum read and written once per call of add_products (INPUTS inputs, or one)
    calls = n_in // INPUTS + n_in % INPUTS
    hidden_sums = H * ((1 + TILE) / TILE + n_in / TILE + 2 * calls)
    # targets and Σt into the lanes; hidden sums; sigmoid 1/(1+e); output sums; softmax of two
    forward_ = (
        2 * n_in * H + 2 * H + 2 * H * K + 4,
        K + 1 + hidden_sums + 2 * H + K * (2 + 4 * H) + 7,
        H + 1,
        H + 2,
    )  # e^−s and 1/(1+e) per hidden unit; e^(s_other − s_max), z divided twice
    # label, hits, log1p(u) (two divisions: log's (m−1)/(m+1), log1p's x/(w−1)), −t (s − max − log Σ)
    error = (1 + 4 + 4 * K, 1 + 4 + 2 + 6 * K, 1, 2)
    # δ^O; δ^H = 0 then += δ^O w, and g += δ^O h; g_θ; slope; the tile's g += δ^H x and g_θ
    backward_ = (
        3 * K + 4 * H * K + K + 3 * H + H * (2 * n_in + 1),
        4 * K + H + 7 * H * K + 3 * K + 3 * H + H * (n_in + 1) * (2 + TILE) / TILE,
        0,
        0,
    )
    # once per step for the whole batch: Adam 16 flops, 13 elements, 3 divisions and a root
    # per number; decay 2 flops and 4 elements per weight
    update_ = ((16 * P + 2 * weights) / n, (13 * P + 4 * weights) / n, 0, 4 * P / n)
    return dict(zip(SECTIONS, (forward_, error, backward_, update_)))


@jit
def sections_kernel(net, w, X, T, labels, buf, g, m1, m2, bias, eta, hyper, decayed, e, correct, reps, upto):
    """reps full-batch steps of the job, stopping after section `upto` (0..3)."""
    n = X.shape[0]
    scale = w.dtype.type(1.0) / w.dtype.type(n)
    steps = np.zeros(w.shape[1], np.int64)  # every lane's update count, as train_block keeps it
    for step in range(1, reps + 1):
        steps[:] = step
        for first in range(0, n, TILE):  # n a multiple of TILE
            for t in range(TILE):
                load_inputs(X, buf.order, first + t, True, buf, t)
            hidden_sums(net, w, buf, True)
            for t in range(TILE):
                load_targets(T, labels, buf.order, first + t, True, buf, upto >= 1)
                output_sums(net, w, buf, t, False)
                outputs(net, buf, True)  # a training step's: z for δ^O
                if upto >= 1:
                    add_error(net, buf, e, correct)
                if upto >= 2:
                    output_backward(net, w, buf, scale, t, False, g)
            if upto >= 2:
                hidden_gradient(net, buf, True, g)
        if upto >= 3:
            add_decay(g, w, hyper, decayed)
            update(ADAM, w, g, m1, m2, bias, eta, hyper, steps)


@jit
def mul_add_kernel(a, reps):
    """CHAINS independent chains v ← v·m + c per lane, 8 links each, reps times."""
    real = a.dtype.type
    m, c = real(0.999), real(1e-4)
    for _ in range(reps):
        for r in range(a.shape[1]):
            v0, v1, v2, v3 = a[0, r], a[1, r], a[2, r], a[3, r]
            v4, v5, v6, v7 = a[4, r], a[5, r], a[6, r], a[7, r]
            for _link in range(8):
                v0, v1, v2, v3 = v0 * m + c, v1 * m + c, v2 * m + c, v3 * m + c
                v4, v5, v6, v7 = v4 * m + c, v5 * m + c, v6 * m + c, v7 * m + c
            a[0, r], a[1, r], a[2, r], a[3, r] = v0, v1, v2, v3
            a[4, r], a[5, r], a[6, r], a[7, r] = v4, v5, v6, v7


@jit
def triad_kernel(x, y, reps):
    """y ← y + a·x, reps times (x, y sized to sit in one cache level)."""
    a = x.dtype.type(1e-6)
    for _ in range(reps):
        for i in range(x.size):
            y[i] += a * x[i]


@jit
def exp_kernel(x, y, reps):
    for _ in range(reps):
        for i in range(x.size):
            y[i] = exp_(x[i])


@jit
def div_kernel(x, y, reps):
    one = x.dtype.type(1.0)
    for _ in range(reps):
        for i in range(x.size):
            y[i] = one / (one + x[i])


def best_seconds(call, repeats=ROUNDS):
    call()  # compiled and warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def machine_limits(real):
    """Per core, in this dtype: flops/s, L1 and L2 bytes/s, exp calls/s, divisions/s."""
    size = np.dtype(real).itemsize
    a = np.random.default_rng(0).uniform(0.5, 1.0, (CHAINS, LANES)).astype(real)
    reps = 20000
    flops = 2 * 8 * CHAINS * LANES * reps / best_seconds(lambda: mul_add_kernel(a, reps))
    bandwidth = {}
    for level, n_bytes in (("L1", 16 * 1024), ("L2", 512 * 1024)):  # both arrays together
        x = np.ones(n_bytes // (2 * size), real)
        y = np.zeros_like(x)
        reps = max(1, int(2e8 // n_bytes))
        bandwidth[level] = 3 * size * x.size * reps / best_seconds(lambda x=x, y=y, reps=reps: triad_kernel(x, y, reps))
    x = np.linspace(-5, 5, LANES).astype(real)
    y = np.empty_like(x)
    reps = 50000
    exps = LANES * reps / best_seconds(lambda: exp_kernel(x, y, reps))
    divisions = LANES * reps / best_seconds(lambda: div_kernel(x, y, reps))
    return {"flops": flops, "L1": bandwidth["L1"], "L2": bandwidth["L2"], "exp": exps, "div": divisions}


def section_seconds(real, samples, reps):
    """Seconds per sample-step of each section on one thread (one block of LANES runs)."""
    layout = Layout()
    X, T = (a.astype(real) for a in job_data(samples))
    labels = T.argmax(1)
    w0 = np.ascontiguousarray(job_params(LANES).T.astype(real))
    hyper = np.array([[{**OPTIMIZER_PARAMS, "lr": JOB_LR}.get(k, 0.0)] * LANES for k in HYPER], real)
    net = make_net(
        (layout.n_in, layout.n_hidden, layout.n_out),
        ACTIVATIONS.index("sigmoid"),
        OUTPUTS.index("softmax"),
        LOSSES.index("cross_entropy"),
    )
    decayed = ~layout.is_threshold

    def call(upto):
        w = w0.copy()
        zeros = [np.zeros_like(w) for _ in range(3)]
        start = time.perf_counter()
        sections_kernel(
            net,
            w,
            X,
            T,
            labels,
            scratch(net, LANES, w.dtype),
            *zeros,
            np.empty((2, LANES), real),
            np.full(LANES, JOB_LR, real),
            hyper,
            decayed,
            np.zeros(LANES, real),
            np.zeros(LANES),
            reps,
            upto,
        )
        return time.perf_counter() - start

    call(0)  # compiled and warm
    # rounds over the four levels, interleaved so that a busy spell of the machine hits all alike
    best = np.min([[call(upto) for upto in range(len(SECTIONS))] for _ in range(ROUNDS)], axis=0)
    return dict(zip(SECTIONS, np.diff([0.0, *best]) / (reps * samples * LANES)))


def roofline_table(samples, reps=200):
    """One row per dtype × section: work per sample-step, measured time, and its
    fraction of each limit; plus the machine's limits per core."""
    rows = []
    for real in (np.float64, np.float32):
        limits = machine_limits(real)
        seconds = section_seconds(real, samples, reps)
        size = np.dtype(real).itemsize
        for section, (flops, elements, calls, divisions) in counts(Layout(), samples).items():
            t = seconds[section]
            use = {
                "compute": flops / t / limits["flops"],
                "L1 bandwidth": elements * size / t / limits["L1"],
                "exp/log": calls / t / limits["exp"],
                "divider": divisions / t / limits["div"],
            }
            rows.append(
                {
                    "dtype": np.dtype(real).name,
                    "section": section,
                    "flops": flops,
                    "bytes": elements * size,
                    "exp_log": calls,
                    "divisions": divisions,
                    "ns_per_sample_step": t * 1e9,
                    "compute_frac": use["compute"],
                    "l1_frac": use["L1 bandwidth"],
                    "exp_frac": use["exp/log"],
                    "div_frac": use["divider"],
                    "binds": max(use, key=use.get),
                    "peak_flops": limits["flops"],
                    "l1_bytes_s": limits["L1"],
                    "l2_bytes_s": limits["L2"],
                    "exp_per_s": limits["exp"],
                    "div_per_s": limits["div"],
                }
            )
    return pd.DataFrame(rows)


def floor_seconds(rows):
    """Seconds per sample-step on one core with every section at its binding limit
    (the rows of roofline_table for one dtype)."""
    return sum(
        max(r.flops / r.peak_flops, r.bytes / r.l1_bytes_s, r.exp_log / r.exp_per_s, r.divisions / r.div_per_s)
        for r in rows.itertuples()
    )


def deep_counts(n_in, hidden, n_out, batch, per_run=False, entries=8):
    """(flops, array elements read or written) per sample-step of the deep job (ReLU,
    softmax, cross-entropy, mean, SGD on mini-batches of `batch`).

    In the lane layout (kernels/deep.py): one run per SIMD lane; each hidden layer's
    weights read once per TILE samples on the way forward and once on the way back (but
    the first layer's: the inputs need no δ), its gradient read and written once per
    tile; the output layer's the same once per sample; per sample and unit a sum, an
    output and a δ written and read again; SGD reads w and g and writes w once per batch.

    In the per-run pass (kernels/per_run.py, per_run=True): the weights are read once per
    CHUNK samples, but the product loops of the sums and of δ below run over samples
    with their sums in memory: a pass adds GROUP products to each of BLOCK sums, so
    GROUP · BLOCK multiply-adds move GROUP inputs (shared by the BLOCK sums) and each
    sum read and written, (GROUP + 2 · BLOCK) / (GROUP · BLOCK) elements each (the
    remainders of widths not a multiple of BLOCK move more, left out). The gradient's
    sums stay in registers (vector.add_outer): a sample adds ROWS rows' vectors of
    `entries` numbers (8 float64, 16 float32) from one vector of inputs and ROWS δs,
    (entries + ROWS) / (ROWS · entries) elements a multiply-add, θ's among them. The softmax's and
    the loss's few operations per output are left out (10 outputs against ~38,000 weights)."""
    widths = [n_in, *hidden, n_out]
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    units = sum(widths[1:])
    P = weights + units
    back = weights - n_in * widths[1]  # δ back through w, but not to the inputs
    flops = (
        2 * weights
        + units  # forward: Σ w·y, − θ
        + 2 * weights
        + units  # ∂w += δ·y, ∂θ −= δ
        + 2 * back
        + (units - n_out)  # δ back through w, times a'(s)
        + 2 * P / batch  # w ← w − η g
    )
    elements = 5 * units + n_in + 3 * P / batch
    if per_run:
        per_product = (GROUP + 2 * BLOCK) / (GROUP * BLOCK)
        per_gradient = (entries + ROWS) / (ROWS * entries)
        return flops, elements + (weights + back) * per_product + P * per_gradient + 3 * P / CHUNK
    for layer, (fan_in, width) in enumerate(zip(widths, widths[1:])):
        down = fan_in * width if layer else 0
        elements += (3 * width * (fan_in + 1) + down) / (1 if layer == len(hidden) else TILE)
    return flops, elements


def deep_roofline_table(limits, hidden, batch, lanes, threads, engine_speed):
    """One row per dtype: the deep job's work per sample-step, its bounds on `threads`
    cores and the engine's measured rate against them. limits: roofline_table's rows
    (their peak_flops and l1_bytes_s per dtype); lanes: runs per block as the engine
    picks them. In the lane layout the weights and gradients of a block set the
    bandwidth that feeds the kernel (a triad over arrays that size); a block of one
    lane is the per-run pass, whose sums stream through L1 (the roofline's L1 triad);
    engine_speed: {dtype: sample-steps/s measured, or NaN}."""
    n_in, n_out = 64, 10
    per_run = lanes == 1
    P = Layout(n_in, tuple(hidden), n_out).size
    rows = []
    for real in (np.float64, np.float32):
        dtype, size = np.dtype(real).name, np.dtype(real).itemsize
        flops, elements = deep_counts(n_in, hidden, n_out, batch, per_run, VECTOR_BYTES // size)
        lim = limits[limits["dtype"] == dtype].iloc[0]
        block_bytes = 2 * P * lanes * size  # w and g of one block
        if per_run:
            bandwidth, what = lim.l1_bytes_s, "L1 bandwidth of the per-run pass's sums"
        else:
            x = np.ones(block_bytes // (2 * size), real)
            y = np.zeros_like(x)
            reps = max(1, int(2e8 // block_bytes))
            seconds = best_seconds(lambda x=x, y=y, reps=reps: triad_kernel(x, y, reps), 3)
            bandwidth, what = 3 * block_bytes / 2 * reps / seconds, "bandwidth of a block's w and g"
        compute, memory = threads * lim.peak_flops / flops, threads * bandwidth / (elements * size)
        measured = engine_speed.get(dtype, np.nan)
        rows.append(
            {
                "dtype": dtype,
                "flops": flops,
                "bytes": elements * size,
                "flops_per_byte": flops / (elements * size),
                "block_mb": np.nan if per_run else block_bytes / 2**20,
                "block_bytes_s": bandwidth,
                "compute_bound": compute,
                "memory_bound": memory,
                "layout": "per-run" if per_run else "lanes",
                "binds": "compute" if compute < memory else what,
                "engine": measured,
                "engine_of_bound": measured / min(compute, memory),
            }
        )
    return pd.DataFrame(rows)
