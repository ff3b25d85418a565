"""Ctrl-C and SIGTERM stop a sweep cleanly: finished chunks kept, no
traceback, a line saying how many runs are saved and how to finish, exit
status 128 + signal, workers gone, no temporary files; the same command
then ends with the tables of an uninterrupted sweep."""

import functools
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from experiment_files import SMALL, csv_bytes


def start(path, out, *options):
    # a session of its own: a signal to its process group reaches the workers too, as Ctrl-C in a terminal does;
    # SIGINT handled by default, as in a terminal's foreground job, even when these tests run in a background
    # job (whose shell starts it with SIGINT ignored, which Python and the sweep would inherit)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "sweep",
            str(path),
            "--quiet",
            "--chunk-runs",
            "2",
            "--out",
            str(out),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum, options, group",
    [
        (signal.SIGINT, (), False),
        (signal.SIGTERM, (), False),
        (signal.SIGINT, ("--jobs", "2"), True),
        (signal.SIGTERM, ("--jobs", "2"), False),
        (signal.SIGINT, ("--jobs", "2", "--backend", "dask"), True),
        (signal.SIGTERM, ("--jobs", "2", "--backend", "dask"), False),
    ],
)
def test_a_signal_stops_the_sweep_cleanly_and_the_rerun_finishes_it(signum, options, group, tmp_path):
    """group: the signal goes to the whole process group (Ctrl-C in a terminal), else to the driver alone."""
    path = tmp_path / "long.toml"
    # every run to its last epoch (no target): long enough that the sweep cannot finish between the poll and the signal
    path.write_text(
        SMALL.replace("seeds = 5", "seeds = 40")
        .replace("epochs = 30", "epochs = 1000")
        .replace("target_loss = 0.3\n", "")
    )
    out = tmp_path / "out"
    sweep = start(path, out, *options)
    chunks = out / "chunks"
    while sweep.poll() is None and len(list(chunks.glob("chunk-*.arrow"))) < 3:
        time.sleep(0.01)
    workers = psutil.Process(sweep.pid).children(recursive=True)
    if group:
        os.killpg(sweep.pid, signum)
    else:
        sweep.send_signal(signum)
    stdout, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    saved = len(list(chunks.glob("chunk-*.arrow")))
    assert f"{2 * saved} of 240 runs saved in {chunks}; run the same command again to finish" in stderr
    assert saved < 120 and not (out / "runs.csv").exists()
    assert not list(out.rglob("*.tmp"))
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, [p.cmdline() for p in alive]

    assert start(path, out, *options).wait(timeout=600) == 0
    assert start(path, tmp_path / "whole").wait(timeout=600) == 0
    assert csv_bytes(out) == csv_bytes(tmp_path / "whole")
