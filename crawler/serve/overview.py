"""The sources page's figures: the monitoring code's health and stats, plus the last runs.

Nothing is computed twice: health comes from ``crawler.monitoring.health``, articles per
day and duplicate share from ``crawler.monitoring.stats_collect`` (the ``wirearchive stats``
report), both over the archive's run summaries and keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawler.monitoring.health import Health, health_of_sources
from crawler.monitoring.history import load_history
from crawler.monitoring.stats_collect import Report, collect
from crawler.monitoring.stats_html import line_chart
from crawler.sources import Source
from pipelines.archive.stores import Store

OVERVIEW_DAYS = 30
LAST_RUNS = 10


@dataclass(frozen=True)
class SourceRow:
    """One source on the sources page."""

    name: str
    health: Health
    articles: int
    articles_total: int
    per_day: float
    duplicates: int
    duplicate_share: float
    rejected: int
    last_run: Mapping[str, Any] | None
    agencies: list[tuple[str, int]]


@dataclass(frozen=True)
class Overview:
    """Everything the sources page shows."""

    generated_at: datetime
    report: Report
    rows: list[SourceRow]
    runs: list[dict[str, Any]]
    chart: str  # SVG from the stats report, its labels escaped there

    def to_json(self) -> dict[str, Any]:
        """Return the page's figures as one JSON-ready object."""
        return {
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "since": self.report.since.isoformat(),
            "until": self.report.until.isoformat(),
            "sources": {
                row.name: {
                    "health": row.health.to_json(),
                    "articles": row.articles,
                    "articles_total": row.articles_total,
                    "articles_per_day": round(row.per_day, 2),
                    "duplicates": row.duplicates,
                    "duplicate_share": round(row.duplicate_share, 4),
                    "rejected": row.rejected,
                    "last_run": row.last_run,
                    "agencies": [{"agency": a, "stories": n} for a, n in row.agencies],
                }
                for row in self.rows
            },
            "runs": self.runs,
        }


def _run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    duplicates = run.get("duplicates") or {}
    return {
        "run_id": run.get("run_id"),
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "status": run.get("status"),
        "sources": list(run.get("sources") or ()),
        "pages_fetched": run.get("pages_fetched"),
        "articles_archived": run.get("articles_archived"),
        "duplicates": sum(int(n) for n in duplicates.values())
        if isinstance(duplicates, Mapping)
        else None,
        "errors": run.get("errors"),
    }


def overview(
    store: Store,
    now: datetime,
    *,
    sources: Sequence[Source] | None = None,
    agencies: Mapping[str, list[tuple[str, int]]] | None = None,
    days: int = OVERVIEW_DAYS,
) -> Overview:
    """Gather the sources page: health, counts over ``days`` days, and the last runs."""
    report = collect(store, now, days=days, sources=[s.name for s in sources or ()])
    judged: list[Source | str] = list(sources) if sources else list(report.sources)
    health = health_of_sources(store, judged, now)
    period = max(len(report.days), 1)
    rows = [
        SourceRow(
            name=name,
            health=health[name],
            articles=stats.articles,
            articles_total=stats.articles_total,
            per_day=stats.articles / period,
            duplicates=stats.duplicates,
            duplicate_share=stats.duplicate_rate,
            rejected=stats.rejected,
            last_run=stats.last_run,
            agencies=list((agencies or {}).get(name, []))[:5],
        )
        for name, stats in report.sources.items()
        if name in health
    ]
    runs = [_run_row(run) for run in reversed(load_history(store, LAST_RUNS))]
    series = {name: [s.by_day[d] for d in report.days] for name, s in report.sources.items()}
    return Overview(
        generated_at=now.astimezone(UTC),
        report=report,
        rows=rows,
        runs=runs,
        chart=line_chart(series, report.days),
    )
