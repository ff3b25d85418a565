"""Numba flags for every kernel, in one place.

- cache=True: compiled code is kept on disk (keyed on bytecode), so a warm
  start costs no compilation.
- error_model="numpy": division by zero gives inf/nan instead of raising,
  which keeps the checks out of the inner loops so they vectorise.
- no fastmath: full fastmath makes isnan() false (divergence goes unseen) and
  reassociation would make results depend on how runs are blocked.
"""
import numba

OPTIONS = dict(cache=True, error_model="numpy", nogil=True)

jit = numba.njit(**OPTIONS)
jit_parallel = numba.njit(parallel=True, **OPTIONS)
