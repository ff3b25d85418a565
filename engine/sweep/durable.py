"""Durable writes: a file appears under its name whole, and stays whole
after a power cut.

Every file nn47 writes into a results folder (shards, tables, chunks.csv,
tuning.csv, the manifest) goes the same way, here:

1. written under a temporary name beside its final one (hidden, .tmp);
2. fsynced: its bytes are on the disk;
3. renamed to its final name (atomic on POSIX);
4. its folder fsynced: the rename itself is on the disk.

A rename before step 2 could, after a power cut, leave the final name on an
empty or short file (the kernel may write the folder's entry before the
file's data). A file is complete when its final name exists and not before,
so nothing can claim a file that is not on disk.

A write that fails (a full disk, a quota, a file-size limit, an I/O error)
raises WriteError naming the file; its temporary file is removed, so a
partial file is never taken for a finished one.
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path


class WriteError(RuntimeError):
    """A file could not be written; the message names it and says why."""


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp makes 0600


def temporary(path):
    """A new temporary file beside `path` (hidden, .tmp), for write-then-rename."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise write_error(path, error) from None
    os.close(fd)
    os.chmod(tmp, FILE_MODE)
    return Path(tmp)


def fsync_path(path, directory=False):
    """fsync a file or a folder by its path (Linux flushes a file's data through any descriptor)."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp, path):
    """Give the finished temporary file `tmp` its final name, durably (steps 2-4)."""
    try:
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(Path(path).parent, directory=True)
    except OSError as error:
        raise write_error(path, error) from None


def write_atomic(path, write, size=None):
    """Call write(tmp_path), then publish tmp_path as path; a failed write
    raises WriteError and leaves no temporary file. size: a function that
    gives about how many bytes the file takes (for the message of a full disk)."""
    tmp = temporary(path)
    try:
        try:
            write(tmp)
        except OSError as error:
            raise write_error(path, error, size and size()) from None
        publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def make_folder(path):
    """mkdir -p, each new folder's entry fsynced into its parent."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(exist_ok=True)
            fsync_path(folder.parent, directory=True)
        except OSError as error:
            raise write_error(folder, error) from None


SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def write_error(path, error, needed=None):
    """WriteError for `path`: why, and for a full disk how much space it
    needs (about `needed` bytes, when known) and how much is free."""
    code = getattr(error, "errno", None)
    reason = os.strerror(code) if code else str(error)  # pyarrow's own text repeats it
    if code not in SPACE_ERRORS:
        return WriteError(f"cannot write {path}: {reason}")
    limit = "" if code == errno.ENOSPC else " (a quota or a limit on file sizes)"
    size = f"it needs about {amount(needed)}, " if needed else ""
    free = amount(shutil.disk_usage(Path(path).parent).free)
    return WriteError(f"cannot write {path}: {reason}{limit}; {size}{free} free on its filesystem")


def amount(size):
    """Bytes in GiB, MiB below one GiB, or KiB below one MiB."""
    if size >= 2**30:
        return f"{size / 2**30:,.1f} GiB"
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.0f} KiB"
