"""The run summary (runs/{run_id}.json, --summary) and progress lines, built from stats."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from crawler.monitoring.health import health_of_sources
from pipelines.archive.keys import archive_uri, encode_json
from pipelines.archive.stores import StoreError, open_store
from pipelines.dedup.originals import STATE_ATTRIBUTE, CrawlState

logger = logging.getLogger(__name__)

INTERRUPTED_REASONS = {"shutdown", "cancelled", "interrupted"}


def new_run_id(now: datetime | None = None) -> str:
    """Return a run id that sorts by start time: ``20261125T101500Z-1a2b3c``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _prefixed(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {
        key[len(prefix) :]: int(value)
        for key, value in sorted(stats.items())
        if key.startswith(prefix) and isinstance(value, int)
    }


def _rejected(stats: Mapping[str, Any]) -> dict[str, int]:
    rejected = _prefixed(stats, "rejected/")
    # Scrapy's URL length filter drops over-long URLs before any middleware of ours sees them.
    too_long = int(stats.get("urllength/request_ignored_count", 0))
    if too_long:
        rejected["url_too_long"] = rejected.get("url_too_long", 0) + too_long
    return dict(sorted(rejected.items()))


def _per_source(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for rest, value in _prefixed(stats, "source/").items():
        name, _, outcome = rest.partition("/")
        table.setdefault(name, {})[outcome] = value
    return table


def build_summary(
    stats: Mapping[str, Any],
    *,
    run_id: str,
    sources: list[str],
    archive: str,
    started_at: datetime,
    finished_at: datetime,
    close_reason: str,
) -> dict[str, Any]:
    """Return the run summary object (the contract's fields, then details) from crawl stats."""
    error_details = _prefixed(stats, "errors/")
    failed_writes = int(stats.get("archive/failed", 0))
    if failed_writes:
        error_details["archive_write"] = failed_writes
    spooled = int(stats.get("archive/spooled", 0))
    if spooled:
        error_details["archive_spooled"] = spooled
    if close_reason in INTERRUPTED_REASONS:
        status = "interrupted"
    elif failed_writes or spooled or close_reason != "finished":
        status = "failed"
    else:
        status = "ok"
    elapsed = max((finished_at - started_at).total_seconds(), 0.0)
    pages = int(stats.get("pages/fetched", 0))
    return {
        "run_id": run_id,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "status": status,
        "sources": sources,
        "pages_fetched": pages,
        "articles_archived": int(stats.get("archive/stored", 0)),
        "duplicates": {
            kind: int(stats.get(f"dedup/{kind}", 0)) for kind in ("url", "exact", "near")
        },
        "rejected": _rejected(stats),
        "errors": sum(error_details.values()),
        "error_details": error_details,
        "unchanged": int(stats.get("archive/unchanged", 0)),
        "skipped": int(stats.get("incremental/skipped", 0)),
        "retry_later": int(stats.get("incremental/retry_later", 0)),
        "spooled": spooled,
        "revised": int(stats.get("archive/revised", 0)),
        "archive": archive,
        "close_reason": close_reason,
        "elapsed_seconds": round(elapsed, 3),
        "pages_per_second": round(pages / elapsed, 2) if elapsed else 0.0,
        "discovery": _prefixed(stats, "discovery/"),
        "retries": int(stats.get("retry/count", 0)),
        "per_source": _per_source(stats),
        **_distributed(stats),
    }


def _distributed(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``frontier`` details of a distributed-mode run; nothing on one machine."""
    frontier = _prefixed(stats, "frontier/")
    claimed = int(stats.get("incremental/claimed_elsewhere", 0))
    if claimed:
        frontier["claimed_elsewhere"] = claimed
    if not frontier:
        return {}
    return {"frontier": frontier}


def _counts(counts: Mapping[str, int]) -> str:
    return " · ".join(f"{key} {value}" for key, value in counts.items() if value) or "none"


def format_summary(summary: Mapping[str, Any], summary_key: str | None = None) -> str:
    """Return the one-screen terminal rendering of a run summary."""
    rows = [
        ("sources", ", ".join(summary["sources"]) or "none"),
        ("pages fetched", f"{summary['pages_fetched']}  ({summary['pages_per_second']} pages/s)"),
        ("articles archived", str(summary["articles_archived"])),
        ("already archived", f"{summary['skipped']} skipped, {summary['unchanged']} re-fetched"),
        ("duplicates", _counts(summary["duplicates"])),
        ("rejected", _counts(summary["rejected"])),
        (
            "errors",
            f"{summary['errors']}  {_counts(summary['error_details'])}"
            if summary["errors"]
            else "0",
        ),
        ("archive", summary["archive"]),
    ]
    if summary.get("retry_later"):
        rows.insert(4, ("rejected before", f"{summary['retry_later']} not asked again yet"))
    if "frontier" in summary:
        rows.insert(1, ("shared queue", _counts(summary["frontier"])))
    for name, health in sorted(summary.get("health", {}).items()):
        if health["status"] == "unhealthy":
            rows.append(("UNHEALTHY", f"{name}: {health['reason']}"))
    if summary_key:
        rows.append(("summary", summary_key))
    head = (
        f"wirearchive run {summary['run_id']}: {summary['status']} "
        f"in {summary['elapsed_seconds']:.1f}s"
    )
    return "\n".join([head, *(f"  {label:<18} {value}" for label, value in rows)])


class RunSummary:
    """Write the run summary to runs/{run_id}.json (and --summary PATH) when the crawl ends."""

    def __init__(self, crawler: Crawler, run_id: str, summary_path: str | None) -> None:
        self.crawler = crawler
        self.run_id = run_id
        self.summary_path = summary_path
        self.started_at = datetime.now(UTC)
        self.summary: dict[str, Any] | None = None
        self.summary_key = f"runs/{run_id}.json"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        """Connect to the spider's open and close signals."""
        settings = crawler.settings
        extension = cls(
            crawler,
            settings.get("WIREARCHIVE_RUN_ID") or new_run_id(),
            settings.get("WIREARCHIVE_SUMMARY_PATH"),
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Note the start time."""
        self.started_at = datetime.now(UTC)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Save and sync the crawl state, then write the summary to the archive and --summary."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        uri = archive_uri(self.crawler)
        state: CrawlState | None = getattr(self.crawler, STATE_ATTRIBUTE, None)
        if state is not None:
            clean = reason == "finished" and not stats.get_value("archive/failed")
            try:
                await asyncio.to_thread(state.finish, clean=clean)
            except (StoreError, OSError, sqlite3.Error) as err:
                # The archive is whole; only the index copy in it is stale, so the next
                # run in a fresh place re-fetches pages and finds them already archived.
                logger.error("could not save the archive index to %s: %s", uri, err)
                stats.inc_value("errors/state_sync")
        summary = build_summary(
            stats.get_stats(),
            run_id=self.run_id,
            sources=[source.name for source in getattr(spider, "sources", ())],
            archive=uri,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
            close_reason=reason,
        )
        settings = self.crawler.settings
        summary["mode"] = settings.get("WIREARCHIVE_MODE") or "crawl"
        summary["health"] = await self._health(uri, spider, summary)
        if summary["mode"] == "backfill":
            summary["range"] = {
                "since": settings.get("WIREARCHIVE_SINCE"),
                "until": settings.get("WIREARCHIVE_UNTIL"),
                "urls": len(settings.getlist("WIREARCHIVE_URLS")),
            }
        try:
            await asyncio.to_thread(
                open_store(uri).put,
                self.summary_key,
                encode_json(summary),
                content_type="application/json",
                overwrite=True,
            )
        except StoreError as err:
            logger.error("could not write the run summary to %s: %s", uri, err)
            summary["status"] = "failed"
            summary["errors"] += 1
            summary["error_details"]["summary_write"] = 1
        if self.summary_path:
            Path(self.summary_path).write_bytes(encode_json(summary))
        self.summary = summary
        logger.info("run summary\n%s", format_summary(summary, self.summary_key))

    async def _health(
        self, uri: str, spider: Spider, summary: dict[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Judge each crawled source against its history, this run included."""
        sources = list(getattr(spider, "sources", ()))
        thresholds = {source.name: source.health for source in sources if source.health}
        try:
            health = await asyncio.to_thread(
                health_of_sources,
                open_store(uri),
                sources,
                datetime.now(UTC),
                thresholds=thresholds or None,
                extra_runs=[summary],
                max_runs=HEALTH_HISTORY_RUNS,
            )
        except StoreError as err:
            logger.warning("could not read the run history for source health: %s", err)
            return {}
        return {name: item.to_json() for name, item in health.items()}


# Runs read back for source health at the end of each run (one GET each on S3).
HEALTH_HISTORY_RUNS = 60


class Progress:
    """Print a progress line every few seconds: counts so far and pages/s."""

    def __init__(self, crawler: Crawler, interval: float, out: TextIO = sys.stderr) -> None:
        self.crawler = crawler
        self.interval = interval
        self.out = out
        self.started = time.monotonic()
        self.drawn = False  # a bar is on the terminal line: end it before the summary
        self.task = LoopingCall(self.report)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        """Read the interval; 0 turns progress lines off."""
        interval = crawler.settings.getfloat("WIREARCHIVE_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("WIREARCHIVE_PROGRESS_INTERVAL is 0")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Start the periodic report."""
        self.started = time.monotonic()
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Stop the periodic report."""
        if self.task.running:
            self.task.stop()
        if self.drawn:
            self.out.write("\n")
            self.out.flush()

    def report(self) -> None:
        """Write the progress: a bar redrawn in place on a terminal, else one line."""
        assert self.crawler.stats is not None
        line = progress_line(self.crawler.stats.get_stats(), time.monotonic() - self.started)
        if self.out.isatty():
            self.out.write(f"\r\x1b[K{line}")
            self.drawn = True
        else:
            self.out.write(f"progress: {line}\n")
        self.out.flush()


BAR_WIDTH = 24


def progress_line(stats: Mapping[str, Any], elapsed: float) -> str:
    """Return the progress of a run: a bar over the links found so far, counts, rate, ETA."""
    pages = int(stats.get("pages/fetched", 0))
    found = int(stats.get("discovery/article_links", 0))
    done = pages + sum(
        int(stats.get(key, 0))
        for key in (
            "incremental/skipped",
            "incremental/aliases",
            "backfill/out_of_range",
            "dupefilter/filtered",  # the same link listed twice is fetched once
        )
    )
    done += int(stats.get("rejected/blocked_address", 0)) + int(stats.get("rejected/robots_txt", 0))
    rate = pages / elapsed if elapsed > 0 else 0.0
    rejected = sum(_prefixed(stats, "rejected/").values())
    counts = (
        f"{pages} fetched, {stats.get('archive/stored', 0)} archived, "
        f"{sum(_prefixed(stats, 'dedup/').values())} duplicates, "
        f"{stats.get('incremental/skipped', 0)} skipped, {rejected} rejected, {rate:.1f} pages/s"
    )
    if found <= 0:
        return counts
    share = min(done / found, 1.0)
    filled = round(share * BAR_WIDTH)
    remaining = max(found - done, 0)
    eta = f"ETA {remaining / rate:.0f}s" if rate > 0 and remaining else "ETA -"
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{found} · {counts} · {eta}"
