"""Arrays without a reference count, for the training loop's hot path (issue 22).

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
