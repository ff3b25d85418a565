"""The only module that reads numba's private internals, and the plain path
that does without them.

Three things are not in numba's public API:
- what its on-disk cache holds before anything is compiled (the cache's index),
  used to say "compiling the kernels" only when it will, and to compile the
  pass over samples in another process on a cold start (address.py);
- the address of a jitted function's C-callable wrapper, which hands that
  pass to the training loop by pointer;
- the compiler's `noalias` flag (LLVM's noalias on every pointer argument),
  which spares the lane pass's loops their run-time overlap checks (`unaliased`).

The plain path, taken when NN47_PLAIN_NUMBA=1 or when a numba release has
moved these internals: the cache is taken to hold nothing (the message says
the kernels may compile), nothing compiles in another process, and the pass
is compiled with numba.cfunc, whose address is public, and without noalias.
The numbers are the same bit for bit (the same IR; noalias changes which
loops run in vectors, not what they compute); only a cold start and the lane
pass are slower. The numba version bound in pyproject.toml is the newest minor that
the tests, which run both paths, pass on.
"""

import os

import numba

from .config import OPTIONS


def _internals_present():
    """Whether this numba has the private names used below (checked, not assumed)."""
    from numba.core.caching import IndexDataCacheFile
    from numba.core.codegen import JITCodeLibrary
    from numba.core.compiler import Flags
    from numba.core.dispatcher import _FunctionCompiler

    return (
        hasattr(IndexDataCacheFile, "_load_index")
        and hasattr(JITCodeLibrary, "get_pointer_to_function")
        and hasattr(_FunctionCompiler, "_customize_flags")
        and "noalias" in Flags.options
    )


def _use_internals():
    if os.environ.get("NN47_PLAIN_NUMBA") == "1":
        return False
    try:
        return _internals_present()
    except ImportError:
        return False


INTERNALS = _use_internals()


def cached_args(dispatcher):
    """The argument types of every specialisation of this jitted function that
    numba's on-disk cache holds; None where that cannot be known (plain path)."""
    if not INTERNALS:
        return None
    index = dispatcher._cache._cache_file._load_index()
    # keyed by the signature, or by the argument types alone (numba 0.60)
    return [tuple(getattr(key[0], "args", key[0])) for key in index]


def wrapper_address(dispatcher, sig):
    """The address of the C-callable wrapper of `dispatcher` compiled for `sig`
    (compiled here, or loaded from the cache)."""
    if INTERNALS:
        compiled = dispatcher.get_compile_result(sig)
        return compiled.library.get_pointer_to_function(compiled.fndesc.llvm_cfunc_wrapper_name)
    options = {k: v for k, v in OPTIONS.items() if k != "nogil"}  # a cfunc holds no GIL to release
    return numba.cfunc(sig, **options)(dispatcher.py_func).address


def unaliased(dispatcher):
    """`dispatcher` (not yet compiled), to be compiled with LLVM's noalias on its
    pointer arguments (arrays' data, their reference counts): its callers promise
    that memory written through one argument is reached through no other. Then
    LLVM knows that a lane loop's stores to one array cannot change what it loads
    from another, and vectorises it without run-time checks of their addresses.
    Plain path: unchanged."""
    if INTERNALS:
        compiler = dispatcher._compiler
        customize = compiler._customize_flags

        def without_aliasing(flags):
            flags = customize(flags)
            flags.noalias = True
            return flags

        compiler._customize_flags = without_aliasing
    return dispatcher
