"""``wirearchive stats``: what the archive holds, per source, as text, JSON or a static HTML page.

Articles by day come from the keys alone (``articles/{source}/{YYYY}/{MM}/{DD}/{id}.json``);
duplicates by kind read each ``duplicates/...`` object's ``kind`` (one GET each, so only the
last ``--days`` days by key date); rejects by reason and the last run per source come from the
run summaries (``runs/*.json``) of the same period.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.monitoring.health import open_archive, parse_time, resolve_sources
from crawler.sources import ConfigError
from pipelines.archive.stores import Store, StoreError

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 90
TEXT_DAYS = 14
DUPLICATE_KINDS = ("url", "exact", "near")
_RUN_KEY = re.compile(r"^runs/(\d{8})T\d{6}Z[^/]*\.json$")
_REVISION = re.compile(r"\.v\d+\.json$")
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
)


def parse_dated_key(key: str) -> tuple[str, str, date, str] | None:
    """Split ``{kind}/{source}/{YYYY}/{MM}/{DD}/{name}`` into its parts, or None."""
    parts = key.split("/")
    if len(parts) != 6:
        return None
    kind, source, year, month, day, name = parts
    try:
        return kind, source, date(int(year), int(month), int(day)), name
    except ValueError:
        return None


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


def _read_runs(store: Store, since: date | None) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for key in sorted(store.keys("runs/")):
        if not key.endswith(".json"):
            continue
        match = _RUN_KEY.match(key)
        if since and match and match[1] < f"{since:%Y%m%d}":
            continue
        try:
            run = json.loads(store.get(key))
        except (StoreError, ValueError) as err:
            logger.warning("skipping unreadable run summary %s: %s", key, err)
            continue
        started = parse_time(run.get("started_at")) if isinstance(run, dict) else None
        if started is None or (since and started.date() < since):
            continue
        runs.append(run)
    runs.sort(key=lambda run: str(run.get("started_at")))
    return runs


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
    first_day = today
    until = today
    for key in store.keys("articles/"):
        parsed = parse_dated_key(key)
        if parsed is None or not parsed[3].endswith(".json"):
            continue
        _, name, day, filename = parsed
        stats = table.setdefault(name, SourceStats())
        revision = bool(_REVISION.search(filename))
        if not revision:
            stats.articles_total += 1
        if since and day < since:
            continue
        first_day, until = min(first_day, day), max(until, day)
        if revision:
            stats.revisions += 1
        else:
            stats.articles += 1
            stats.by_day[day] += 1
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
    runs = _read_runs(store, since)
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


# ---------------------------------------------------------------- text


def _percent(value: float) -> str:
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
                _percent(stats.duplicate_rate),
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


# ---------------------------------------------------------------- HTML and SVG


def _nice_step(value: float) -> int:
    """Round a tick step up to 1, 2 or 5 times a power of ten (at least 1: counts)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return int(next(f * power for f in (1, 2, 5, 10) if value <= f * power))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def line_chart(series: Mapping[str, Sequence[int]], days: Sequence[date]) -> str:
    """Return an SVG line chart: one polyline per series over the days, with axes and legend."""
    width, height = 900, 300
    left, right, top, bottom = 48, 16, 12, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((max(v, default=0) for v in series.values()), default=0)
    tick_step = _nice_step(highest / 4)
    ticks = max(1, math.ceil(highest / tick_step))
    peak = float(ticks * tick_step)
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(days) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h - value / peak * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" aria-label="articles per day per source" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(ticks + 1):
        value = tick * tick_step
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="tick" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{_num(value)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>'
    )
    label_every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{day:%m-%d}</text>'
            )
    for index, (name, values) in enumerate(series.items()):
        color = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" '
            f'points="{points}"><title>{html.escape(name)}</title></polyline>'
        )
        for i, value in enumerate(values):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.5" fill="{color}">'
                f"<title>{html.escape(name)} {days[i]}: {value}</title></circle>"
            )
        legend_x = left + (index % 6) * 140
        legend_y = height - 22 + (index // 6) * 14
        parts.append(
            f'<rect x="{legend_x}" y="{legend_y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text class="legend" x="{legend_x + 14}" y="{legend_y}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: Sequence[tuple[str, float, str]], label: str, color: str = PALETTE[0]) -> str:
    """Return an SVG horizontal bar chart of (label, value, value as text) rows."""
    width, bar, gap, left, right = 900, 18, 8, 180, 120
    height = max(len(rows), 1) * (bar + gap) + gap
    peak = max((value for _, value, _ in rows), default=0) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, value, text) in enumerate(rows):
        top = gap + i * (bar + gap)
        length = (width - left - right) * value / peak
        parts.append(
            f'<text class="legend" x="{left - 8}" y="{top + bar - 5}" text-anchor="end">'
            f"{html.escape(name)}</text>"
            f'<rect class="bar" x="{left}" y="{top}" width="{length:.1f}" height="{bar}" '
            f'fill="{color}"><title>{html.escape(name)}: {html.escape(text)}</title></rect>'
            f'<text class="value" x="{left + length + 6:.1f}" y="{top + bar - 5}">'
            f"{html.escape(text)}</text>"
        )
    if not rows:
        parts.append(f'<text class="legend" x="{left}" y="{gap + bar - 5}">none</text>')
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #ddd}
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.chart .grid{stroke:#e4e4e4}.chart .axis{stroke:#888}.chart text{font-size:11px;fill:#444}
.status-ok{color:#1a7f37}.status-failed{color:#cf222e;font-weight:bold}
.status-interrupted{color:#9a6700}.muted{color:#777}
"""


def _cells(values: Iterable[object], numeric_from: int = 1) -> str:
    return "".join(
        f'<td class="n">{html.escape(str(v))}</td>'
        if i >= numeric_from
        else f"<td>{html.escape(str(v))}</td>"
        for i, v in enumerate(values)
    )


def render_html(report: Report) -> str:
    """Return the self-contained HTML report: inline CSS and SVG, no scripts, no fetches."""
    days = report.days
    series = {name: [s.by_day[d] for d in days] for name, s in report.sources.items()}
    dup_rows = [
        (
            name,
            s.duplicate_rate,
            f"{_percent(s.duplicate_rate)} ({s.duplicates} of {s.articles + s.duplicates})",
        )
        for name, s in report.sources.items()
    ]
    reject_rows = [(reason, float(n), str(n)) for reason, n in report.rejected.most_common()]
    summary_rows = "".join(
        "<tr>"
        + _cells(
            (
                name,
                s.articles,
                s.articles_total,
                s.duplicates,
                *(s.duplicates_by_kind[k] for k in DUPLICATE_KINDS),
                _percent(s.duplicate_rate),
                s.rejected,
            )
        )
        + "</tr>"
        for name, s in report.sources.items()
    )
    run_rows = []
    for name, s in report.sources.items():
        run = s.last_run
        if run is None:
            run_rows.append(
                f'<tr><td>{html.escape(name)}</td><td colspan="8" class="muted">'
                "no run in this period</td></tr>"
            )
            continue
        status = str(run.get("status"))
        run_rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(run.get('started_at')))}</td>"
            f'<td class="status-{html.escape(status)}">{html.escape(status)}</td>'
            + _cells(
                (
                    run["new"],
                    run["links"],
                    run["fetched"],
                    run["duplicates"],
                    run["rejected"],
                    run["discovery_errors"],
                ),
                numeric_from=0,
            )
            + f'<td class="muted">{html.escape(str(run.get("run_id")))}</td></tr>'
        )
    title = f"wirearchive stats: {report.archive}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{report.since} .. {report.until} ({len(days)} days) · {report.runs} runs
({html.escape(", ".join(f"{n} {s}" for s, n in sorted(report.runs_by_status.items())) or "none")})
· generated {report.generated_at:%Y-%m-%d %H:%M} UTC</p>
<h2>Articles per day per source</h2>
{line_chart(series, days)}
<h2>Duplicate rate per source</h2>
<p class="muted">duplicates / (articles + duplicates) over the period</p>
{bar_chart(dup_rows, "duplicate rate per source", PALETTE[3])}
<h2>Rejects by reason</h2>
{bar_chart(reject_rows, "rejects by reason", PALETTE[1])}
<h2>Sources</h2>
<table><tr><th>source</th><th>articles</th><th>all time</th><th>duplicates</th><th>url</th>
<th>exact</th><th>near</th><th>dup rate</th><th>rejected</th></tr>
{summary_rows}</table>
<h2>Last run per source</h2>
<table><tr><th>source</th><th>started</th><th>status</th><th>new</th><th>links</th>
<th>fetched</th><th>duplicates</th><th>rejected</th><th>discovery errors</th><th>run</th></tr>
{"".join(run_rows)}</table>
</body></html>
"""


# ---------------------------------------------------------------- the command


def stats_report(
    config_path: str | None,
    archive: str | None,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
) -> Report:
    """Collect the report of the configured (or given) archive."""
    sources, uri = resolve_sources(config_path, archive)
    store = open_archive(uri)
    return collect(store, now, days=days, sources=[s.name for s in sources or ()])


def run(args: argparse.Namespace) -> int:
    """Handle ``stats``: print text or JSON, and write the HTML report when asked."""
    if args.days < 0:
        print("wirearchive: stats: --days must be 0 (all) or more", file=sys.stderr)
        return 2
    now = parse_time(args.now) if args.now else datetime.now(UTC)
    if now is None:
        print(f"wirearchive: stats: --now {args.now!r} is not an ISO 8601 time", file=sys.stderr)
        return 2
    try:
        report = stats_report(args.config, args.archive, now, days=args.days)
    except (ConfigError, StoreError) as err:
        print(f"wirearchive: stats: {err}", file=sys.stderr)
        return 1
    if args.html:
        try:
            Path(args.html).write_text(render_html(report), encoding="utf-8")
        except OSError as err:
            print(f"wirearchive: stats: cannot write {args.html}: {err}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(format_text(report))
        if args.html:
            print(f"HTML report: {Path(args.html).resolve()}")
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``stats`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "stats", help="articles by day, duplicates, rejects and last runs per source"
    )
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--html", metavar="PATH", help="also write a static HTML report here")
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        metavar="N",
        help=f"the last N days by key date ({DEFAULT_DAYS}; 0 for all)",
    )
    parser.add_argument("--now", help=argparse.SUPPRESS)  # a fixed 'now' for tests and replays
    parser.set_defaults(handler=run)
