"""numba only: counter-based random numbers, fast exp/log, one sample across
many runs (SIMD lanes), the optimizers, and the training loop."""
