"""A full disk, for real: the sweep writes into a small tmpfs mounted by the
test (or, where mounting is impossible, under RLIMIT_FSIZE in a subprocess).
The disk fills while the shards are written, or while the tables are: the
sweep stops with one message (the file, the space, the command that
finishes it), exit status 1, no traceback, no temporary or partial file;
once there is room the same command ends with the tables of an
uninterrupted sweep, byte for byte."""

import math
import re
import resource
import signal
import subprocess
import sys

import pyarrow as pa
import pytest
from test_sweep import SMALL

from engine.cli import main

PAGE = resource.getpagesize()
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
    """mount(size in pages): a tmpfs of that size at tmp_path/disk; remount(size) changes it."""
    disk = tmp_path / "disk"
    disk.mkdir()

    def mount(size, remount=False):
        options = ("remount," if remount else "") + f"size={size * PAGE}"
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(disk)], capture_output=True)
        if done.returncode and not remount:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}): test_file_size_limit covers it")
        assert done.returncode == 0, done.stderr
        return disk

    yield mount
    subprocess.run(["umount", str(disk)], capture_output=True)


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


def test_disk_full_while_writing_shards(experiment, whole, tmpfs, capsys):
    shards = sorted((whole / "chunks").glob("chunk-*"))
    disk = tmpfs(2 * pages([whole / "manifest.json"]) + 2 + pages(shards) // 2)
    out = disk / "out"
    capsys.readouterr()
    code = main(sweep_command(experiment, out))
    err = capsys.readouterr().err
    check_stopped_cleanly(err, out, experiment, code)
    failed = re.search(r"cannot write .*/chunks/(chunk-\S+\.arrow): No space left on device", err).group(1)
    assert f"it needs about {(whole / 'chunks' / failed).stat().st_size / 1024:.0f} KiB" in err
    assert 0 < len(list((out / "chunks").glob("chunk-*"))) < len(shards)
    tmpfs(1 << 14, remount=True)  # room: 64 MiB
    finish_and_compare(experiment, out, whole)


def test_disk_full_while_writing_tables(experiment, whole, tmpfs, capsys):
    shards = sorted((whole / "chunks").glob("chunk-*"))
    disk = tmpfs(2 * pages([whole / "manifest.json"]) + 2 + pages(shards) + pages(whole / n for n in TABLES) // 2)
    out = disk / "out"
    capsys.readouterr()
    code = main(sweep_command(experiment, out))
    err = capsys.readouterr().err
    check_stopped_cleanly(err, out, experiment, code)
    assert len(list((out / "chunks").glob("chunk-*"))) == len(shards)  # the training all saved
    assert f"cannot write {out}/" in err and "free on its filesystem" in err
    tmpfs(1 << 14, remount=True)
    finish_and_compare(experiment, out, whole)


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
