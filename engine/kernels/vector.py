"""Sums of outer products in explicit SIMD vectors, for the per-run pass's
gradients (per_run.py).

A gradient entry g_ij = Σ_s δ_i,s x_j,s is summed sample after sample (the
lane passes' order, so both passes give the same bits): a chain of b
dependent additions. Written as loops, the chains of a row (its inputs j)
run side by side only where LLVM's loop vectoriser takes the row, and it
takes four vectors a pass (32 float64 entries): the 12-3-2 network's rows
of 13 and 4 entries ran in scalar code (0.23 µs of a 1.5 µs pass over 64
samples, Zen 5). Here a row is taken a vector of VECTOR_BYTES (8 float64, 16
float32 entries) at a time, held in a register for the whole sum, four rows
side by side.

Each step rounds as the loops did: the product, then the sum (no fused
multiply-add); θ's entry takes the input −1, and s + δ·(−1) = s − δ exactly
(NaN where either is NaN, though not always the same NaN).
A vector is as wide as a cache line on every CPU: LLVM splits it where the
machine's registers are narrower, which changes no result.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

VECTOR_BYTES = 64
ROWS = 4  # rows summed side by side: four chains hide an addition's latency


def entries(dtype):
    """Entries of one vector of numbers of a numba float type."""
    return VECTOR_BYTES * 8 // dtype.bitwidth


@intrinsic
def add_outer(typingctx, acc, at, step, rows, d, d_at, d_step, x, x_at, x_step, b):
    """For k < rows (1 to ROWS) and v < one vector's entries:
    acc[at + k·step + v] += d[d_at + k·d_step + s] · x[x_at + s·x_step + v],
    s = 0, 1, …, b − 1 in order, each step rounded as written. acc, d, x: C-contiguous
    1-d arrays of one float type, each read and written whole vectors (pad the rows)."""
    arrays, counts = (acc, d, x), (at, step, rows, d_at, d_step, x_at, x_step, b)
    if not all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" for a in arrays):
        return None
    if not (isinstance(acc.dtype, types.Float) and acc.dtype == d.dtype == x.dtype):
        return None
    if not all(isinstance(c, types.Integer) for c in counts):
        return None
    width = entries(acc.dtype)

    def codegen(context, builder, sig, args):
        real = context.get_value_type(acc.dtype)
        vec = ir.VectorType(real, width)
        align = acc.dtype.bitwidth // 8
        acc_p, d_p, x_p = (context.make_array(sig.args[i])(context, builder, value=args[i]).data for i in (0, 4, 7))
        at_, step_, rows_, d_at_, d_step_, x_at_, x_step_, b_ = (
            context.cast(builder, args[i], sig.args[i], types.intp) for i in (1, 2, 3, 5, 6, 8, 9, 10)
        )
        one = ir.Constant(at_.type, 1)

        def vector_at(base, index):
            return builder.bitcast(builder.gep(base, [index]), vec.as_pointer())

        # rows past `rows` repeat the last row: the same sums, stored twice (no branch)
        last = builder.sub(rows_, one)
        ks = [builder.select(builder.icmp_signed("<", ir.Constant(at_.type, k), rows_), ir.Constant(at_.type, k), last)
              for k in range(ROWS)]  # fmt: skip
        rows_at = [builder.add(at_, builder.mul(k, step_)) for k in ks]
        d_rows = [builder.add(d_at_, builder.mul(k, d_step_)) for k in ks]
        sums = [cgutils.alloca_once(builder, vec) for _ in range(ROWS)]  # registers, once promoted
        for total, where in zip(sums, rows_at):
            builder.store(builder.load(vector_at(acc_p, where), align=align), total)
        zero = ir.Constant(vec, None)
        lanes = ir.Constant(ir.VectorType(ir.IntType(32), width), None)  # shuffle mask: lane 0 everywhere
        with cgutils.for_range(builder, b_) as loop:
            s = loop.index
            xv = builder.load(vector_at(x_p, builder.add(x_at_, builder.mul(s, x_step_))), align=align)
            for total, d_row in zip(sums, d_rows):
                ds = builder.load(builder.gep(d_p, [builder.add(d_row, s)]))
                splat = builder.shuffle_vector(
                    builder.insert_element(zero, ds, ir.Constant(ir.IntType(32), 0)), zero, lanes
                )
                builder.store(builder.fadd(builder.load(total), builder.fmul(splat, xv)), total)
        for total, where in zip(sums, rows_at):
            builder.store(builder.load(total), vector_at(acc_p, where), align=align)
        return context.get_dummy_value()

    return types.none(*([acc, at, step, rows, d, d_at, d_step, x, x_at, x_step, b])), codegen
