"""The disk estimate a sweep checks before it starts, against the bytes real
sweeps write: `most` is 1.0 to 1.15 times them when every run trains to its
epoch budget, and they lie between `least` and `most` when runs stop sooner.
(The refusal on a filesystem too small is in test_full_disk.py.)"""

from pathlib import Path

import pytest
from experiment_files import SMALL, load

from engine.schema import CHUNKS, FORMATS
from engine.sweep import spec
from engine.sweep.disk import Need, check_disk, sweep_need
from engine.sweep.driver import disk_need, plan_chunks, sweep
from engine.sweep.tune import disk_need as planned_need
from engine.sweep.tune import tune_and_sweep

TUNE_TINY = Path(__file__).parent / "tune_tiny.toml"
MARGIN = 1.15  # most / bytes written, at most, when every run trains to its budget
# 600 runs; without a target every run trains to its 30 epochs (4 curve points each)
BUDGET = SMALL.replace("seeds = 5", "seeds = 100").replace("target_loss = 0.3\n", "")
SOONER = SMALL.replace("seeds = 5", "seeds = 100")  # most runs reach the target before epoch 30


def written(folder):
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


@pytest.mark.parametrize("tables", [("csv",), ("parquet",), FORMATS])
def test_most_is_what_a_sweep_to_the_budget_writes_within_the_margin(tmp_path, tables):
    experiment = load(tmp_path, BUDGET)
    need = disk_need(experiment, tmp_path / "out", 50, tables, block=1)
    report = sweep(experiment, tmp_path / "out", quiet=True, chunk_runs=50, tables=tables, keep_runs=True)
    assert (report.runs["epochs_run"] == 30).all()
    assert need.least < written(tmp_path / "out") <= need.most <= MARGIN * written(tmp_path / "out")


@pytest.mark.parametrize("tables", [("csv",), FORMATS])
def test_a_sweep_whose_runs_stop_sooner_writes_between_least_and_most(tmp_path, tables):
    experiment = load(tmp_path, SOONER)
    need = disk_need(experiment, tmp_path / "out", 50, tables, block=1)
    report = sweep(experiment, tmp_path / "out", quiet=True, chunk_runs=50, tables=tables, keep_runs=True)
    assert report.runs["converged"].mean() > 0.5
    assert need.least <= written(tmp_path / "out") <= need.most


@pytest.mark.slow  # a tuned sweep
def test_a_tuned_sweep_writes_between_least_and_most(tmp_path):
    experiment = spec.load(TUNE_TINY)
    need = planned_need(experiment, tmp_path / "out", 512, FORMATS, block=1)
    tune_and_sweep(experiment, tmp_path / "out", quiet=True)
    assert need.least <= written(tmp_path / "out") <= need.most


def test_a_resumed_sweep_counts_only_its_missing_shards(tmp_path):
    experiment = load(tmp_path, BUDGET)
    fresh = disk_need(experiment, tmp_path / "out", 50, FORMATS, block=1)
    sweep(experiment, tmp_path / "out", quiet=True, chunk_runs=50)
    shards = sorted((tmp_path / "out" / CHUNKS).glob("chunk-*"))
    for shard in shards[::2]:
        shard.unlink()
    # a file under a chunk's id but another hash (another chunking, file or kernel version) is not its shard
    shards[1].rename(shards[1].with_name(shards[1].name[: len("chunk-000000-")] + "0" * 16 + ".arrow"))
    resumed = disk_need(experiment, tmp_path / "out", 50, FORMATS, block=1)
    kept = sum(shard.stat().st_size for shard in shards[3::2])
    assert kept <= fresh.most - resumed.most <= MARGIN * kept  # the tables are written again, whole


def test_every_file_takes_whole_blocks(small):
    chunks = plan_chunks(small, 2)
    needs = [
        sweep_need(small, chunks, chunks, ("csv",), ["x"] * len(small.configs), 1, block) for block in (1, 1 << 20)
    ]
    files = len(chunks) + 3 + 2  # shards, tables, chunks.csv and the manifest
    assert needs[1].least == needs[1].most == files << 20 > needs[0].most


def test_a_sweep_is_refused_only_when_even_its_least_does_not_fit(small, tmp_path):
    need = Need(least=3 << 20, most=9 << 20, curves=6 << 20)
    assert check_disk(small, tmp_path, need, free=10 << 20) is None
    note = check_disk(small, tmp_path, need, free=5 << 20)
    assert "between about 3.0 MiB (every run stopping at once) and about 9.0 MiB if every run trains" in note
    assert "the same command finishes it once there is room" in note
    with pytest.raises(ValueError) as refused:
        check_disk(small, tmp_path, need, free=2 << 20)
    message = str(refused.value)
    assert message.startswith(f"{small.path}: the sweep would write about 3.0 MiB even if every run stopped")
    assert f"2.0 MiB free on the filesystem of {tmp_path}" in message
    assert "about 9.0 MiB if every run trains to its 30 epochs, 6.0 MiB of it learning curves" in message
    for knob in ("record_every", "--tables csv", "--chunk-runs", "fewer seeds", "--out"):
        assert knob in message
