"""One run per archive at a time: a leased lock object ``_state/lock.json`` in the store.

The lock is created with ``put(overwrite=False)``, a conditional create that is atomic on both
backends (local: ``os.link`` create-if-absent; S3: ``IfNoneMatch='*'``), so the store decides the
single winner. A lock carries a lease (``expires_at``) that the holder extends with ``renew()``.

A lock is stale when its lease ran out, or when its holder is provably dead: the lock records
the holder's machine (the kernel's boot id plus its pid namespace) and its process start time, so
a run on the same machine and pid namespace can tell that the holder's process is gone (or that its
pid now belongs to another process) and take over at once, on a local or an S3 archive alike. This
is what lets the next cron run proceed after a run that could not delete its lock (the store was
down when it ended). A holder on another machine is only judged by its lease, which is kept short
and renewed often for that reason.

Taking over a stale lock needs care: neither backend offers compare-and-swap for *replace*, and
"read, compare, delete" alone lets a slow successor delete the fresh lock of a faster one. So a
successor must first win a *takeover claim*: the conditional create of
``_state/lock.takeover/<token>.<n>.json`` for the stale lock's token. Only the claim's winner may
delete that lock; it re-reads the lock, deletes it only if its content is unchanged, then retries
the conditional create of the lock (which may still be won by someone else: the conditional create
always decides). Tokens are never reused, so once the stale lock is gone any later claimant's
re-read sees a different lock and backs off.

Remaining window: a claim is itself a lease (``lease_seconds`` long). If a claimant stalls for
longer than that between its re-read and its delete, the next claimant (``n + 1``) may take over
too, and the stalled one would then delete the new holder's lock. Likewise, once less than
``RENEW_MARGIN`` of its lease is left, the holder's ``renew()`` raises LockLost instead of
overwriting and its ``release()`` deletes only through a takeover claim; so the holder races a
successor only if one read-then-write outlives that margin, or if the hosts' clocks disagree by
more than that. A process that stalls longer than its lease is the limit of
every lease-based lock without fencing tokens.

An unreadable (corrupt) lock object cannot come from ``put`` (it writes objects whole), so it was
made by hand or by another tool: it is always reported as held by "unknown (unreadable lock)" and
must be removed by hand; its age is not used.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pipelines.archive.stores import KeyNotFound, Store

LOCK_KEY = "_state/lock.json"
CLAIM_PREFIX = "_state/lock.takeover/"
# Short, renewed every third of it: a holder that died on another machine (where its death cannot
# be proven) blocks the archive for at most this long.
DEFAULT_LEASE_SECONDS = 180.0
# renew() and release() leave a lease alone once less than this fraction of it is left.
RENEW_MARGIN = 0.1
# How often acquire() looks again when a takeover by someone else is under way.
ACQUIRE_ATTEMPTS = 8
ACQUIRE_BACKOFF = 0.02
UNREADABLE_HOLDER = "unknown (unreadable lock)"
UNKNOWN = "unknown"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class LockHeld(Exception):
    """Another run holds the archive's lock."""

    def __init__(self, uri: str, holder: str, since: str, expires: str, location: str) -> None:
        self.uri = uri
        self.holder = holder
        self.since = since
        self.expires = expires
        self.location = location
        super().__init__(
            f"archive {uri} is locked by {holder} since {since} (lease until {expires}); "
            f"wait for it to finish, or remove {location} if that run is gone"
        )


class LockLost(Exception):
    """The lock this run held was taken over or removed, or its lease ran out."""


def _iso(seconds: float) -> str:
    """Return an epoch time as ISO 8601 UTC with milliseconds and a Z."""
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


@dataclass(frozen=True)
class LockInfo:
    """The content of the lock object."""

    run_id: str
    pid: int
    host: str
    acquired_at: str
    expires_at: str
    token: str
    machine: str | None = None  # boot id and pid namespace; None: not Linux, or an older lock
    started: int | None = None  # the holder's start time in clock ticks since boot

    @property
    def holder(self) -> str:
        return f"run {self.run_id}, pid {self.pid} on host {self.host}"

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> LockInfo | None:
        """Return the lock content, or None if it is not a well-formed lock."""
        try:
            raw: Any = json.loads(data)
            info = cls(
                run_id=str(raw["run_id"]),
                pid=int(raw["pid"]),
                host=str(raw["host"]),
                acquired_at=str(raw["acquired_at"]),
                expires_at=str(raw["expires_at"]),
                token=str(raw["token"]),
                machine=None if raw.get("machine") is None else str(raw["machine"]),
                started=None if raw.get("started") is None else int(raw["started"]),
            )
            _epoch(info.acquired_at)
            _epoch(info.expires_at)
        except (ValueError, TypeError, KeyError):
            return None
        return info


def machine_identity() -> str | None:
    """Return what names this machine and pid namespace: two processes with it share pids."""
    try:
        boot = BOOT_ID.read_text(encoding="ascii").strip()
        namespace = str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        return None
    return f"{boot}/{namespace}"


def process_started(pid: int) -> int | None:
    """Return a process's start time (clock ticks since boot), or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of proc(5), the 20th after the command name
    except (IndexError, ValueError):
        return None


def _pid_dead(pid: int) -> bool:
    """Tell whether no process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, under another user
        return False
    return False


class RunLock:
    """The archive's run lock: ``with RunLock(store, run_id): ...``; call renew() periodically."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, not {lease_seconds}")
        self.store = store
        self.run_id = run_id
        self.lease_seconds = float(lease_seconds)
        self.clock = clock
        self.token = secrets.token_hex(16)
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.machine = machine_identity()
        self.held = False
        self.info: LockInfo | None = None

    @property
    def renew_interval(self) -> float:
        """Seconds between renew() calls that keep the lease well ahead of expiry."""
        return self.lease_seconds / 3

    @property
    def location(self) -> str:
        """Where the lock object lives, for messages: a file path or an s3:// URI."""
        path = self.store.local_path(LOCK_KEY)
        if path is not None:
            return str(path)
        return f"{self.store.uri.rstrip('/')}/{LOCK_KEY}"

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    # -- reading -------------------------------------------------------------------------

    def _new_info(self, acquired_at: str | None = None) -> LockInfo:
        now = self.clock()
        return LockInfo(
            run_id=self.run_id,
            pid=self.pid,
            host=self.host,
            acquired_at=acquired_at or _iso(now),
            expires_at=_iso(now + self.lease_seconds),
            token=self.token,
            machine=self.machine,
            started=process_started(self.pid) if self.machine else None,
        )

    def _read(self) -> tuple[bytes, LockInfo | None] | None:
        """Return the lock object's bytes and content, or None if there is no lock."""
        try:
            data = self.store.get(LOCK_KEY)
        except KeyNotFound:
            return None
        return data, LockInfo.decode(data)

    def _held_error(self, info: LockInfo | None) -> LockHeld:
        if info is None:
            since = UNKNOWN
            path = self.store.local_path(LOCK_KEY)
            if path is not None:
                with contextlib.suppress(OSError):
                    since = _iso(path.stat().st_mtime)
            return LockHeld(self.store.uri, UNREADABLE_HOLDER, since, UNKNOWN, self.location)
        return LockHeld(
            self.store.uri, info.holder, info.acquired_at, info.expires_at, self.location
        )

    def _stale(self, info: LockInfo) -> bool:
        """Tell whether a lock may be taken over: lease over, or a provably dead holder."""
        if self.clock() >= _epoch(info.expires_at):
            return True
        if info.pid == self.pid and info.machine == self.machine:
            return False
        if info.machine is not None and info.machine == self.machine:
            # Same kernel, same pid namespace: the pid is alive with the same start time, or
            # the holder is gone (a pid reused by a later process has another start time).
            started = process_started(info.pid)
            return started is None or (info.started is not None and started != info.started)
        # A lock without a machine identity (an older version): trust the pid on a local
        # archive only, since an S3 archive is shared by hosts that may share a hostname.
        return (
            info.machine is None
            and self.store.local_path(LOCK_KEY) is not None
            and info.host == self.host
            and _pid_dead(info.pid)
        )

    # -- takeover ------------------------------------------------------------------------

    def _claim_key(self, stale: LockInfo, n: int) -> str:
        return f"{CLAIM_PREFIX}{stale.token}.{n}.json"

    def _claim(self, stale: LockInfo) -> int | None:
        """Win the right to delete the stale lock: conditional create of a takeover claim.

        Return the claim's number, or None if another successor holds a live claim. A claim
        older than a lease is presumed abandoned (its owner crashed mid-takeover), and the next
        numbered claim may be made.
        """
        n = 0
        while True:
            key = self._claim_key(stale, n)
            now = self.clock()
            body = json.dumps({"run_id": self.run_id, "token": self.token, "at": _iso(now)})
            if self.store.put(key, body.encode(), content_type="application/json"):
                return n
            try:
                at = _epoch(json.loads(self.store.get(key))["at"])
            except KeyNotFound:
                continue  # its owner just cleaned up: try the same number again
            except (ValueError, TypeError, KeyError):
                at = 0.0  # unreadable claim: treat it as abandoned
            if now < at + self.lease_seconds:
                return None
            n += 1

    def _drop_claims(self, stale: LockInfo, last: int) -> None:
        """Delete our claim and the abandoned ones before it (by key: no listing needed)."""
        for n in range(last, -1, -1):
            self.store.delete(self._claim_key(stale, n))

    def _delete_if_unchanged(self, data: bytes, stale: LockInfo) -> bool:
        """Delete the stale lock if we win its claim and it is still exactly what we read."""
        claim = self._claim(stale)
        if claim is None:
            return False
        try:
            current = self._read()
            if current is None or current[0] != data:
                return False
            self.store.delete(LOCK_KEY)
            return True
        finally:
            self._drop_claims(stale, claim)

    # -- public API ----------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the lock, taking over a stale one; raise LockHeld if another run holds it."""
        last: LockInfo | None = None
        for attempt in range(ACQUIRE_ATTEMPTS):
            info = self._new_info()
            if self.store.put(LOCK_KEY, info.encode(), content_type="application/json"):
                self.held, self.info = True, info
                return
            current = self._read()
            if current is None:
                continue  # removed in between: try the conditional create again
            data, last = current
            if last is None or not self._stale(last):
                raise self._held_error(last)
            if not self._delete_if_unchanged(data, last):
                # Another successor is taking over: let it finish, then look again.
                time.sleep(ACQUIRE_BACKOFF * (attempt + 1))
        raise self._held_error(last)

    def _check_ours(self, what: str) -> tuple[bytes, LockInfo]:
        current = self._read()
        if current is None:
            raise LockLost(f"cannot {what}: the lock {self.location} is gone")
        data, info = current
        if info is None or info.token != self.token:
            holder = UNREADABLE_HOLDER if info is None else info.holder
            raise LockLost(f"cannot {what}: the lock {self.location} is now held by {holder}")
        return data, info

    def _lapsing(self, info: LockInfo) -> bool:
        left = _epoch(info.expires_at) - self.clock()
        return left <= self.lease_seconds * RENEW_MARGIN

    def renew(self) -> None:
        """Extend the lease; raise LockLost if the lock is no longer ours or its lease ran out."""
        _data, info = self._check_ours("renew the lease")
        if self._lapsing(info):
            # A successor may be taking over right now: overwriting could clobber its lock.
            self.held = False
            raise LockLost(
                f"cannot renew the lease: it ran out at {info.expires_at} "
                f"(renew every {self.renew_interval:.0f}s)"
            )
        new = self._new_info(acquired_at=info.acquired_at)
        self.store.put(LOCK_KEY, new.encode(), content_type="application/json", overwrite=True)
        self.info = new

    def release(self) -> None:
        """Remove the lock if it is still ours; leave another run's lock alone."""
        self.held = False
        current = self._read()
        if current is None:
            return
        data, info = current
        if info is None or info.token != self.token:
            return
        if self._lapsing(info):
            # A successor may be taking over: delete only through the takeover claim.
            self._delete_if_unchanged(data, info)
            return
        self.store.delete(LOCK_KEY)
