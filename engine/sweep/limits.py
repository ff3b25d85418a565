"""What one chunk holds in memory, checked against the machine before a sweep
allocates it: a file whose learning curves would not fit (a large epoch budget
recorded at every epoch, say) is refused with the estimate and the knobs,
instead of numpy failing to allocate inside a worker."""

from ..model.data import machine_memory

CURVE_BYTES = 5 * 8  # a curve point: epoch and four numbers, in float64


def chunk_bytes(experiment, chunk_runs):
    """Bytes of one chunk's curves and final parameters (chunk_runs runs at most)."""
    points = max(config["epochs"] for config in experiment.configs) // experiment.record_every + 2
    return chunk_runs * (points * CURVE_BYTES + experiment.layout().size * 8)  # the widest network's


def check_memory(experiment, chunk_runs, jobs):
    """Refuse a sweep whose `jobs` chunks in flight would not fit in memory."""
    runs = min(chunk_runs, experiment.n_runs)
    need = jobs * chunk_bytes(experiment, runs)
    if need > machine_memory():
        raise ValueError(
            f"{experiment.path}: {jobs} chunk(s) of {runs:,} runs, each run's curve recorded every "
            f"{experiment.record_every:,} epochs, need about {need / 2**30:,.0f} GiB, more than this machine's "
            f"memory ({machine_memory() / 2**30:,.0f} GiB); use a larger record_every, a smaller --chunk-runs "
            "or fewer --jobs (nn47 sweep --dry-run shows what a file costs)"
        )
