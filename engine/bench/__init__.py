"""Benchmarks: optimizer convergence, and the engine's throughput against
numpy, PyTorch and JAX trainers of the same job (`references`)."""
