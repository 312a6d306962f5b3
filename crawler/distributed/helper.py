"""Join a distributed crawl: lease free sources, or become this machine's one helper."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from scrapy.settings import Settings

from crawler.distributed.frontier import Frontier
from crawler.distributed.leases import SourceLeases
from crawler.exits import EXIT_LOCKED, RunError
from pipelines.archive.stores import Store, StoreError, open_store
from pipelines.index.redis import RedisIndex

# How often a waiting helper looks at the shared queue.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class SharedArchive:
    """What a worker holds while it crawls: the archive, the shared index, its leases."""

    store: Store
    index: RedisIndex
    leases: SourceLeases
    sources: tuple[str, ...]  # the requested sources whose lease this worker holds
    requeued: int = 0  # frontier requests of stopped workers, queued again before this run
    helper: bool = False  # no free lease: this run only drains the frontier, discovers nothing


@contextmanager
def shared_archive(
    archive: str, redis_url: str, worker: str, sources: Sequence[str], settings: Settings
) -> Iterator[SharedArchive]:
    """Check the archive, lease free sources and recover dead workers' claims; yield them.

    No archive lock: the workers cooperate through Redis (the shared index and frontier,
    URL claims and these leases). With no free lease the worker becomes its machine's one
    helper, which drains the frontier; exit 75 when this machine has a helper already, or
    when no work comes. The leases are released, and the index closed, on the way out.
    """
    ttl = settings.getfloat("WIREARCHIVE_CLAIM_TTL")
    store = open_store(archive)
    try:
        store.check()
    except StoreError as err:
        raise RunError(f"archive {archive} is unusable: {err}") from err
    try:
        index = RedisIndex(redis_url, archive)
    except redis.RedisError as err:
        raise RunError(f"cannot use redis {redis_url}: {err}") from err
    try:
        leases = SourceLeases(index.r, index.prefix, worker, ttl)
        frontier = Frontier(index.r, index.prefix, ttl)
        try:
            # A history backfill shares its source's CC-NEWS files (claimed one by one) or
            # Wayback captures (the frontier) between workers: no lease keeps others out.
            history = bool(settings.get("WIREARCHIVE_HISTORY"))
            held = {} if history else leases.acquire(sources)
            index.sweep()  # claims of dead workers, past their deadline
            days = settings.getfloat("WIREARCHIVE_NEAR_WINDOW_DAYS")
            if days > 0:
                index.prune_near(days)  # signatures past the near window, a share a run
            requeued = frontier.requeue_expired()  # requests they held
        except redis.RedisError as err:
            raise RunError(f"cannot use redis {redis_url}: {err}") from err
        try:
            holders = ", ".join(f"{name} ({who})" for name, who in held.items())
            helper = not leases.names and not history
            if helper:
                join_as_helper(leases, frontier, sources, holders, settings)
            elif held:
                print(f"wirearchive: left to other workers: {holders}", file=sys.stderr)
            leased = (
                tuple(sources)
                if history
                else tuple(name for name in leases.names if name in sources)
            )
            yield SharedArchive(store, index, leases, leased, requeued, helper)
        finally:
            try:
                leases.release()
            except redis.RedisError as err:
                print(f"wirearchive: could not release the source leases: {err}", file=sys.stderr)
    finally:
        index.close()


def join_as_helper(
    leases: SourceLeases,
    frontier: Frontier,
    sources: Sequence[str],
    holders: str,
    settings: Settings,
) -> None:
    """No source lease is free: become this machine's helper, or exit 75.

    One helper a machine: cron starts a run every few minutes, and a backfill's queue can
    keep a helper busy for hours. A backfill never helps: it was asked for its source.
    ``holders`` names the sources' lease holders, for the messages.
    """
    if settings.get("WIREARCHIVE_MODE") == "backfill":
        raise RunError(f"the source is leased by another worker: {holders}", EXIT_LOCKED)
    slot = helper_slot()
    try:
        busy = leases.acquire([slot])
    except redis.RedisError as err:
        raise RunError(f"cannot use redis: {err}") from err
    if busy:
        raise RunError(
            f"every source is leased by another worker: {holders}; "
            f"this machine's helper is {busy[slot]}",
            EXIT_LOCKED,
        )
    if not wait_for_work(frontier, leases, sources, settings):
        raise RunError(
            f"every source is leased by another worker: {holders}; "
            "the shared queue has no work for a helper",
            EXIT_LOCKED,
        )
    print(
        f"wirearchive: every source is leased by another worker ({holders}); "
        "helping with the shared queue",
        file=sys.stderr,
    )


def helper_slot() -> str:
    """Return the lease name of this machine's helper (not a valid source name)."""
    return f"@helper:{socket.gethostname()}"


def wait_for_work(
    frontier: Frontier, leases: SourceLeases, sources: Sequence[str], settings: Settings
) -> bool:
    """Wait up to WIREARCHIVE_JOIN_WAIT for queued work while others hold the leases.

    Workers started by the same cron minute race for the leases; the losers wait for the
    winners to queue what they discover instead of leaving them to fetch it all.
    """
    deadline = time.monotonic() + settings.getfloat("WIREARCHIVE_JOIN_WAIT")
    try:
        while True:
            if frontier.has_work():
                return True
            if time.monotonic() >= deadline or not leases.held_elsewhere(sources):
                return False
            time.sleep(POLL_SECONDS)
    except redis.RedisError as err:
        raise RunError(f"cannot use redis: {err}") from err
