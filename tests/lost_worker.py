"""A dask worker preload for tests/test_lost_worker.py (dask's
distributed.worker.preload names this file; each worker process runs it).

While the file named by $NN47_KILL_WORKER exists, a worker that starts to
execute a task first takes the file (a rename: one worker wins) and then kills
its own process with SIGKILL, as the kernel's OOM killer would, the chunk in
flight. Without "always" in the file it is taken once, so one worker dies
once; with it the file is put back, so every try of every chunk dies."""

import os
import signal
from pathlib import Path

from distributed import WorkerPlugin

VARIABLE = "NN47_KILL_WORKER"


class KillOnStart(WorkerPlugin):
    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or VARIABLE not in os.environ:
            return
        flag = Path(os.environ[VARIABLE])
        taken = flag.with_name(f"{flag.name}.{os.getpid()}")
        try:
            flag.rename(taken)
        except FileNotFoundError:
            return  # no kill asked for, or another worker took it
        if "always" in taken.read_text():
            taken.rename(flag)
        with open(flag.with_name("kills"), "a") as log:
            log.write(f"{os.getpid()} {key}\n")
        os.kill(os.getpid(), signal.SIGKILL)


async def dask_setup(worker):
    await worker.plugin_add(KillOnStart(), name="nn47-kill-on-start")
