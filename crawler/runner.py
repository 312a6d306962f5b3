"""Run one crawl: settings from the config and the flags, the engine, the exit status."""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import redis
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings

from crawler import __version__
from crawler.distributed.frontier import Frontier
from crawler.distributed.leases import SourceLeases
from crawler.extensions.summary import RunSummary, format_summary, new_run_id
from crawler.sources import Config, ConfigError
from crawler.spiders.wire import WireSpider
from pipelines.archive.keys import DEFAULT_ARCHIVE, encode_json
from pipelines.archive.lock import LockHeld, LockLost, RunLock
from pipelines.archive.reextract import ReextractReport, article_keys_in, reextract
from pipelines.archive.spool import IndexRecorder, Spool, flush_spool
from pipelines.archive.stores import LocalStore, Store, StoreError, open_store
from pipelines.archive.verify import verify
from pipelines.daterange import DateRange
from pipelines.dedup.originals import default_worker
from pipelines.index.redis import RedisIndex
from pipelines.index.sqlite import open_state, sync_state

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75


class RunError(Exception):
    """A problem that stops a run before it starts; str() is the one line to print."""

    def __init__(self, message: str, exit_status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class RunRequest:
    """What one crawl is asked to do, as the CLI parsed it."""

    config: Config
    sources: Sequence[str] = ()
    archive: str | None = None
    limit: int = 0
    summary_path: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    verbose: bool = False
    refresh: bool = False
    redis: str | None = None  # distributed mode; None: the config's redis:, else one machine
    worker: str | None = None  # this worker's name in distributed mode; None: host:pid


def project_settings() -> Settings:
    """Return wirearchive's Scrapy settings, wherever the command runs from."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return settings


def parse_setting(assignment: str) -> tuple[str, Any]:
    """Parse ``NAME=VALUE`` from ``-s``; the value stays a string, as with ``scrapy -s``."""
    name, sep, value = assignment.partition("=")
    if not sep or not name.strip():
        raise RunError(f"invalid -s {assignment!r}: expected NAME=VALUE", EXIT_USAGE)
    return name.strip(), value


def identity_settings(config: Config) -> dict[str, str]:
    """Return the User-Agent settings a config sets once for every run (none: the defaults)."""
    settings: dict[str, str] = {}
    if config.contact_url:
        settings["WIREARCHIVE_CONTACT_URL"] = config.contact_url
        settings["USER_AGENT"] = f"wirearchive/{__version__} (+{config.contact_url})"
    if config.user_agent:
        settings["USER_AGENT"] = config.user_agent
    return settings


def crawl_settings(request: RunRequest, archive: str, run_id: str) -> Settings:
    """Return the Scrapy settings of one crawl."""
    settings = project_settings()
    settings.setdict(
        {
            "WIREARCHIVE_CONFIG": request.config.path,
            "WIREARCHIVE_ARCHIVE": archive,
            "WIREARCHIVE_SOURCES": list(request.sources),
            "WIREARCHIVE_ALLOW_PRIVATE_ADDRESSES": request.config.allow_private_addresses,
            "WIREARCHIVE_LIMIT": request.limit,
            "WIREARCHIVE_REFRESH": request.refresh,
            "WIREARCHIVE_RUN_ID": run_id,
            "WIREARCHIVE_SUMMARY_PATH": request.summary_path,
            "WIREARCHIVE_REDIS": request.redis or request.config.redis,
            "WIREARCHIVE_WORKER": request.worker or default_worker(),
            "LOG_LEVEL": "INFO" if request.verbose else "WARNING",
            **identity_settings(request.config),
        },
        priority="cmdline",
    )
    settings.setdict(dict(request.settings), priority="cmdline")
    return settings


@contextmanager
def locked_archive(archive: str, run_id: str) -> Iterator[Store]:
    """Check the archive, hold its run lock (renewed meanwhile), and have its index ready."""
    store = open_store(archive)
    try:
        store.check()
    except StoreError as err:
        raise RunError(f"archive {archive} is unusable: {err}") from err
    lock = RunLock(store, run_id)
    try:
        lock.acquire()
    except LockHeld as err:
        raise RunError(str(err), EXIT_LOCKED) from err
    except StoreError as err:
        raise RunError(f"cannot lock archive {archive}: {err}") from err
    try:
        if isinstance(store, LocalStore):
            # Under the lock no one else writes: any temp file is a killed run's leftover.
            store.sweep_temporary()
        try:
            # Fetch (or check) the archive's index now, so a broken one stops the run here
            # with one line rather than inside the engine.
            index = open_state(store)
            try:
                flush(store, index)
            finally:
                index.close()
        except (StoreError, OSError, sqlite3.Error) as err:
            raise RunError(f"cannot open the index of archive {archive}: {err}") from err
        with LeaseKeeper(lock):
            yield store
    finally:
        try:
            lock.release()
        except StoreError as err:
            print(f"wirearchive: could not release the lock of {archive}: {err}", file=sys.stderr)


def flush(store: Store, index: IndexRecorder) -> None:
    """Write what earlier runs spooled while the archive was down, before anything else."""
    spool = Spool.for_store(store)
    waiting = len(spool)
    if not waiting:
        return
    try:
        flushed = flush_spool(spool, store, index)
    except StoreError as err:
        raise RunError(
            f"{waiting} spooled writes wait in {spool.folder} and the archive still fails: {err}"
        ) from err
    print(f"wirearchive: flushed {flushed} spooled writes into {store.uri}", file=sys.stderr)


@contextmanager
def shared_archive(
    archive: str, redis_url: str, worker: str, sources: Sequence[str], settings: Settings
) -> Iterator[tuple[str, ...]]:
    """Distributed mode: check the archive, lease free sources, replay the spool; yield them.

    No archive lock: the workers cooperate through Redis (the shared index and frontier,
    URL claims and these leases). With no free lease the worker becomes its machine's one
    helper, which drains the frontier; exit 75 when this machine has a helper already, or
    when no work comes.
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
            held = leases.acquire(sources)
            index.sweep()  # claims of dead workers, past their deadline
            days = settings.getfloat("WIREARCHIVE_NEAR_WINDOW_DAYS")
            if days > 0:
                index.prune_near(days)  # signatures past the near window, a share a run
            requeued = frontier.requeue_expired()  # requests they held
        except redis.RedisError as err:
            raise RunError(f"cannot use redis {redis_url}: {err}") from err
        try:
            settings.set("WIREARCHIVE_REQUEUED", requeued, priority="cmdline")
            holders = ", ".join(f"{name} ({who})" for name, who in held.items())
            if not leases.names:
                join_as_helper(leases, frontier, sources, holders, settings)
            elif held:
                print(f"wirearchive: left to other workers: {holders}", file=sys.stderr)
            try:
                flush(store, index)
            except (StoreError, OSError, redis.RedisError) as err:
                raise RunError(f"cannot open the index of archive {archive}: {err}") from err
            with LeaseKeeper(leases):
                yield tuple(name for name in leases.names if name in sources)
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
    settings.set("WIREARCHIVE_HELPER", True, priority="cmdline")
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
            time.sleep(0.2)
    except redis.RedisError as err:
        raise RunError(f"cannot use redis: {err}") from err


def archive_of(request_archive: str | None, config: Config) -> str:
    """Return the archive a command works on: --archive, else the config's, else ./archive."""
    return request_archive or config.archive or DEFAULT_ARCHIVE


def selected(config: Config, sources: Sequence[str]) -> tuple[str, ...]:
    """Return the named sources' names; an undeclared name is a usage error."""
    try:
        return tuple(source.name for source in config.select(sources))
    except ConfigError as err:
        raise RunError(str(err), EXIT_USAGE) from err


def run_crawl(request: RunRequest) -> int:
    """Crawl once and return the exit status; print the summary on the terminal."""
    names = selected(request.config, request.sources)
    archive = archive_of(request.archive, request.config)
    run_id = new_run_id()
    settings = crawl_settings(request, archive, run_id)
    redis_url = settings.get("WIREARCHIVE_REDIS")
    if redis_url:
        # Distributed mode: crawl the sources whose lease this worker holds.
        with shared_archive(
            archive, str(redis_url), str(settings.get("WIREARCHIVE_WORKER")), names, settings
        ) as leased:
            settings.set("WIREARCHIVE_SOURCES", list(leased), priority="cmdline")
            crawler = _crawl(settings)
    else:
        with locked_archive(archive, run_id):
            crawler = _crawl(settings)
    extension = next(
        (ext for ext in crawler.extensions.middlewares if isinstance(ext, RunSummary)), None
    )
    if extension is None or extension.summary is None:
        raise RunError(f"run {run_id} ended without a summary; rerun with -v to see why")
    summary = extension.summary
    print(format_summary(summary, f"{archive.rstrip('/')}/{extension.summary_key}"))
    return EXIT_OK if summary["status"] == "ok" else EXIT_FAILED


def _crawl(settings: Settings) -> Crawler:
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(WireSpider)
    process.crawl(crawler)
    process.start()
    return crawler


def run_reextract(
    config: Config,
    archive_arg: str | None,
    sources: Sequence[str],
    wanted: DateRange,
    summary_path: str | None,
) -> int:
    """Re-extract archived articles from their raw records; never fetch. Print the report."""
    names = selected(config, sources) if sources else ()
    archive = archive_of(archive_arg, config)
    run_id = new_run_id()
    started = time.monotonic()
    with locked_archive(archive, run_id) as store:
        index = open_state(store)
        try:
            report = reextract(
                store, index, article_keys_in(store, names, wanted), _reextract_progress
            )
        finally:
            try:
                sync_state(index, store)
            finally:
                index.close()
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    result = {"run_id": run_id, "archive": archive, **report.as_dict()}
    result["elapsed_seconds"] = round(time.monotonic() - started, 3)
    if summary_path:
        Path(summary_path).write_bytes(encode_json(result))
    print(
        f"wirearchive reextract {run_id}: {report.seen} articles read, {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.newly_rejected} newly rejected, "
        f"{report.now_duplicates} now duplicates, {report.unreadable} unreadable"
    )
    for key, reason in sorted(report.rejected.items()):
        print(f"  rejected now ({reason}): {key}")
    return EXIT_FAILED if report.unreadable else EXIT_OK


def run_verify(config: Config, archive_arg: str | None, *, repair: bool, as_json: bool) -> int:
    """Check the index against the archive (under the lock); repair the index if asked."""
    archive = archive_of(archive_arg, config)
    with locked_archive(archive, new_run_id()) as store:
        index = open_state(store)
        try:
            report = verify(store, index, repair=repair)
            if repair:
                sync_state(index, store)
        finally:
            index.close()
    if as_json:
        print(json.dumps({"archive": archive, **report.as_dict()}, indent=2))
    else:
        print(
            f"wirearchive verify {archive}: {report.articles} articles, {report.duplicates} "
            f"duplicates; {len(report.unindexed)} not indexed, {len(report.missing_objects)} "
            f"indexed but missing, {len(report.unreadable)} unreadable, "
            f"{len(report.temp_objects)} temporary objects"
            + (" (index repaired)" if repair else "")
        )
        for label, keys in (
            ("not indexed", report.unindexed),
            ("missing", report.missing_objects),
            ("temporary", report.temp_objects),
        ):
            for key in keys[:20]:
                print(f"  {label}: {key}")
        for key, why in list(report.unreadable.items())[:20]:
            print(f"  unreadable: {key}: {why}")
    if report.unreadable or report.temp_objects:
        return EXIT_FAILED
    return EXIT_OK if repair or report.clean else EXIT_FAILED


def _reextract_progress(report: ReextractReport) -> None:
    if report.seen % 50 == 0 or sys.stderr.isatty():
        end = "\r" if sys.stderr.isatty() else "\n"
        sys.stderr.write(
            f"reextract: {report.seen} read, {report.changed} changed, "
            f"{report.newly_rejected} newly rejected{end}"
        )


class Lease(Protocol):
    """A run lock or the source leases: renewed every ``renew_interval`` seconds."""

    @property
    def renew_interval(self) -> float:
        """Seconds between renewals."""

    def renew(self) -> None:
        """Extend the lease; raise LockLost when it is gone."""


class LeaseKeeper:
    """Renew a run lock's (or the source leases') lease from a background thread."""

    def __init__(self, lock: Lease) -> None:
        self.lock = lock
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(self.lock.renew_interval):
            try:
                self.lock.renew()
            except (LockLost, StoreError, redis.RedisError) as err:
                # Keep crawling: every write is still whole and conditional; only the
                # promise that no other run overlaps this one is gone.
                print(f"wirearchive: run lock lost: {err}", file=sys.stderr)
                return


def fail(message: str, status: int) -> int:
    """Print a one-line error the way every command does, and return its exit status."""
    print(f"wirearchive: {message}", file=sys.stderr)
    return status
