"""Subnormal numbers flushed to zero while the kernels run, and only then.

A saturated softmax (ReLU with a large step, say) drives δ = y − t and
everything computed from it towards e^−708 and below: subnormal numbers, on
which an x86 core takes a slow microcode path for every operation (such a
job ran at a tenth of the kernels' speed). With the MXCSR's flush-to-zero
(FTZ: a subnormal result becomes 0) and denormals-are-zero (DAZ: a subnormal
input reads as 0) bits set, the same job runs at full speed.

What it changes: only numbers that would have been subnormal (below
2.2e-308 in float64, 1.2e-38 in float32) become zero, and whatever they
feed. Every other number keeps its bits. It is deterministic and the same
on every thread, so a run's numbers still depend on nothing but its settings.

The bits are set by the thread that calls the kernel, around the call, and
restored afterwards: numpy and everything else on that thread see the
caller's MXCSR. On a CPU other than x86-64 nothing is changed (there the
kernels run with the platform's default, which keeps subnormals).
"""

import contextlib
import platform

import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

FTZ, DAZ = 1 << 15, 1 << 6
X86 = platform.machine().lower() in ("x86_64", "amd64")


def _mxcsr_call(builder, name, pointer):
    i8p = ir.IntType(8).as_pointer()
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p]), name)
    builder.call(fn, [builder.bitcast(pointer, i8p)])


@intrinsic
def _get_mxcsr(typingctx):
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.zext(builder.load(slot), ir.IntType(64))

    return types.int64(), codegen


@intrinsic
def _set_mxcsr(typingctx, value):
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        builder.store(builder.trunc(args[0], ir.IntType(32)), slot)
        _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.none(types.int64), codegen


@numba.njit(cache=True)
def get_mxcsr():
    return _get_mxcsr()


@numba.njit(cache=True)
def set_mxcsr(value):
    _set_mxcsr(value)


@contextlib.contextmanager
def flush_subnormals():
    """FTZ and DAZ on in this thread within, the caller's MXCSR restored after."""
    if not X86:
        yield
        return
    before = get_mxcsr()
    set_mxcsr(before | FTZ | DAZ)
    try:
        yield
    finally:
        set_mxcsr(before)
