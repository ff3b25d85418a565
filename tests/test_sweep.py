"""The sweep driver: chunking, tables, determinism across backends, resume
after a crash, failures, and the command line."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from experiment_files import SMALL, TINY, csv_bytes

from engine.cli import main
from engine.sweep import driver as sweep_module
from engine.sweep import spec
from engine.sweep.driver import plan_chunks, sweep


def test_chunks_share_call_settings_and_cover_every_run_once(small):
    chunks = plan_chunks(small, chunk_runs=4)
    runs = [(c, s) for chunk in chunks for c, s in zip(chunk.configs, chunk.seeds)]
    assert sorted(runs) == [(c, s) for c in range(len(small.configs)) for s in small.seeds]
    for chunk in chunks:
        assert len(chunk.seeds) <= 4
        keys = {sweep_module.call_key(small.configs[c], small.labels) for c in chunk.configs}
        assert len(keys) == 1
    # the two sgd learning rates share calls: lr is a per-run number
    assert any(len(set(chunk.hyper["lr"])) == 2 for chunk in plan_chunks(small))
    assert [c.id for c in chunks] == list(range(len(chunks)))


def test_inits_share_calls_and_chunks_are_even(tmp_path):
    experiment = spec.load(Path(__file__).parents[1] / "experiments" / "default.toml")
    chunks = plan_chunks(experiment)
    assert all(len(set(chunk.hyper["init"])) == 2 for chunk in chunks)  # init sets params0 alone
    # 36 groups (activation x optimizer x dropout or not) of 2 x 100 or 4 x 100 runs, one chunk each
    assert sorted({len(c.seeds) for c in chunks}) == [200, 400] and len(chunks) == 36
    sizes = [len(c.seeds) for c in plan_chunks(experiment, chunk_runs=150)]
    assert set(sizes) == {134, 133, 100}  # 400 -> 3 chunks of 133-134, 200 -> 2 of 100, not 150 + 50


def test_tables_have_a_row_per_run_with_every_setting(small, tmp_path):
    report = sweep(small, tmp_path / "out", quiet=True, chunk_runs=7)
    assert not report.failures and report.ran == small.n_runs == 30
    assert 0 < report.train_seconds and 0 < report.write_seconds
    # train_seconds is summed over chunks, which may train side by side on threads
    assert report.write_seconds <= report.seconds and report.train_seconds <= report.seconds * sweep_module.in_flight(1)
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert len(runs) == 30 and list(runs[["config", "seed"]].itertuples(index=False)) == [
        (c, s) for c in range(6) for s in range(5)
    ]
    for column in (
        "optimizer",
        "lr",
        "regularization",
        "dropout",
        "n_train",
        "data_seed",
        "train_loss",
        "epochs_to_target",
        "converged",
        "diverged",
        "dead_units",
    ):
        assert column in runs.columns
    assert (runs.batch_size == 8).all()
    assert runs.groupby("config").lr.first().tolist() == [0.5, 0.5, 2.0, 2.0, 0.05, 0.05]
    curves = pd.read_csv(tmp_path / "out" / "curves.csv")
    assert set(curves.groupby(["config", "seed"]).size().index) == set(runs.set_index(["config", "seed"]).index)
    params = pd.read_csv(tmp_path / "out" / "params.csv")
    assert params.shape == (30, 2 + 47) and params.columns[2] == "w_11^O"


@pytest.mark.slow
def test_same_tables_whatever_the_jobs_and_backend(small, tmp_path):
    reference = sweep(small, tmp_path / "serial", quiet=True, chunk_runs=4)
    assert not reference.failures
    for name, kwargs in {
        "loky2": dict(jobs=2),
        "threads": dict(jobs=2, backend="threading"),
        "dask": dict(jobs=2, backend="dask"),
        "big_chunks": dict(chunk_runs=512),
    }.items():
        report = sweep(small, tmp_path / name, quiet=True, **{"chunk_runs": 4, **kwargs})
        assert not report.failures
        assert csv_bytes(tmp_path / name) == csv_bytes(tmp_path / "serial"), name


def test_chunks_side_by_side_on_threads_give_the_tables_of_one_call_at_a_time(small, tmp_path, monkeypatch):
    # jobs 1 with numba's two threads: 10 chunks of at most 4 runs go a chunk per thread (each call on one
    # thread), or one at a time with their blocks split across both (fewer chunks than SIDE_BY_SIDE per
    # thread); with one numba thread, one at a time
    taken = []

    def run_chunk(chunk, threads=1):
        taken.append((threads, threading.get_ident()))
        return real_run_chunk(chunk, threads)

    real_run_chunk = sweep_module.run_chunk
    monkeypatch.setattr(sweep_module, "run_chunk", run_chunk)
    monkeypatch.setattr(sweep_module, "thread_count", lambda n: 2)
    assert not sweep(small, tmp_path / "side_by_side", quiet=True, chunk_runs=4).failures
    assert {threads for threads, _ in taken} == {1} and len(taken) == len(plan_chunks(small, 4)) == 10
    assert threading.get_ident() not in {ident for _, ident in taken}
    taken.clear()
    monkeypatch.setattr(sweep_module, "SIDE_BY_SIDE", 6)
    assert not sweep(small, tmp_path / "shared", quiet=True, chunk_runs=4).failures
    assert set(taken) == {(None, threading.get_ident())}  # None: numba's thread count, 2 here
    monkeypatch.setattr(sweep_module, "thread_count", lambda n: 1)
    taken.clear()
    assert not sweep(small, tmp_path / "one_thread", quiet=True, chunk_runs=4).failures
    assert {ident for _, ident in taken} == {threading.get_ident()}
    for name in ("shared", "one_thread"):
        assert csv_bytes(tmp_path / name) == csv_bytes(tmp_path / "side_by_side"), name


def test_resume_finishes_only_missing_chunks_and_gives_the_same_tables(small, tmp_path):
    out = tmp_path / "out"
    sweep(small, out, quiet=True, chunk_runs=4)
    whole = csv_bytes(out)
    shards = sorted((out / "chunks").glob("chunk-*.arrow"))
    # what a kill -9 leaves: some finished shards, a torn temporary file, no tables
    for shard in shards[1::2]:
        shard.unlink()
    (out / "chunks" / f".{shards[1].name}.abc.tmp").write_bytes(b"torn")
    for table in ("runs.csv", "curves.csv", "params.csv"):
        (out / table).unlink()
    report = sweep(small, out, quiet=True, chunk_runs=4)
    assert report.ran == sum(len(c.seeds) for c in plan_chunks(small, 4)[1::2])
    assert csv_bytes(out) == whole


@pytest.mark.slow
def test_a_killed_sweep_run_again_ends_with_the_uninterrupted_tables(tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(SMALL.replace("seeds = 5", "seeds = 40").replace("epochs = 30", "epochs = 400"))
    command = [sys.executable, "-m", "engine.cli", "sweep", str(path), "--quiet", "--chunk-runs", "2"]
    killed = subprocess.Popen(command + ["--out", str(tmp_path / "killed")])
    chunks = tmp_path / "killed" / "chunks"
    while killed.poll() is None and len(list(chunks.glob("chunk-*.arrow"))) < 3:
        time.sleep(0.005)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert len(list(chunks.glob("chunk-*.arrow"))) < 120 and not (tmp_path / "killed" / "runs.csv").exists()
    subprocess.run(command + ["--out", str(tmp_path / "killed")], check=True)
    subprocess.run(command + ["--out", str(tmp_path / "whole")], check=True)
    assert csv_bytes(tmp_path / "killed") == csv_bytes(tmp_path / "whole")


def test_a_failing_chunk_does_not_stop_the_others(small, tmp_path, monkeypatch, capsys):
    real_train = sweep_module.train

    def train(*args, **kwargs):
        if kwargs["optimizer"] == "adam":
            raise RuntimeError("simulated failure")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "train", train)
    code = main(["sweep", str(small.path), "--out", str(tmp_path / "out"), "--quiet", "--chunk-runs", "5"])
    err = capsys.readouterr().err
    assert code == 1 and "simulated failure" in err and "optimizer=adam" in err
    assert not (tmp_path / "out" / "runs.csv").exists()
    saved = len(list((tmp_path / "out" / "chunks").glob("chunk-*.arrow")))
    assert saved == 4  # the sgd chunks (2 lrs x 2 regularisations x 5 seeds / 5)
    monkeypatch.setattr(sweep_module, "train", real_train)
    assert main(["sweep", str(small.path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert len(pd.read_csv(tmp_path / "out" / "runs.csv")) == 30


def test_another_experiment_is_refused_unless_overwrite(small, tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["sweep", str(small.path), "--out", out, "--quiet"]) == 0
    assert main(["sweep", str(TINY), "--out", out, "--quiet"]) == 2
    assert "holds the results of" in capsys.readouterr().err
    assert main(["sweep", str(TINY), "--out", out, "--quiet", "--overwrite"]) == 0
    assert len(pd.read_csv(Path(out) / "runs.csv")) == 6


def test_a_changed_file_or_a_manifest_not_an_object_is_named(small, tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["sweep", str(small.path), "--out", out, "--quiet"]) == 0
    Path(small.path).write_text(small.text.replace("seeds = 5", "seeds = 4"))
    assert main(["sweep", str(small.path), "--out", out, "--quiet"]) == 2
    assert f"holds the results of an earlier version of {small.path} (sha256" in capsys.readouterr().err
    (Path(out) / "manifest.json").write_text("[]")  # an AttributeError's traceback before
    assert main(["sweep", str(small.path), "--out", out, "--quiet"]) == 2
    assert "holds the results of a manifest that is not a JSON object" in capsys.readouterr().err


def test_a_bad_file_runs_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace("adam = { lr = 0.05 }", "adamm = { lr = 0.05 }"))
    assert main(["sweep", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "bad.toml" in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--jobs", "0"], "--jobs: must be an integer >= 1, got 0"),
        (["--chunk-runs", "0"], "--chunk-runs: must be an integer >= 1, got 0"),
        (["--chunk-runs", "-5"], "--chunk-runs: must be an integer >= 1, got -5"),
        (["--tables", ""], "--tables: must be one or more of csv, parquet, each once, got nothing"),
        (["--scheduler", "tcp://x:1"], "--scheduler: only the dask backend takes a scheduler address"),
    ],
)
def test_bad_driver_options_are_refused_before_anything_is_written(args, message, tmp_path, capsys):
    assert main(["sweep", str(TINY), "--out", str(tmp_path / "o"), "--quiet", *args]) == 2
    assert capsys.readouterr().err == f"nn47 sweep: {message}\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"jobs": 0}, "jobs: must be an integer >= 1, got 0"),
        ({"chunk_runs": -5}, "chunk_runs: must be an integer >= 1, got -5"),
    ],
)
def test_bad_sweep_arguments_are_refused_before_anything_is_written(kwargs, message, small, tmp_path):
    with pytest.raises(ValueError, match=message):
        sweep(small, tmp_path / "o", **kwargs)
    assert not (tmp_path / "o").exists()


ROOT = Path(__file__).parent.parent


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(), reason="needs the .venv that `make test` installs")
def test_make_sweep_end_to_end(tmp_path):
    out = tmp_path / "tiny"
    done = subprocess.run(
        ["make", "--no-print-directory", "sweep", "SPEC=tests/tiny.toml", f"OUT={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"{out}/runs.csv" in done.stdout and "report" in done.stdout
    assert len(pd.read_csv(out / "runs.csv")) == 6
    assert (out / "report.md").exists() and (out / "summary.csv").exists()


@pytest.mark.parametrize("chunk_runs", [512, 2])  # one chunk, or chunks side by side on threads
def test_a_sweep_with_its_progress_bar_leaves_no_thread_behind(small, tmp_path, chunk_runs):
    # nn47 sweep --analyze draws figures in a forked process only when no other thread runs
    before = set(threading.enumerate())
    sweep(small, tmp_path / "out", quiet=False, chunk_runs=chunk_runs)
    assert set(threading.enumerate()) - before == set()


def test_result_files_get_the_usual_permissions(small, tmp_path):
    sweep(small, tmp_path / "out", quiet=True)
    mask = os.umask(0)
    os.umask(mask)
    expected = 0o666 & ~mask
    for name in ("runs.csv", "curves.csv", "params.csv", "manifest.json", "chunks.csv"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == expected


def test_chunks_without_a_manifest_are_refused_not_reused(small, tmp_path, capsys):
    out = tmp_path / "out"
    sweep(small, out, quiet=True)
    (out / "manifest.json").unlink()  # e.g. a kill part-way through clearing the folder
    other = tmp_path / "other.toml"
    other.write_text(SMALL.replace("sgd = { lr = [0.5, 2.0] }", "sgd = { lr = [0.1, 2.0] }"))
    assert main(["sweep", str(other), "--out", str(out), "--quiet"]) == 2
    assert "chunks with no manifest" in capsys.readouterr().err
    assert main(["sweep", str(other), "--out", str(out), "--quiet", "--overwrite"]) == 0
    fresh = tmp_path / "fresh"
    assert main(["sweep", str(other), "--out", str(fresh), "--quiet"]) == 0
    assert csv_bytes(out) == csv_bytes(fresh)


def test_shards_of_other_kernel_sources_are_retrained(small, tmp_path, monkeypatch):
    from engine.sweep import store

    out = tmp_path / "out"
    sweep(small, out, quiet=True)
    monkeypatch.setattr(store, "source_digest", lambda: "an edited kernel")
    report = sweep(small, out, quiet=True)
    assert report.ran == small.n_runs
    assert len(list((out / "chunks").glob("chunk-*.arrow"))) == len(plan_chunks(small))  # stale ones removed


def test_labels_do_not_cut_chunks(tmp_path):
    # two labels naming the same settings but for one per-run number: one call, not two
    levels = "[factors.regularization]\nnone = {}\nlight = { weight_decay = 0.001 }\n\n[factors.optimizer]"
    text = TINY.read_text().replace("[factors.optimizer]", levels)
    path = tmp_path / "labels.toml"
    path.write_text(text)
    experiment = spec.load(path)
    assert "regularization" in experiment.labels
    chunks = plan_chunks(experiment)
    assert len(chunks) == 2  # sgd, adam: each call holds both regularization levels
    assert all(len({experiment.configs[c]["regularization"] for c in chunk.configs}) == 2 for chunk in chunks)
