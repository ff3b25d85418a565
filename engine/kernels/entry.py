"""The kernels as training.py sees them: one call trains blocks of runs on
threads, with subnormals flushed to zero (fpenv.py); the pass handed over by
address, numba's cache and the cold-start compilation stay behind it."""

import functools
from concurrent.futures import ThreadPoolExecutor

from . import cache
from .address import pass_address
from .fpenv import flush_subnormals
from .network import LANES, Net
from .numba_internals import cached_args
from .train import TRACE_W, Plan, run_pass, train_block

__all__ = ["LANES", "TRACE_W", "Net", "Plan", "compile_seconds", "compiled", "note_compile_seconds", "train_blocks"]


@functools.cache
def fresh_cache():
    """Once per process, before the first kernel call: empty numba's cache if a
    kernel source changed (see cache.py). rng.normals, which initial_params
    may call first, reads only its own file, which numba checks."""
    cache.drop_stale([train_block, run_pass])


def compiled(dtype):
    """Whether numba's on-disk cache holds the training kernels for `dtype`
    (False where that cannot be known: numba_internals' plain path)."""
    fresh_cache()
    held = cached_args(train_block)
    return pass_address(dtype).cached() and any(f"Array({dtype}, 2, 'C'" in str(args) for args in held or ())


def compile_seconds(dtype):
    """Seconds the last compilation of `dtype`'s kernels took on this machine, or None."""
    return cache.compile_seconds(train_block, dtype)


def note_compile_seconds(dtype, seconds):
    cache.note_compile_seconds(train_block, dtype, seconds)


def train_blocks(net, plan, data, decayed, blocks, threads):
    """Train every block: `blocks` is (params, hyper, seeds, params_out, stats,
    curves, trace), each [blocks, ..., lanes]; block k trains in place on the
    k-th of each (train.train_block). A free thread takes the next block."""
    fresh_cache()
    pass_fn = pass_address(blocks[0].dtype.name)
    pass_fn.compile_elsewhere()  # on a cold start, while this process compiles train_block
    n_blocks = blocks[0].shape[0]

    def block(k):
        with flush_subnormals():  # per thread, restored after: see fpenv.py
            train_block(pass_fn, net, plan, data, *(a[k] for a in blocks[:3]), decayed, *(a[k] for a in blocks[3:]))

    if threads == 1 or n_blocks == 1:
        for k in range(n_blocks):
            block(k)
    else:  # train_block releases the GIL
        with ThreadPoolExecutor(min(threads, n_blocks)) as pool:
            list(pool.map(block, range(n_blocks)))
