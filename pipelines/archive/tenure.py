"""Whether this process still holds its run's archive lock: writers ask before each write.

The run lock (lock.py) is renewed from a background thread. A run paused past its lease
(SIGSTOP, a frozen VM, a swap storm) may find another run holding the archive when it
wakes: from then on it must write nothing, and stop. The renewing thread reports a loss
here; and because the writers may wake before that thread does, a lease that ran out on
this process's own clock counts as lost too, without asking the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.archive.lock import RENEW_MARGIN


@dataclass
class _Hold:
    lease_seconds: float
    valid_until: float  # monotonic: a paused process's clock runs on (CLOCK_MONOTONIC)
    lost: str | None = None


_holds: dict[str, _Hold] = {}
_guard = threading.Lock()
clock: Callable[[], float] = time.monotonic


def hold(run_id: str, lease_seconds: float) -> None:
    """Note that run ``run_id`` has just taken its lock with a lease of ``lease_seconds``."""
    with _guard:
        _holds[run_id] = _Hold(lease_seconds, clock() + lease_seconds * (1 - RENEW_MARGIN))


def renewed(run_id: str) -> None:
    """Note a successful renewal: the lease runs from now (unless it was lost already)."""
    with _guard:
        held = _holds.get(run_id)
        if held is not None and held.lost is None:
            held.valid_until = clock() + held.lease_seconds * (1 - RENEW_MARGIN)


def lose(run_id: str, why: str) -> None:
    """Note that run ``run_id`` lost its lock: it must write nothing more."""
    with _guard:
        held = _holds.get(run_id)
        if held is not None and held.lost is None:
            held.lost = why


def lost(run_id: str | None) -> str | None:
    """Say why run ``run_id`` may no longer write, or None (also for a run holding no lock)."""
    if run_id is None:
        return None
    with _guard:
        held = _holds.get(run_id)
        if held is None:
            return None
        if held.lost is None and clock() > held.valid_until:
            # Once out, stay out: a renewal after the pause cannot undo what another run did.
            held.lost = f"its lease of {held.lease_seconds:g}s ran out (the run was paused?)"
        return held.lost


def release(run_id: str) -> None:
    """Forget run ``run_id``'s hold: its lock is released."""
    with _guard:
        _holds.pop(run_id, None)
