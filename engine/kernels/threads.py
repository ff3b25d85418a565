"""The threads that train a call's queues beside the calling thread.

They are started once per process: starting and joining them at every call
cost as much as tens of epochs of a run alone on the per-run pass
(docs/performance.md). Between calls they wait for work and hold no lock
(entry.train_blocks returns only once they are done), so a process may fork
beside them, as the analysis's drawing process does; a forked child starts
its own, for its parent's do not exist there.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

HELPER_NAME = "nn47-queue"  # every helper thread's name starts so


@functools.cache
def helpers(n):
    """The pool of n helper threads (numba not imported here: the analysis reads HELPER_NAME)."""
    return ThreadPoolExecutor(n, thread_name_prefix=HELPER_NAME)


os.register_at_fork(after_in_child=helpers.cache_clear)
