"""Collect what the archive holds, per source: articles by day, duplicates, rejects, runs.

Articles by day come from the keys alone (``articles/{source}/{YYYY}/{MM}/{DD}/{id}.json``);
duplicates by kind read each ``duplicates/...`` object's ``kind`` (one GET each, so only the
last ``--days`` days by key date); rejects by reason and the last run per source come from the
run summaries (``runs/*.json``) of the same period.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crawler.monitoring.gaps import Gap, article_day, judge
from crawler.monitoring.history import runs_since
from pipelines.archive.keys import parse_dated_key
from pipelines.archive.stores import Store, StoreError
from pipelines.daterange import parse_time

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 90
DUPLICATE_KINDS = ("url", "exact", "near")


@dataclass
class SourceStats:
    """One source's numbers over the report's period (``articles_total``: all time)."""

    articles: int = 0
    articles_total: int = 0
    revisions: int = 0
    by_day: Counter[date] = field(default_factory=Counter)
    duplicates: int = 0
    duplicates_by_kind: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    last_run: dict[str, Any] | None = None
    all_by_day: Counter[date] = field(default_factory=Counter)  # every day (gaps.judge windows it)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def duplicate_rate(self) -> float:
        """duplicates / (articles + duplicates) over the period; 0 when there are neither."""
        seen = self.articles + self.duplicates
        return self.duplicates / seen if seen else 0.0


@dataclass
class Report:
    """Everything ``stats`` prints."""

    archive: str
    generated_at: datetime
    since: date
    until: date
    sources: dict[str, SourceStats]
    rejected: Counter[str]
    runs: int
    runs_by_status: Counter[str]

    @property
    def days(self) -> list[date]:
        """Every day of the period, oldest first."""
        count = (self.until - self.since).days + 1
        return [self.since + timedelta(days=i) for i in range(max(count, 0))]

    def duplicates_by_kind(self) -> Counter[str]:
        """Duplicates by kind over every source."""
        total: Counter[str] = Counter()
        for stats in self.sources.values():
            total.update(stats.duplicates_by_kind)
        return total

    def to_json(self) -> dict[str, Any]:
        """Return the report as one JSON-ready object."""
        days = self.days
        return {
            "archive": self.archive,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "runs": self.runs,
            "runs_by_status": dict(sorted(self.runs_by_status.items())),
            "rejected": dict(sorted(self.rejected.items())),
            "duplicates_by_kind": _kinds(self.duplicates_by_kind()),
            "sources": {
                name: {
                    "articles": stats.articles,
                    "articles_total": stats.articles_total,
                    "revisions": stats.revisions,
                    "duplicates": stats.duplicates,
                    "duplicates_by_kind": _kinds(stats.duplicates_by_kind),
                    "duplicate_rate": round(stats.duplicate_rate, 4),
                    "rejected": stats.rejected,
                    "articles_by_day": {day.isoformat(): stats.by_day[day] for day in days},
                    "gaps": [gap.to_json() for gap in stats.gaps],
                    "last_run": stats.last_run,
                }
                for name, stats in self.sources.items()
            },
        }


def _kinds(counts: Mapping[str, int]) -> dict[str, int]:
    ordered = {kind: int(counts.get(kind, 0)) for kind in DUPLICATE_KINDS}
    ordered.update({kind: n for kind, n in sorted(counts.items()) if kind not in ordered})
    return ordered


def _duplicate_kind(store: Store, key: str) -> str:
    try:
        record = json.loads(store.get(key))
    except (StoreError, ValueError) as err:
        logger.warning("cannot read duplicate record %s: %s", key, err)
        return "unreadable"
    kind = record.get("kind") if isinstance(record, dict) else None
    return kind if isinstance(kind, str) else "unknown"


def _last_run(run: Mapping[str, Any], name: str) -> dict[str, Any]:
    counts = (run.get("per_source") or {}).get(name) or {}
    return {
        "run_id": run.get("run_id"),
        "started_at": run.get("started_at"),
        "status": run.get("status"),
        "new": int(counts.get("stored", 0)) + int(counts.get("revised", 0)),
        "links": int(counts.get("links", 0)),
        "fetched": int(counts.get("fetched", 0)),
        "duplicates": int(counts.get("duplicates", 0)),
        "rejected": int(counts.get("rejected", 0)),
        "discovery_errors": int(counts.get("discovery_errors", 0)),
    }


def _count_articles(
    store: Store, table: dict[str, SourceStats], since: date | None, today: date
) -> tuple[date, date]:
    """Count articles per source and day from the keys; return the days they span."""
    first_day = until = today
    for key in store.keys("articles/"):
        article = article_day(key)
        if article is None:
            continue
        name, day, revision = article
        stats = table.setdefault(name, SourceStats())
        if not revision:
            stats.articles_total += 1
            stats.all_by_day[day] += 1
        if since and day < since:
            continue
        first_day, until = min(first_day, day), max(until, day)
        if revision:
            stats.revisions += 1
        else:
            stats.articles += 1
            stats.by_day[day] += 1
    return first_day, until


def collect(
    store: Store,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    sources: Iterable[str] = (),
) -> Report:
    """Gather the report from the archive: ``days`` days up to ``now`` (0: all history).

    ``sources`` are listed even when the archive has nothing of theirs yet.
    """
    today = now.astimezone(UTC).date()
    since: date | None = today - timedelta(days=days - 1) if days > 0 else None
    table: dict[str, SourceStats] = {name: SourceStats() for name in sources}
    first_day, until = _count_articles(store, table, since, today)
    for key in store.keys("duplicates/"):
        parsed = parse_dated_key(key)
        if parsed is None or not parsed[3].endswith(".json"):
            continue
        _, name, day, _ = parsed
        if since and day < since:
            continue
        first_day, until = min(first_day, day), max(until, day)
        stats = table.setdefault(name, SourceStats())
        stats.duplicates += 1
        stats.duplicates_by_kind[_duplicate_kind(store, key)] += 1
    runs = runs_since(store, since)
    rejected: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for run in runs:
        started = parse_time(run.get("started_at"))
        if started is not None:
            first_day = min(first_day, started.astimezone(UTC).date())
        statuses[str(run.get("status"))] += 1
        rejected.update({str(k): int(v) for k, v in (run.get("rejected") or {}).items() if int(v)})
        per_source = run.get("per_source") or {}
        for name in dict.fromkeys([*(run.get("sources") or ()), *per_source]):
            stats = table.setdefault(str(name), SourceStats())
            stats.rejected += int((per_source.get(name) or {}).get("rejected", 0))
            stats.last_run = _last_run(run, str(name))  # runs are oldest first
    # Gaps are judged up to yesterday (today is not over), on the baseline `gaps` reads.
    for stats in table.values():
        stats.gaps = judge(stats.all_by_day, since or first_day, today - timedelta(days=1))
    return Report(
        archive=store.uri,
        generated_at=now,
        since=since or first_day,
        until=until,
        sources=dict(sorted(table.items())),
        rejected=rejected,
        runs=len(runs),
        runs_by_status=statuses,
    )
