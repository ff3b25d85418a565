"""The only module that reads numba's private internals, and the plain path
that does without them.

Two things are not in numba's public API:
- what its on-disk cache holds before anything is compiled (the cache's index),
  used to say "compiling the kernels" only when it will, and to compile the
  pass over samples in another process on a cold start (address.py);
- the address of a jitted function's C-callable wrapper, which hands that
  pass to the training loop by pointer.

The plain path, taken when NN47_PLAIN_NUMBA=1 or when a numba release has
moved these internals: the cache is taken to hold nothing (the message says
the kernels may compile), nothing compiles in another process, and the pass
is compiled with numba.cfunc, whose address is public. The numbers are the
same bit for bit (the same IR under the same flags); only a cold start is
slower. The numba version bound in pyproject.toml is the newest minor that
the tests, which run both paths, pass on.
"""

import os

import numba

from .config import OPTIONS


def _internals_present():
    """Whether this numba has the private names used below (checked, not assumed)."""
    from numba.core.caching import IndexDataCacheFile
    from numba.core.codegen import JITCodeLibrary

    return hasattr(IndexDataCacheFile, "_load_index") and hasattr(JITCodeLibrary, "get_pointer_to_function")


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
