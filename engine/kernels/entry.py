"""The kernels as training.py sees them: one call trains blocks of runs on
threads, with subnormals flushed to zero (fpenv.py); the pass handed over by
address, numba's cache and the cold-start compilation stay behind it."""

import functools
from concurrent.futures import wait

import numba
import numpy as np

from . import cache
from .address import pass_address
from .deep import deep_pass
from .fpenv import flush_subnormals
from .network import LANES, Net, make_net
from .numba_internals import cached_args
from .per_run import per_run_pass
from .threads import helpers
from .train import ALONE, TRACE_W, Plan, run_pass, train_block

__all__ = [
    "ALONE",
    "LANES",
    "TRACE_W",
    "Net",
    "Plan",
    "make_net",
    "compile_seconds",
    "compiled",
    "note_compile_seconds",
    "train_blocks",
]


@functools.cache
def fresh_cache():
    """Once per process, before the first kernel call: empty numba's cache if a
    kernel source changed (see cache.py). rng.normals, which initial_params
    may call first, reads only its own file, which numba checks."""
    cache.drop_stale([train_block, run_pass, deep_pass, per_run_pass])


def compiled(dtype, deep=False):
    """Whether numba's on-disk cache holds the training kernels for `dtype` (the
    lane pass of several hidden layers if deep, and the per-run pass), False
    where that cannot be known (numba_internals' plain path)."""
    fresh_cache()
    held = cached_args(train_block)
    passes = pass_address(dtype, deep).cached() and pass_address(dtype, per_run=True).cached()
    return passes and any(f"Array({dtype}, 2, 'C'" in str(args) for args in held or ())


def compile_seconds(dtype):
    """Seconds the last compilation of `dtype`'s kernels took on this machine, or None."""
    return cache.compile_seconds(train_block, dtype)


def note_compile_seconds(dtype, seconds):
    cache.note_compile_seconds(train_block, dtype, seconds)


def train_blocks(net, plan, data, decayed, queues, lanes, threads, alone):
    """Train every queue of runs: `queues` holds one (params, hyper, seeds,
    params_out, stats, curves, trace) per queue, each [..., runs of the queue];
    each queue trains in place, `lanes` runs at a time (train.train_block): one
    lane is the per-run pass's (samples in the vector, per_run.py), more the
    lane pass's, and a queue's last `alone` runs (train.ALONE, or 0) train
    alone on the per-run pass. A free thread takes the next queue. Returns
    the lane-epochs computed."""
    fresh_cache()
    dtype, deep = queues[0][0].dtype.name, bool(net.depth > 1)
    pass_fn = pass_address(dtype, deep, lanes == 1)
    one_fn = pass_address(dtype, deep, True) if alone and lanes > 1 else pass_fn
    for fn in {pass_fn, one_fn}:  # on a cold start, while this process compiles train_block
        fn.compile_elsewhere()
    lanes, alone = np.int64(lanes), np.int64(alone)

    def block(queue):
        with flush_subnormals():  # per thread, restored after: see fpenv.py
            w0, hyper, seeds, *out = queue
            return train_block(pass_fn, one_fn, net, plan, data, w0, hyper, seeds, decayed, *out, lanes, alone)

    if threads == 1 or len(queues) == 1:
        return sum(block(q) for q in queues)
    # this thread takes the first queue, helpers the others (train_block releases the GIL); at
    # most `threads` queues, so at most `threads` train at once. Should this thread's queue fail,
    # the others still finish before the error is raised: their arrays are the caller's.
    others = [helpers(numba.config.NUMBA_NUM_THREADS - 1).submit(block, q) for q in queues[1:]]
    try:
        mine = block(queues[0])
    finally:
        wait(others)
    return mine + sum(f.result() for f in others)
