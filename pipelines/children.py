"""Child processes that never outlive the process that started them.

A crawl's extraction workers hold ~130 MB each. When the crawl is killed with SIGKILL (the
OOM killer, a scheduler's hard timeout), nothing in Python runs, so the pool cannot stop its
workers: they are re-parented to PID 1 and live on. Each worker therefore watches its parent
itself, in two ways: on Linux the kernel sends it SIGKILL when the parent dies
(``PR_SET_PDEATHSIG``), and everywhere a daemon thread polls the parent pid and exits when it
changes (which also covers a parent that died before the worker got to ``prctl``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0
EXIT_ORPHANED = 70


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when ``parent_pid`` dies (a pool initializer, run in the child)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(EXIT_ORPHANED)  # the parent died before the line above took effect
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True
    ).start()


def _watch_parent(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(PARENT_POLL_SECONDS):
        if os.getppid() != parent_pid:
            # No cleanup is owed: a worker holds no state of its own, only a task in flight.
            os._exit(EXIT_ORPHANED)
