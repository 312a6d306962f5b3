"""Render the stats report as compact text tables for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from crawler.monitoring.stats_collect import Report
from pipelines.daterange import parse_time

# The text shows the last two weeks by day; --json and --html show every day.
TEXT_DAYS = 14


def percent(value: float) -> str:
    """Return a share as a percentage with one decimal."""
    return f"{100 * value:.1f}%"


def _run_cell(run: Mapping[str, Any] | None) -> str:
    if not run:
        return "none in period"
    started = parse_time(run.get("started_at"))
    when = started.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if started else "?"
    return f"{when} {run.get('status')}"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)
) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in [header, *rows]
    ]


def format_text(report: Report) -> str:
    """Return the compact text tables of the report."""
    period = len(report.days)
    lines = [
        f"archive {report.archive}: {report.since} .. {report.until} ({period} days), "
        f"{report.runs} runs"
        + (
            " (" + ", ".join(f"{n} {s}" for s, n in sorted(report.runs_by_status.items())) + ")"
            if report.runs
            else ""
        ),
    ]
    header = (
        "source",
        "articles",
        "per day",
        "dups",
        "url",
        "exact",
        "near",
        "dup rate",
        "rejected",
        "last run",
    )
    rows = []
    for name, stats in report.sources.items():
        kinds = stats.duplicates_by_kind
        rows.append(
            (
                name,
                str(stats.articles),
                f"{stats.articles / max(period, 1):.1f}",
                str(stats.duplicates),
                str(kinds["url"]),
                str(kinds["exact"]),
                str(kinds["near"]),
                percent(stats.duplicate_rate),
                str(stats.rejected),
                _run_cell(stats.last_run),
            )
        )
    if rows:
        lines += _table(header, rows, left=(0, len(header) - 1))
    else:
        lines.append("no articles, duplicates or runs in this period")
    reasons = " · ".join(f"{k} {v}" for k, v in report.rejected.most_common())
    lines.append(f"rejects by reason: {reasons or 'none'}")
    recent = report.days[-TEXT_DAYS:]
    if report.sources and recent:
        names = list(report.sources)
        lines.append(f"articles by day (last {len(recent)} days; --json for every day):")
        lines += _table(
            ("day", *names),
            [
                (day.isoformat(), *(str(report.sources[n].by_day[day]) for n in names))
                for day in reversed(recent)
            ],
        )
    return "\n".join(lines)
