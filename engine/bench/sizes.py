"""How big each benchmark is: the full run of `make bench` and the CI-sized --quick."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    seeds: int  # convergence: seeds per optimizer × lr × problem
    budget: int  # convergence: epoch budget
    repeats: int  # throughput: timed calls per point
    rounds: int  # throughput: alternating rounds of the engine and JAX on the job, per dtype (their ratio's spread)
    job: tuple  # throughput: (runs, epochs, samples) every implementation trains
    runs_per_call: tuple  # engine scaling with runs per call ...
    work: float  # ... each point about this many sample-steps,
    max_epochs: int  # ... with at most this many epochs
    epochs: tuple  # engine scaling with epochs, at job's runs and samples
    parallel_job: tuple  # (runs, epochs, samples) for 1 or 2 threads or processes
    cold_compile: bool  # time a compilation from an empty cache (the slowest step of the bench)
    memory_of: tuple  # implementations whose peak memory is measured (None: all available)
    scale_runs: tuple  # scale: runs of each sweep of scale.toml's grid
    deep: tuple  # throughput: (runs, epochs, samples) of the deep job (engine.bench.deep), per dtype ...
    deep_rounds: int  # ... timed in this many alternating rounds
    tune_trials: int = 27  # convergence, tuned half: trials per optimizer (as experiments/default.toml)
    tune_seeds: int = 16  # ... and tuning seeds


FULL = Sizes(
    seeds=50,
    budget=2000,
    repeats=3,
    rounds=21,  # one call varies by ±25 % on a shared machine: a handful of rounds shows little
    job=(256, 500, 64),
    runs_per_call=(1, 10, 100, 1000, 10_000, 100_000),
    work=3e7,
    max_epochs=5000,
    epochs=(1, 10, 100, 1000, 3000),
    parallel_job=(512, 500, 64),
    cold_compile=True,
    memory_of=None,
    scale_runs=(10**4, 10**5, 10**6),
    deep=(64, 2, 256),  # 4 updates of mini-batches of 128 per run: about 40 s per dtype here
    deep_rounds=3,
)
QUICK = Sizes(
    seeds=3,
    budget=300,
    repeats=1,
    rounds=3,
    job=(64, 50, 64),
    runs_per_call=(1, 100, 1000),
    work=2e6,
    max_epochs=200,
    epochs=(1, 10, 50),
    parallel_job=(128, 50, 64),
    cold_compile=False,
    memory_of=("engine", "numpy_batched"),
    tune_trials=4,
    tune_seeds=2,
    scale_runs=(10**2, 10**3),
    deep=(8, 1, 256),
    deep_rounds=1,
)


class BenchError(RuntimeError):
    """An implementation ended at other losses than the engine, or a probe failed."""
