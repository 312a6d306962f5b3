"""Run one crawl: settings from the config and the flags, the engine, the exit status."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings

from crawler import __version__
from crawler.distributed.helper import shared_archive
from crawler.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, RunError
from crawler.extensions.summary import RunSummary, format_summary, new_run_id
from crawler.lease_keeper import LeaseKeeper
from crawler.sources import Config, ConfigError
from crawler.spiders.wire import WireSpider
from pipelines.archive import tenure
from pipelines.archive.keys import resolve_archive
from pipelines.archive.local_store import LocalStore
from pipelines.archive.lock import DEFAULT_LEASE_SECONDS, LockHeld, RunLock
from pipelines.archive.spool import Spool, flush_spool
from pipelines.archive.stores import Store, StoreError, open_store
from pipelines.dedup.originals import default_worker
from pipelines.index.backends import open_index
from pipelines.index.base import Index


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
            # The spider class is handed over, never looked up by name: Scrapy's spider
            # loader would import every spider module (a backfill's readers too) each run.
            "SPIDER_MODULES": [],
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
def locked_archive(
    archive: str,
    run_id: str,
    redis_url: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    repair: bool = False,
) -> Iterator[Store]:
    """Check the archive, hold its run lock (renewed meanwhile), and have its index ready.

    ``redis_url``: the index is the shared one in that Redis (verify, reextract), not SQLite.
    ``repair``: a damaged index copy in the archive is no error (``verify --repair``).
    """
    store = open_store(archive)
    try:
        store.check()
    except StoreError as err:
        raise RunError(f"archive {archive} is unusable: {err}") from err
    lock = RunLock(store, run_id, lease_seconds=lease_seconds)
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
            index = open_index(store, redis_url, archive=archive, repair=repair)
            try:
                flush(store, index)
            finally:
                index.close()
        except (StoreError, OSError, sqlite3.Error, redis.RedisError) as err:
            raise RunError(f"cannot open the index of archive {archive}: {err}") from err
        tenure.hold(run_id, lock.lease_seconds)
        with LeaseKeeper(lock, run_id):
            yield store
    finally:
        lost = tenure.lost(run_id)
        tenure.release(run_id)
        try:
            if lost is None:
                lock.release()
            else:
                # Another run may hold the archive now: leave its lock alone (release() only
                # deletes through a takeover claim, but there is nothing of ours to delete).
                print(
                    f"wirearchive: run {run_id} stopped: the run lock was lost, {lost}",
                    file=sys.stderr,
                )
        except StoreError as err:
            print(f"wirearchive: could not release the lock of {archive}: {err}", file=sys.stderr)


def flush(store: Store, index: Index) -> None:
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


def selected(config: Config, sources: Sequence[str]) -> tuple[str, ...]:
    """Return the named sources' names; an undeclared name is a usage error."""
    try:
        return tuple(source.name for source in config.select(sources))
    except ConfigError as err:
        raise RunError(str(err), EXIT_USAGE) from err


def run_crawl(request: RunRequest) -> int:
    """Crawl once and return the exit status; print the summary on the terminal."""
    names = selected(request.config, request.sources)
    archive = resolve_archive(request.archive, request.config.archive)
    run_id = new_run_id()
    settings = crawl_settings(request, archive, run_id)
    redis_url = settings.get("WIREARCHIVE_REDIS")
    if redis_url:
        # Distributed mode: crawl the sources whose lease this worker holds.
        with shared_archive(
            archive, str(redis_url), str(settings.get("WIREARCHIVE_WORKER")), names, settings
        ) as shared:
            try:
                flush(shared.store, shared.index)
            except (StoreError, OSError, redis.RedisError) as err:
                raise RunError(f"cannot open the index of archive {archive}: {err}") from err
            with LeaseKeeper(shared.leases):
                # What this worker was dealt goes to the spider as its arguments, like any
                # run's plan, never into the settings at run time.
                crawler = _crawl(
                    settings,
                    source=",".join(shared.sources),
                    helper=shared.helper,
                    requeued=shared.requeued,
                )
    else:
        lease = settings.getfloat("WIREARCHIVE_LOCK_LEASE")
        with locked_archive(archive, run_id, lease_seconds=lease):
            # locked_archive fetched the index under this run's lock: not a second time.
            settings.set("WIREARCHIVE_INDEX_FETCHED", True, priority="cmdline")
            crawler = _crawl(settings)
    extension = crawler.get_extension(RunSummary)
    if extension is None or extension.summary is None:
        raise RunError(f"run {run_id} ended without a summary; rerun with -v to see why")
    summary = extension.summary
    print(format_summary(summary, f"{archive.rstrip('/')}/{extension.summary_key}"))
    return EXIT_OK if summary["status"] == "ok" else EXIT_FAILED


def _crawl(settings: Settings, **spider_arguments: Any) -> Crawler:
    process = AsyncCrawlerProcess(settings)
    spider: type[WireSpider] = WireSpider
    if settings.get("WIREARCHIVE_HISTORY"):
        # Only a backfill from a history archive loads its readers (WARC, CDX): 0.2 s a run.
        from crawler.spiders.history import HistorySpider  # noqa: PLC0415

        spider = HistorySpider
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **spider_arguments)
    process.start()
    return crawler
