"""Numba flags for every kernel, in one place.

- cache=True: compiled code is kept on disk (keyed on bytecode), so a warm
  start costs no compilation.
- error_model="numpy": division by zero gives inf/nan instead of raising,
  which keeps the checks out of the inner loops so they vectorise.
- fastmath only {"contract"}: a·b + c may become one FMA (about 1.2× faster).
  Full fastmath makes isnan() false (divergence goes unseen) and
  reassociation would make results depend on how runs are blocked.
  (Contraction is why blocks come in multiples of network.LANE_GRANULE.)

The on-disk cache is keyed on each function's bytecode, not on these flags:
after changing them, delete the *.nbi/*.nbc files under engine/kernels/__pycache__.
"""
import numba

OPTIONS = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract"})

jit = numba.njit(**OPTIONS)
jit_parallel = numba.njit(parallel=True, **OPTIONS)
