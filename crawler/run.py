"""Run one crawl: settings from the config and the flags, the engine, the exit status."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings

from crawler.sources import Config, ConfigError
from crawler.spiders.wire import WireSpider
from crawler.summary import RunSummary, format_summary, new_run_id
from pipelines.keys import DEFAULT_ARCHIVE
from pipelines.lock import LockHeld, LockLost, RunLock
from pipelines.state import open_state
from pipelines.stores import StoreError, open_store

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
            "LOG_LEVEL": "INFO" if request.verbose else "WARNING",
        },
        priority="cmdline",
    )
    settings.setdict(dict(request.settings), priority="cmdline")
    return settings


def run_crawl(request: RunRequest) -> int:
    """Crawl once and return the exit status; print the summary on the terminal."""
    try:
        request.config.select(request.sources)
    except ConfigError as err:  # a --source the config does not declare is a usage error
        raise RunError(str(err), EXIT_USAGE) from err
    archive = request.archive or request.config.archive or DEFAULT_ARCHIVE
    store = open_store(archive)
    try:
        store.check()
    except StoreError as err:
        raise RunError(f"archive {archive} is unusable: {err}") from err
    run_id = new_run_id()
    lock = RunLock(store, run_id)
    try:
        lock.acquire()
    except LockHeld as err:
        raise RunError(str(err), EXIT_LOCKED) from err
    except StoreError as err:
        raise RunError(f"cannot lock archive {archive}: {err}") from err
    try:
        try:
            # Fetch (or check) the archive's index now, so a broken one stops the run here
            # with one line rather than inside the engine.
            open_state(store).close()
        except (StoreError, OSError, sqlite3.Error) as err:
            raise RunError(f"cannot open the index of archive {archive}: {err}") from err
        with LeaseKeeper(lock):
            process = AsyncCrawlerProcess(crawl_settings(request, archive, run_id))
            crawler = process.create_crawler(WireSpider)
            process.crawl(crawler)
            process.start()
    finally:
        try:
            lock.release()
        except StoreError as err:
            print(f"wirearchive: could not release the lock of {archive}: {err}", file=sys.stderr)
    extension = next(
        (ext for ext in crawler.extensions.middlewares if isinstance(ext, RunSummary)), None
    )
    if extension is None or extension.summary is None:
        raise RunError(f"run {run_id} ended without a summary; rerun with -v to see why")
    summary = extension.summary
    print(format_summary(summary, f"{archive.rstrip('/')}/{extension.summary_key}"))
    return EXIT_OK if summary["status"] == "ok" else EXIT_FAILED


class LeaseKeeper:
    """Renew a run lock's lease from a background thread while the crawl runs."""

    def __init__(self, lock: RunLock) -> None:
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
            except (LockLost, StoreError) as err:
                # Keep crawling: every write is still whole and conditional; only the
                # promise that no other run overlaps this one is gone.
                print(f"wirearchive: run lock lost: {err}", file=sys.stderr)
                return


def fail(message: str, status: int) -> int:
    """Print a one-line error the way every command does, and return its exit status."""
    print(f"wirearchive: {message}", file=sys.stderr)
    return status
