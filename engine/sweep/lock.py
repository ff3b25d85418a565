"""One sweep per results folder: a lock file, F/sweep.lock, held with
fcntl.flock while a sweep writes into F, with the holder's pid in it.

The kernel drops a flock when its process dies, however it dies, so a lock
file whose flock can be taken is stale: its writer is gone, and the next
sweep takes it over (with a note naming the dead pid). The file is removed
when the sweep ends; a sweep that finds the file replaced under it (a
finishing sweep removed it) takes the new one instead. Within one process the
lock is re-entrant: tuning holds OUT while its rung sweeps and the final
sweep run inside it.
"""

import contextlib
import fcntl
import os
import sys
from pathlib import Path

LOCK = "sweep.lock"

_held = {}  # resolved folder -> [descriptor, depth] of the locks this process holds


class FolderBusy(RuntimeError):
    """Another process is sweeping into the folder."""


def holder(folder):
    """The pid written in folder's lock file, when its lock is held by a live
    process (not this one); None when nobody sweeps there."""
    path = Path(folder) / LOCK
    if Path(folder).resolve() in _held:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid(fd) or "unknown"
        return None
    finally:
        os.close(fd)


def _pid(fd):
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def hold(folder):
    """Hold folder's lock within the block (the folder must exist); raise
    FolderBusy, naming the folder and the holder's pid, if another process has it."""
    key = Path(folder).resolve()
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    fd = _acquire(Path(folder))
    _held[key] = [fd, 1]
    try:
        yield
    finally:
        del _held[key]
        # removed while still held: a sweep waiting on this file finds it unlinked and retries
        (Path(folder) / LOCK).unlink(missing_ok=True)
        os.close(fd)


def _acquire(folder):
    path = folder / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid(fd)
            os.close(fd)
            raise FolderBusy(
                f"{folder} is in use: another sweep (pid {pid or 'unknown'}) is writing into it "
                f"(it holds {path}); wait for it to end, or use another --out"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file we locked was removed by a sweep that ended: lock the new one
    stale = _pid(fd)
    if stale is not None:
        print(f"nn47 sweep: {path}: took over the lock of pid {stale}, which has ended", file=sys.stderr)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
