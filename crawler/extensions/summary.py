"""The run summary (runs/{run_id}.json, --summary), built from the run's counters."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.monitoring.health import health_of_sources
from pipelines import outcomes
from pipelines.archive.keys import archive_uri, encode_json
from pipelines.archive.stores import StoreError, open_store
from pipelines.runstate import RunState

logger = logging.getLogger(__name__)

INTERRUPTED_REASONS = {"shutdown", "cancelled", "interrupted"}


def new_run_id(now: datetime | None = None) -> str:
    """Return a run id that sorts by start time: ``20261125T101500Z-1a2b3c``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


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
    error_details = outcomes.error_counts(stats)
    failed_writes = outcomes.value(stats, outcomes.WRITE_FAILED)
    if failed_writes:
        error_details["archive_write"] = failed_writes
    refused = outcomes.value(stats, outcomes.LOCK_LOST_REFUSED)
    if refused:
        error_details["archive_refused_lock_lost"] = refused
    spooled = outcomes.value(stats, outcomes.SPOOLED)
    if spooled:
        error_details["archive_spooled"] = spooled
    # A history backfill that could not list or read its archive's files did not do its job.
    unread = outcomes.value(stats, outcomes.HISTORY_FILES_FAILED) + outcomes.value(
        stats, outcomes.ERRORS + outcomes.HISTORY_LISTING_FAILED
    )
    if close_reason in INTERRUPTED_REASONS:
        status = "interrupted"
    elif failed_writes or spooled or unread or close_reason != "finished":
        status = "failed"
    else:
        status = "ok"
    elapsed = max((finished_at - started_at).total_seconds(), 0.0)
    pages = outcomes.value(stats, outcomes.PAGES_FETCHED)
    return {
        "run_id": run_id,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "status": status,
        "sources": sources,
        "pages_fetched": pages,
        "articles_archived": outcomes.value(stats, outcomes.STORED),
        "duplicates": outcomes.duplicate_counts(stats),
        "rejected": outcomes.rejected_counts(stats),
        "errors": sum(error_details.values()),
        "error_details": error_details,
        "unchanged": outcomes.value(stats, outcomes.UNCHANGED),
        "skipped": outcomes.value(stats, outcomes.SKIPPED),
        "listed_again": outcomes.value(stats, outcomes.ALIASES),
        "retry_later": outcomes.value(stats, outcomes.RETRY_LATER),
        "spooled": spooled,
        "revised": outcomes.value(stats, outcomes.REVISED),
        "archive": archive,
        "close_reason": close_reason,
        "elapsed_seconds": round(elapsed, 3),
        "pages_per_second": round(pages / elapsed, 2) if elapsed else 0.0,
        "discovery": outcomes.discovery_counts(stats),
        "retries": outcomes.value(stats, outcomes.RETRIES),
        "per_source": outcomes.per_source(stats),
        **_distributed(stats),
    }


def _distributed(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``frontier`` details of a distributed-mode run; nothing on one machine."""
    frontier = outcomes.frontier_counts(stats)
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
    if summary.get("listed_again"):
        rows.insert(
            4, ("listed again", f"{summary['listed_again']} (another form of a URL of this run)")
        )
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
        """Once the run state is saved, write the summary to the archive and --summary."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        uri = archive_uri(self.crawler)
        state = self.crawler.get_extension(RunState)
        if state is not None:
            # Its index upload may fail, an error this summary must count.
            await state.closed.wait()
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
                "from": settings.get("WIREARCHIVE_HISTORY"),
            }
            if settings.get("WIREARCHIVE_HISTORY"):
                summary["history"] = outcomes.history_counts(stats.get_stats())
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
