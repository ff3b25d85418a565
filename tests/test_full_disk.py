"""A full disk, for real: the sweep writes into a tmpfs mounted by the test
(or, where mounting is impossible, under RLIMIT_FSIZE in a subprocess).

A sweep that cannot fit is refused before it writes anything (exit status 2,
the estimate, the free space, the knobs). One that fits when it starts
meets a disk that fills under it: a file written beside it once its first
or its last shard has landed takes the room, and the disk fills while the
shards are written, or while the tables are. The sweep stops with one
message (the file, the space, the command that finishes it), exit status 1,
no traceback, no temporary or partial file; once the file is removed the
same command ends with the tables of an uninterrupted sweep, byte for byte."""

import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from test_sweep import SMALL

from engine.cli import main
from engine.schema import FORMATS
from engine.sweep import spec
from engine.sweep.durable import amount
from engine.sweep.store import Store
from engine.sweep.tune import disk_need

PAGE = resource.getpagesize()
ROOMY = 1 << 12  # pages: 16 MiB, room for the 1,200 runs' shards and tables (about 3.5 MiB) however they end
TUNE_TINY = Path(__file__).parent / "tune_tiny.toml"
TABLES = [f"{t}.{f}" for t in ("runs", "curves", "params") for f in ("csv", "parquet")]


def pages(paths):
    return sum(math.ceil(path.stat().st_size / PAGE) for path in paths)


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(SMALL.replace("seeds = 5", "seeds = 200"))  # 1,200 runs: shards of ~40 kB, 2 MB of tables
    return path


@pytest.fixture
def whole(experiment, tmp_path):
    """The uninterrupted sweep, on an ordinary disk."""
    out = tmp_path / "whole"
    assert main(["sweep", str(experiment), "--out", str(out), "--quiet", "--chunk-runs", "50"]) == 0
    return out


@pytest.fixture
def tmpfs(tmp_path):
    """mount(size in pages): a tmpfs of that size at tmp_path/disk."""
    disk = tmp_path / "disk"
    disk.mkdir()

    def mount(size):
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size * PAGE}", "tmpfs", str(disk)], capture_output=True
        )
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}): test_file_size_limit covers it")
        return disk

    yield mount
    subprocess.run(["umount", str(disk)], capture_output=True)


def fill_after(monkeypatch, disk, saved, room):
    """Once the sweep has saved `saved` shards: a file on `disk` that leaves
    `room` bytes free (the check before the sweep saw the disk empty).
    Returns the file's path, to remove for room."""
    save, count, filler = Store.save_chunk, [0], disk / "filler"

    def save_then_fill(self, *args):
        save(self, *args)
        count[0] += 1
        if count[0] == saved:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            os.posix_fallocate(fd, 0, shutil.disk_usage(disk).free - room)  # real pages, not a sparse file
            os.close(fd)

    monkeypatch.setattr(Store, "save_chunk", save_then_fill)
    return filler


def check_stopped_cleanly(err, out, experiment, code):
    assert code == 1, err
    assert "Traceback" not in err and err.count("nn47 sweep:") == 1
    assert "No space left on device" in err or "File too large" in err
    assert f"run the same command again to finish: nn47 sweep {experiment} --out {out}" in err
    assert not list(out.rglob("*.tmp")) and not any((out / name).exists() for name in TABLES)
    for shard in (out / "chunks").glob("chunk-*"):  # every shard there is whole
        assert pa.ipc.open_file(pa.memory_map(str(shard))).read_all().num_rows == 50


def sweep_command(experiment, out):
    return ["sweep", str(experiment), "--out", str(out), "--quiet", "--chunk-runs", "50"]


def finish_and_compare(experiment, out, whole):
    assert main(sweep_command(experiment, out)) == 0
    for name in TABLES:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_disk_full_while_writing_shards(experiment, whole, tmpfs, monkeypatch, capsys):
    shards = sorted((whole / "chunks").glob("chunk-*"))
    disk = tmpfs(ROOMY)
    out = disk / "out"
    filler = fill_after(monkeypatch, disk, saved=1, room=pages(shards) // 2 * PAGE)
    capsys.readouterr()
    code = main(sweep_command(experiment, out))
    err = capsys.readouterr().err
    check_stopped_cleanly(err, out, experiment, code)
    failed = re.search(r"cannot write .*/chunks/(chunk-\S+\.arrow): No space left on device", err).group(1)
    assert f"it needs about {(whole / 'chunks' / failed).stat().st_size / 1024:.0f} KiB" in err
    assert 0 < len(list((out / "chunks").glob("chunk-*"))) < len(shards)
    filler.unlink()  # room
    finish_and_compare(experiment, out, whole)


def test_disk_full_while_writing_tables(experiment, whole, tmpfs, monkeypatch, capsys):
    shards = sorted((whole / "chunks").glob("chunk-*"))
    disk = tmpfs(ROOMY)
    out = disk / "out"
    filler = fill_after(monkeypatch, disk, saved=len(shards), room=pages(whole / n for n in TABLES) // 2 * PAGE)
    capsys.readouterr()
    code = main(sweep_command(experiment, out))
    err = capsys.readouterr().err
    check_stopped_cleanly(err, out, experiment, code)
    assert len(list((out / "chunks").glob("chunk-*"))) == len(shards)  # the training all saved
    assert f"cannot write {out}/" in err and "free on its filesystem" in err
    filler.unlink()
    finish_and_compare(experiment, out, whole)


@pytest.mark.parametrize("tuned", [False, True])
def test_a_sweep_that_cannot_fit_is_refused_before_it_writes(experiment, tmpfs, capsys, tuned):
    disk = tmpfs(16)  # 64 KiB: less than the runs' final parameters alone, in either experiment
    out = disk / "out"
    command = ["sweep", str(TUNE_TINY if tuned else experiment), "--out", str(out)]
    free = amount(shutil.disk_usage(disk).free)
    code = main(command)
    err = capsys.readouterr().err
    assert code == 2 and err.count("nn47 sweep:") == 1 and "Traceback" not in err, err
    least, most = re.search(
        r"would write about (.+) even if every run stopped at once \(about (.+) if every", err
    ).groups()
    assert f"{free} free on the filesystem of {out}; to write less: a larger record_every" in err
    assert not out.exists()  # nothing written, no rung trained
    assert main([*command, "--dry-run"]) == 0  # the same estimate against the same free space
    text = capsys.readouterr().out
    assert f"disk: {least} (every run stopping at once) to {most} (every run to its epoch budget" in text
    assert f"still to write into {out}, {free} free there" in text
    assert "the sweep would be refused before writing anything" in text
    assert not out.exists()


def limited(size):
    """In the child: files may grow to `size` bytes; a write beyond fails with EFBIG instead of SIGXFSZ."""

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["shards", "tables"])
def test_file_size_limit(experiment, whole, tmp_path, phase):
    """Where no tmpfs can be mounted: a limit on file sizes fails the writes alike."""
    shard = max(path.stat().st_size for path in (whole / "chunks").glob("chunk-*"))
    size = shard // 2 if phase == "shards" else 2 * shard  # the manifest fits either way; a table does not
    out = tmp_path / "out"
    command = [sys.executable, "-m", "engine.cli", *sweep_command(experiment, out)]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited(size))
    check_stopped_cleanly(done.stderr, out, experiment, done.returncode)
    assert ("/chunks/chunk-" in done.stderr) == (phase == "shards")
    finish_and_compare(experiment, out, whole)


def test_a_sweep_that_may_not_fit_is_told_so_and_goes_on(experiment, whole, tmpfs, capsys):
    # most runs reach the target before their budget: they write more than the least, less than the most
    fresh = whole.parent / "fresh"  # nothing there: every shard still to write
    most = disk_need(spec.load(experiment), fresh, 50, FORMATS, PAGE).most
    used = pages(path for path in whole.rglob("*") if path.is_file()) * PAGE
    assert used < most, (used, most)
    disk = tmpfs((used + most) // 2 // PAGE)
    out = disk / "out"
    capsys.readouterr()
    assert main(sweep_command(experiment, out)) == 0
    err = capsys.readouterr().err
    assert err.count("nn47 sweep:") == 1 and "nn47 sweep: note: the sweep writes between about" in err
    assert "if the disk fills, the sweep stops with what it finished saved" in err
    for name in TABLES:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
