"""run_pass handed to train_block by its address, so that a cold start compiles
the two at once, in two processes.

numba compiles a jitted function on its own, then again inside each caller
that calls it by name (it links the callee's LLVM IR into the caller's module,
optimises it and emits its machine code anew), and it cannot compile a caller
before its callees. Passed as a first-class function (numba's FunctionType),
run_pass is called through a pointer instead: train_block is typed from
run_pass's signature alone, and its machine code holds no copy of it. On a
cold start another process compiles run_pass into numba's cache while this
one compiles train_block, each about half of the work; this one then loads
run_pass from the cache.
"""

import functools
import inspect
import os
import subprocess
import sys
import threading
import warnings

import numba
import numba.experimental.function_type  # noqa: F401  (FunctionType's data model and calls)
import numpy as np
from numba.core import types
from numba.extending import typeof_impl

from .deep import deep_pass
from .network import make_net, scratch
from .numba_internals import INTERNALS, cached_args, wrapper_address
from .per_run import per_run_pass
from .train import Plan, run_pass


def pass_signature(dtype):
    """numba's signature of run_pass as train_block calls it, for reals of
    `dtype`: the types of one example of each parameter, by name, made as
    train_block makes them (arrays C-contiguous, counts int64)."""
    real, count = np.dtype(dtype), np.int64(0)
    net = make_net((1, 1, 1), 0, 0, 0)
    matrix, vector = np.empty((1, 1), real), np.empty(1, real)
    example = dict(
        net=net,
        plan=Plan(1, 1, 1, 1, 1, True, True, True, 1.0),
        w=matrix,
        X=matrix,
        T=matrix,
        labels=np.empty(1, np.int64),
        order=np.empty((1, 1), np.int64),
        start=count,
        stop=count,
        hyper=matrix,
        seeds=np.empty(1, np.uint64),
        epochs=np.empty(1, np.int64),
        keep=vector,
        mode=count,
        buf=scratch.py_func(net, 1, real),
        g=matrix,
        e=vector,
        correct=np.empty(1),  # hits: float64 whatever the dtype
        alive=matrix,
    )
    names = tuple(inspect.signature(run_pass.py_func).parameters)
    assert tuple(example) == names, f"run_pass's parameters changed: {names}"
    return types.none(*map(numba.typeof, example.values()))


class PassAddress(types.WrapperAddressProtocol):
    """run_pass (deep_pass for several hidden layers, per_run_pass for a block
    of one lane: the same signature) compiled for one dtype, as an argument that
    train_block calls through a pointer (numba asks for the pointer at every
    call; it is looked up once)."""

    def __init__(self, dtype, deep=False, per_run=False):
        self.dtype = np.dtype(dtype).name
        self.deep = deep
        self.per_run = per_run
        self.function = per_run_pass if per_run else deep_pass if deep else run_pass
        self.sig = pass_signature(self.dtype)
        self.type = types.FunctionType(self.sig)
        self.address = None
        self.elsewhere = None  # the process compiling run_pass into the cache, if one was started
        self.lock = threading.Lock()

    def signature(self):
        return self.sig

    def cached(self):
        """Whether numba's on-disk cache holds run_pass for this dtype (False where unknown)."""
        held = cached_args(self.function)
        return held is not None and self.sig.args in held

    def compile_elsewhere(self):
        """If run_pass is neither compiled here nor cached, start compiling it in
        another process, to be loaded from the cache when train_block first
        calls it: this process meanwhile compiles train_block."""
        with self.lock:
            busy = self.address is not None or self.elsewhere is not None
            if not INTERNALS or not sys.executable or busy or self.cached():
                return
            code = (
                "from engine.kernels.address import pass_address; "
                f"pass_address({self.dtype!r}, {self.deep!r}, {self.per_run!r}).__wrapper_address__()"
            )
            # the same modules as here, whatever put them on sys.path
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
            self.elsewhere = subprocess.Popen(
                [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )

    def __wrapper_address__(self):
        """The address of run_pass's C-callable wrapper: waits for the other
        process if one compiles it, then loads it (or compiles it here)."""
        with self.lock:
            if self.address is None:
                if self.elsewhere is not None:
                    _, err = self.elsewhere.communicate()
                    if self.elsewhere.returncode:
                        warnings.warn(
                            f"run_pass did not compile in another process (exit status "
                            f"{self.elsewhere.returncode}), so it compiles here:\n{err[-2000:]}",
                            stacklevel=2,
                        )
                self.address = wrapper_address(self.function, self.sig)
            return self.address


@typeof_impl.register(PassAddress)
def typeof_pass_address(val, c):
    """Its numba type, made once: numba types every argument at every call."""
    return val.type


def pass_address(dtype, deep=False, per_run=False):
    """The PassAddress of `dtype` (a name of options.DTYPES) and depth (deep:
    more than one hidden layer), or of the per-run pass (any depth), one per process."""
    return _pass_address(np.dtype(dtype).name, bool(deep) and not per_run, bool(per_run))


@functools.cache
def _pass_address(dtype, deep, per_run):
    return PassAddress(dtype, deep, per_run)
