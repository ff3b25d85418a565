"""Numba flags for every kernel, in one place.

- cache=True: compiled code is kept on disk (keyed on bytecode), so a warm
  start costs no compilation.
- error_model="numpy": division by zero gives inf/nan instead of raising,
  which keeps the checks out of the inner loops so they vectorise.
- no fastmath, not even {"contract"}: every operation rounds as IEEE says, so
  a run's bits cannot depend on how LLVM compiled the code around it. FMA
  contraction was faster (docs/performance.md), but it made results differ between
  a vectorised loop body and its scalar remainder, and between a kernel just
  compiled and the same kernel loaded from the cache (inlining decides what
  gets fused). Full fastmath also makes isnan() false (divergence unseen).
  A multiply-add asked for by name (fastmath.fma, rounded once) is another
  matter: it is one operation wherever it runs, so exp and log use it.

The on-disk cache is keyed on each function's own file, not on these flags
nor on the files it calls; cache.py empties it whenever a kernel source changes.
"""

import numba

OPTIONS = dict(cache=True, error_model="numpy", nogil=True)  # nogil: blocks run on Python threads

jit = numba.njit(**OPTIONS)
# Inlined in numba's IR. For the small functions called once per sample: no
# call passes a tuple of arrays (with a reference count each) per sample, which
# matters most for a few runs per call (docs/performance.md). For the helpers
# of train_block: numba compiles each jitted function on its own and again inside
# every caller (it links the callee's code into the caller's module), so a
# helper inlined is compiled once, and a cold start is shorter.
jit_inline = numba.njit(inline="always", **OPTIONS)
