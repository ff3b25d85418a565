"""Arrays without a reference count, and views made without a helper call,
for the training loop's hot path (issue 22).

numba counts an array's references up and down (an atomic add on its
MemInfo) wherever a variable takes it: at every call's arguments, every
inlined helper's, every view and every tuple made of arrays. train_block
hands a block's ~40 arrays (Lanes, its Scratch) to a pass and a dozen
helpers every epoch, and a pass makes its views of them: for one run of a
small network that counting was a fifth of the time. An array whose MemInfo
pointer is null is not counted (numba's NRT_incref and NRT_decref return at
once), and its views and slices inherit the null pointer. So train_block
takes the arrays it holds as `borrowed` copies: the same data, shape and
strides, no MemInfo. A borrowed array must not outlive its owner: the owner
stays in a variable that is used after every use of the borrowed copy.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic


def _borrow(context, builder, ty, value):
    if isinstance(ty, types.Array):
        array = context.make_array(ty)(context, builder, value=value)
        array.meminfo = cgutils.get_null_value(array.meminfo.type)
        array.parent = cgutils.get_null_value(array.parent.type)
        return array._getvalue()
    if isinstance(ty, types.BaseTuple):
        items = [_borrow(context, builder, t, builder.extract_value(value, i)) for i, t in enumerate(ty)]
        return context.make_tuple(builder, ty, items)
    return value  # a number: nothing to count


def _countless(ty):
    """Whether ty is an array, a number, or a tuple of those (nothing else holds a count borrowed() can drop)."""
    if isinstance(ty, types.BaseTuple):
        return all(_countless(t) for t in ty)
    return isinstance(ty, (types.Array, types.Number, types.Boolean))


@intrinsic
def borrowed(typingctx, value):
    """value (an array, or a tuple of arrays and numbers, nested) with every
    array's MemInfo and parent pointer null: no reference counting, no
    ownership. The owner must stay alive while the copy is used."""
    if not _countless(value):
        return None

    def codegen(context, builder, sig, args):
        return _borrow(context, builder, sig.args[0], args[0])

    return value(value), codegen


@intrinsic
def matrix(typingctx, a, start, rows, cols):
    """Numbers start .. start + rows·cols − 1 of a C-contiguous array a, as a
    C-contiguous [rows, cols] view (a's MemInfo, counted as a view's). numba's
    reshape calls a C helper each time; the per-run pass makes ~20 views a pass."""
    if not (isinstance(a, types.Array) and a.layout == "C"):
        return None
    if not all(isinstance(t, types.Integer) for t in (start, rows, cols)):
        return None
    out = a.copy(ndim=2, layout="C")

    def codegen(context, builder, sig, args):
        src = context.make_array(a)(context, builder, value=args[0])
        view = context.make_array(out)(context, builder)
        first, n_rows, n_cols = (context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], sig.args[1:]))
        view.meminfo, view.parent, view.itemsize = src.meminfo, src.parent, src.itemsize
        view.data = builder.gep(src.data, [first])
        view.nitems = builder.mul(n_rows, n_cols)
        view.shape = cgutils.pack_array(builder, [n_rows, n_cols])
        view.strides = cgutils.pack_array(builder, [builder.mul(n_cols, src.itemsize), src.itemsize])
        value = view._getvalue()
        context.nrt.incref(builder, out, value)  # a new reference to a's MemInfo, as a view holds
        return value

    return out(a, start, rows, cols), codegen
