"""Numba flags for every kernel, in one place.

- cache=True: compiled code is kept on disk (keyed on bytecode), so a warm
  start costs no compilation.
- error_model="numpy": division by zero gives inf/nan instead of raising,
  which keeps the checks out of the inner loops so they vectorise.
- no fastmath, not even {"contract"}: every operation rounds as IEEE says, so
  a run's bits cannot depend on how LLVM compiled the code around it. FMA
  contraction was measured 1.2× faster, but it made results differ between
  a vectorised loop body and its scalar remainder, and between a kernel just
  compiled and the same kernel loaded from the cache (inlining decides what
  gets fused). Full fastmath also makes isnan() false (divergence unseen).

The on-disk cache is keyed on each function's own file, not on these flags
nor on the files it calls; cache.py empties it whenever a kernel source changes.
"""
import numba

OPTIONS = dict(cache=True, error_model="numpy", nogil=True)   # nogil: blocks run on Python threads

jit = numba.njit(**OPTIONS)
# For the small functions called once per sample: inlined in numba's IR, so
# no call passes a tuple of arrays (with a reference count each) per sample;
# twice as fast for a few runs per call, a tenth faster for hundreds.
jit_inline = numba.njit(inline="always", **OPTIONS)
