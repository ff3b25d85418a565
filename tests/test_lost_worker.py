"""A lost dask worker: on a real local cluster (worker processes under nannies,
as `--backend dask` starts them), a worker's process is killed (SIGKILL) with a
chunk in flight (tests/lost_worker.py, a worker preload).

Once: the scheduler gives the chunk to a live worker, the sweep finishes, every
run is in the tables once and the tables are byte-identical to a local sweep.
On every try (a chunk that kills any worker that runs it): each such chunk is
reported failed, the others are saved, and the same sweep run again once the
cause is gone finishes with the same tables."""

import dask
import lost_worker
import pandas as pd
import pytest
from experiment_files import TINY, csv_bytes

from engine.schema import CHUNK_TIMES
from engine.sweep import spec
from engine.sweep.driver import plan_chunks, sweep

pytestmark = pytest.mark.slow  # a cluster of worker processes, started and restarted
PRELOAD = lost_worker.__file__  # dask's preload takes a file's path


@pytest.fixture
def kill(tmp_path, monkeypatch):
    """A function that arms the kill ("once" or "always"); the kills' log after."""
    flag = tmp_path / "kill"
    monkeypatch.setenv(lost_worker.VARIABLE, str(flag))  # the worker processes inherit it
    return flag.write_text, tmp_path / "kills"


def test_a_worker_killed_mid_chunk_once_leaves_the_tables_as_a_local_sweep(small, tmp_path, kill):
    arm, kills = kill
    local = sweep(small, tmp_path / "local", quiet=True, chunk_runs=2)
    arm("once")
    with dask.config.set({"distributed.worker.preload": [PRELOAD]}):
        report = sweep(small, tmp_path / "dask", jobs=2, backend="dask", quiet=True, chunk_runs=2)
    assert len(kills.read_text().splitlines()) == 1  # one worker process died, a chunk in flight
    assert not report.failures and report.ran == local.ran == small.n_runs
    assert csv_bytes(tmp_path / "dask") == csv_bytes(tmp_path / "local")
    runs = pd.read_csv(tmp_path / "dask" / "runs.csv")
    assert len(runs) == small.n_runs and not runs.duplicated(["config", "seed"]).any()
    chunks = pd.read_csv(tmp_path / "dask" / CHUNK_TIMES)
    assert sorted(chunks["chunk"]) == [c.id for c in plan_chunks(small, 2)]


def test_a_chunk_that_kills_every_worker_is_reported_and_the_rerun_finishes(tmp_path, kill):
    arm, kills = kill
    tiny = spec.load(TINY)
    sweep(tiny, tmp_path / "local", quiet=True)
    arm("always")
    # no retry after a death, so each chunk fails at its first
    settings = {"distributed.worker.preload": [PRELOAD], "distributed.scheduler.allowed-failures": 0}
    with dask.config.set(settings):
        report = sweep(tiny, tmp_path / "dask", jobs=2, backend="dask", quiet=True)
        # the driver's traceback before: distributed.scheduler.KilledWorker from future.result()
        assert sorted(chunk.id for chunk, _ in report.failures) == [c.id for c in plan_chunks(tiny)]
        assert all(error.startswith("KilledWorker: ") for _, error in report.failures)
        assert not (tmp_path / "dask" / "runs.csv").exists()
        (tmp_path / "kill").unlink()  # the cause is gone
        again = sweep(tiny, tmp_path / "dask", jobs=2, backend="dask", quiet=True)
    assert kills.read_text()  # workers died
    assert not again.failures
    assert csv_bytes(tmp_path / "dask") == csv_bytes(tmp_path / "local")
