"""nn47 bench scale in --quick mode: the sweeps and analyses run in fresh
processes and the table, figure and section agree with what is on disk.
No timing is asserted."""

import dataclasses
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from engine.bench import scale
from engine.bench.sizes import QUICK, BenchError
from engine.cli import main

ROOT = Path(__file__).parent.parent


def test_the_grid_is_scale_toml_with_other_seeds():
    ours = tomllib.loads(scale.grid(1))
    theirs = tomllib.loads((ROOT / "experiments" / "scale.toml").read_text())
    for doc in (ours, theirs):
        del doc["seeds"], doc["description"]
    assert ours == theirs


@pytest.mark.slow
def test_quick_scale_benchmark(tmp_path, capsys):
    assert main(["bench", "scale", "--quick", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "scale.csv")
    assert list(table.columns) == scale.SCALE_COLUMNS
    assert table["runs"].tolist() == [120, 1008]  # 24 configurations × ceil(target / 24) seeds
    for row in table.itertuples():
        folder = tmp_path / f"scale-{row.runs}"
        assert len(pd.read_csv(folder / "runs.csv")) == row.runs
        assert (folder / "report.md").exists()
        assert row.csv_bytes == sum((folder / f"{t}.csv").stat().st_size for t in ("runs", "curves", "params"))
        assert 0 < row.train_s and 0 < row.write_s and row.train_s + row.write_s <= row.sweep_s
        assert row.sweep_peak_rss_mb > 50 and row.analyze_peak_rss_mb > 50
    assert (tmp_path / "scale.png").stat().st_size > 10_000
    section = "\n".join(scale.scale_section(table, "scale.png"))
    assert "| 1,008 |" in section and "](scale.png)" in section


@pytest.mark.slow
def test_the_scale_study_run_twice_in_one_folder_trains_again(tmp_path):
    sizes = dataclasses.replace(QUICK, scale_runs=(24,))
    first, second = (scale.scale_table(tmp_path, sizes) for _ in range(2))
    assert (first["train_s"] > 0).all() and (second["train_s"] > 0).all()  # was 0 the second time: all resumed


def test_a_zero_time_is_an_error_naming_the_study(tmp_path, monkeypatch):
    monkeypatch.setattr(scale, "fresh", lambda script, *args: {"train_s": 0.0, "write_s": 0.1})
    with pytest.raises(BenchError, match="scale: the sweep of 24 runs .* measured train_s = 0.0"):
        scale.scale_row(24, tmp_path)
