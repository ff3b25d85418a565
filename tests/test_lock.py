"""One sweep per results folder: a second sweep (or an analysis) of a folder
in use is refused, naming the folder and the pid that holds it; a lock left
by a process that has ended is taken over with a note; the lock is gone when
the sweep ends."""

import signal
import subprocess
import sys

import pytest
from test_sweep import SMALL

from engine.cli import main
from engine.sweep import lock, spec
from engine.sweep.driver import sweep

HOLD = """
import sys
from engine.sweep.lock import hold
with hold(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()   # until the test closes our stdin
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return spec.load(path)


def hold_in_another_process(out):
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "held\n"
    return process


@pytest.fixture
def holder(tmp_path):
    """Another process holding tmp_path/out's lock, as a running sweep does."""
    process = hold_in_another_process(tmp_path / "out")
    yield process
    process.stdin.close()
    assert process.wait() == 0


def test_a_second_sweep_on_a_folder_in_use_is_refused(small, tmp_path, holder, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{out} is in use: another sweep (pid {holder.pid})" in err
    assert not (out / "manifest.json").exists() and not (out / "chunks").exists()  # nothing touched
    assert lock.holder(out) == holder.pid


def test_analyze_of_a_folder_being_swept_says_so(small, tmp_path, holder, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(out)]) == 2
    assert f"{out} is being swept (pid {holder.pid} holds {out / lock.LOCK})" in capsys.readouterr().err


def test_the_lock_is_released_when_the_sweep_ends(small, tmp_path):
    out = tmp_path / "out"
    sweep(small, out, quiet=True)
    assert not (out / lock.LOCK).exists() and lock.holder(out) is None
    sweep(small, out, quiet=True)  # the same process again: not refused by itself


def test_a_lock_file_of_an_ended_process_is_taken_over(small, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(ended.stdout)
    (out / lock.LOCK).write_text(f"{pid}\n")  # its flock went with it
    assert lock.holder(out) is None
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet"]) == 0
    assert f"took over the lock of pid {pid}, which has ended" in capsys.readouterr().err
    assert (out / "runs.csv").exists() and not (out / lock.LOCK).exists()


def test_the_lock_of_a_killed_sweep_is_taken_over(small, tmp_path, capsys):
    out = tmp_path / "out"
    holder = hold_in_another_process(out)
    holder.send_signal(signal.SIGKILL)
    assert holder.wait() == -signal.SIGKILL
    holder.stdin.close()
    assert (out / lock.LOCK).read_text() == f"{holder.pid}\n"  # left behind
    assert main(["sweep", str(small.path), "--out", str(out), "--quiet"]) == 0
    assert f"took over the lock of pid {holder.pid}" in capsys.readouterr().err
