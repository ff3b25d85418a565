"""Keep numba's on-disk cache in step with the kernel sources.

Numba checks a cached function against its own file only, so after an edit
to a function it calls in another file (say fastmath.py under train.py), the
stale machine code would still be loaded. A hash of every source the
kernels read is kept beside the cache; when it changes, the cache is emptied.
cached_args says what the cache holds (for the message before a compilation,
and for whether to compile the pass over samples in another process).
"""

import hashlib
from pathlib import Path

from .. import schema

KERNELS = Path(__file__).parent
# every kernel module, and the option tables whose codes they compare against
SOURCES = sorted(KERNELS.glob("*.py")) + [KERNELS.parent / "options.py"]
STAMP = "nn47-kernel-sources.sha256"


def source_digest():
    """sha256 of every source the kernels read: what their numbers depend on
    (of schema, only the rows of the stats and curve arrays they fill)."""
    rows = repr((schema.STATS, tuple(schema.CURVE))).encode()
    return hashlib.sha256(b"".join(p.read_bytes() for p in SOURCES) + rows).hexdigest()


def cached_args(dispatcher):
    """The argument types of every specialisation of this jitted function that
    numba's on-disk cache holds (none when the cache is missing or stale)."""
    index = dispatcher._cache._cache_file._load_index()
    # keyed by the signature, or by the argument types alone (numba 0.60)
    return [tuple(getattr(key[0], "args", key[0])) for key in index]


def drop_stale(dispatchers):
    """Empty the cache folders of these jitted functions if any kernel source
    changed since it was filled."""
    digest = source_digest()
    for folder in {Path(d._cache._cache_path) for d in dispatchers}:
        stamp = folder / STAMP
        if stamp.exists() and stamp.read_text() == digest:
            continue
        for cached in (*folder.glob("*.nbi"), *folder.glob("*.nbc")):
            cached.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
