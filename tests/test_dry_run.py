"""`nn47 sweep --dry-run`: the counts are those a sweep then trains, and nothing is written."""

from pathlib import Path

import pandas as pd
import pytest

from engine.cli import main
from engine.schema import FORMATS
from engine.sweep import spec
from engine.sweep.estimate import dry_run, tuning_runs
from engine.sweep.tune import tune_and_sweep

TUNE_TINY = Path(__file__).parent / "tune_tiny.toml"


def test_dry_run_writes_nothing_and_counts_the_runs(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(TUNE_TINY), "--dry-run", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    experiment = spec.load(TUNE_TINY)
    assert f"= {experiment.n_runs:,} runs" in text
    assert f"{tuning_runs(experiment)[1]:,} runs on {len(experiment.tune.seeds)} tuning seeds" in text
    assert not out.exists()


@pytest.mark.slow  # a tuned sweep
def test_the_tuning_runs_counted_are_those_trained(tmp_path):
    experiment = spec.load(TUNE_TINY)
    trials, runs, steps = tuning_runs(experiment)
    tune_and_sweep(experiment, tmp_path, quiet=True)
    rungs = [pd.read_csv(f / "runs.csv") for f in sorted((tmp_path / "tuning").glob("rung-*"))]
    assert runs == sum(len(r) for r in rungs)
    assert trials == len(pd.read_csv(tmp_path / "tuning.csv"))


def test_time_is_the_work_at_the_rate_given(tmp_path):
    experiment = spec.load(TUNE_TINY)
    seeds, n_train = len(experiment.seeds), experiment.data["n_train"]
    work = seeds * n_train * sum(c["epochs"] for c in experiment.configs) + tuning_runs(experiment)[2]
    lines = dry_run(experiment, chunk_runs=64, out=tmp_path / "out", tables=FORMATS, rate=1e6)
    assert f"time at most: {work / 1e6:,.0f} s at 1e+06 sample-steps/s" in "\n".join(lines)


@pytest.mark.parametrize("command", ["sweep", "tuned sweep"])
def test_a_chunk_larger_than_memory_is_refused_before_anything_is_written(tmp_path, capsys, command):
    # numpy failed to allocate the curves inside the worker: 10^10 epochs, a point at each
    text = "seeds = 10\nrecord_every = 1\n[settings]\nepochs = 10000000000\ntarget_loss = 0.1\n"
    if command == "tuned sweep":
        text += '[factors.optimizer]\nsgd = {}\n[tune]\nfactors = ["optimizer"]\ntrials = 2\n'
    (tmp_path / "huge.toml").write_text(text)
    assert main(["sweep", str(tmp_path / "huge.toml"), "--out", str(tmp_path / "out"), "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert "2 chunk(s) of 10 runs, each run's curve recorded every 1 epochs, need about" in err
    assert "use a larger record_every, a smaller --chunk-runs or fewer --jobs" in err
    assert not (tmp_path / "out").exists()
