"""Keep a lease alive from a background thread: a run lock, source leases, file claims.

A lease that is not renewed lapses after its TTL and another machine may take what it
guarded; the keeper renews it every ``renew_interval`` seconds until the block ends.
"""

from __future__ import annotations

import sys
import threading
from typing import Protocol

import redis

from pipelines.archive import tenure
from pipelines.archive.lock import LockLost
from pipelines.archive.stores import StoreError


class Lease(Protocol):
    """A run lock, source leases or file claims: renewed every ``renew_interval`` seconds."""

    @property
    def renew_interval(self) -> float:
        """Seconds between renewals."""

    def renew(self) -> None:
        """Extend the lease; raise LockLost when it is gone."""


class LeaseKeeper:
    """Renew a lease from a background thread; a run lock's loss also stops the run."""

    def __init__(self, lock: Lease, run_id: str | None = None) -> None:
        self.lock = lock
        self.run_id = run_id  # a run lock: its loss stops the run's writes (tenure.py)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lease", daemon=True)

    def start(self) -> None:
        """Start renewing (once: a later call does nothing)."""
        if self.thread.ident is None:
            self.thread.start()

    def stop(self) -> None:
        """Stop renewing and wait for the thread; nothing to do if it never started."""
        self.stopping.set()
        if self.thread.ident is not None:
            self.thread.join()

    def __enter__(self) -> LeaseKeeper:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self.stopping.wait(self.lock.renew_interval):
            if self.run_id is not None and tenure.lost(self.run_id) is not None:
                return  # ran out while paused: another run may hold the archive now
            try:
                self.lock.renew()
            except (LockLost, StoreError, redis.RedisError) as err:
                print(f"wirearchive: run lock lost: {err}", file=sys.stderr)
                if self.run_id is not None:
                    # Stop writing (the archive refuses this run's writes) and stop the run
                    # (crawler/extensions/lockwatch.py): another run may hold the archive.
                    tenure.lose(self.run_id, f"lock lost: {err}")
                return
            if self.run_id is not None:
                tenure.renewed(self.run_id)
