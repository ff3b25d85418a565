"""Keep numba's on-disk cache in step with the kernel sources.

Numba checks a cached function against its own file only, so after an edit
to a function it calls in another file (say fastmath.py under train.py), the
stale machine code would still be loaded. A hash of every source the
kernels read is kept beside the cache; when it changes, the cache is emptied.
The seconds the last cold compilation took are kept there too, for the
message before the next one (a number of this machine, not of ours).
"""

import hashlib
import json
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


def drop_stale(dispatchers):
    """Empty the cache folders of these jitted functions if any kernel source
    changed since it was filled."""
    digest = source_digest()
    for folder in {Path(d.stats.cache_path) for d in dispatchers}:
        stamp = folder / STAMP
        if stamp.exists() and stamp.read_text() == digest:
            continue
        for cached in (*folder.glob("*.nbi"), *folder.glob("*.nbc")):
            cached.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)


SECONDS = "nn47-compile-seconds.json"


def compile_seconds(dispatcher, dtype):
    """Seconds the last compilation of `dtype`'s kernels took on this machine, or None."""
    try:
        return json.loads((Path(dispatcher.stats.cache_path) / SECONDS).read_text())[dtype]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def note_compile_seconds(dispatcher, dtype, seconds):
    """Keep `seconds` as the compile time of `dtype`'s kernels, beside the cache."""
    path = Path(dispatcher.stats.cache_path) / SECONDS
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    try:
        path.write_text(json.dumps({**known, dtype: round(seconds, 1)}))
    except OSError:  # a read-only cache folder: the next message gives no number
        pass
