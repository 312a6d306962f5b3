"""Render the stats report as one self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from crawler.monitoring.gaps import Gap
from crawler.monitoring.stats_collect import DUPLICATE_KINDS, Report
from crawler.monitoring.stats_text import percent

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


CALENDAR_SHADES = ("#ebedf0", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
GAP_COLOR = "#cf222e"


def calendar(
    name: str, by_day: Mapping[date, int], days: Sequence[date], gaps: Iterable[Gap]
) -> str:
    """Return an SVG coverage calendar: a week a column, Monday on top, one cell a day shaded
    by its article count; gap days (far below the source's usual count) outlined in red."""
    if not days:
        return ""
    cell, pad, left, top = 12, 2, 30, 16
    first_monday = days[0] - timedelta(days=days[0].weekday())
    weeks = (days[-1] - first_monday).days // 7 + 1
    width, height = left + weeks * (cell + pad) + 8, top + 7 * (cell + pad) + 4
    peak = max((by_day.get(day, 0) for day in days), default=0)
    usual = {gap.day: gap.usual for gap in gaps}
    parts = [
        f'<svg class="calendar" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="coverage calendar of {html.escape(name)}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, label in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        parts.append(
            f'<text class="tick" x="0" y="{top + row * (cell + pad) + cell - 2}">{label}</text>'
        )
    for day in days:
        column, row = (day - first_monday).days // 7, day.weekday()
        x, y = left + column * (cell + pad), top + row * (cell + pad)
        if day.day == 1 or day == days[0]:
            parts.append(f'<text class="tick" x="{x}" y="{top - 4}">{day:%b}</text>')
        count = by_day.get(day, 0)
        shade = CALENDAR_SHADES[math.ceil(count / peak * 4) if peak and count else 0]
        title = f"{day}: {count} article{'' if count == 1 else 's'}"
        outline = ""
        if day in usual:
            title += f", usually {_num(usual[day])}: a gap"
            outline = f' class="gap" stroke="{GAP_COLOR}" stroke-width="2"'
        parts.append(
            f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2" fill="{shade}"'
            f"{outline}><title>{html.escape(title)}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def calendars(report: Report) -> str:
    """Return each source's calendar under its name, with its gap days listed."""
    parts = []
    for name, stats in report.sources.items():
        gaps = [gap for gap in stats.gaps if report.since <= gap.day <= report.until]
        listed = ", ".join(str(gap.day) for gap in gaps) or "none"
        parts.append(
            f"<h3>{html.escape(name)}</h3>"
            + calendar(name, stats.by_day, report.days, gaps)
            + f'<p class="muted">gap days: {html.escape(listed)}</p>'
        )
    return "".join(parts)


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #ddd}
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.chart .grid{stroke:#e4e4e4}.chart .axis{stroke:#888}.chart text{font-size:11px;fill:#444}
h3{font-size:1em;margin:1em 0 .2em}.calendar text{font-size:9px;fill:#666}
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
            f"{percent(s.duplicate_rate)} ({s.duplicates} of {s.articles + s.duplicates})",
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
                percent(s.duplicate_rate),
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
<h2>Coverage calendar per source</h2>
<p class="muted">articles a day by key date; days outlined in red yielded far less than the
source usually does (<code>wirearchive gaps</code>; <code>backfill --gaps</code> fills them)</p>
{calendars(report)}
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
