"""``wirearchive stats``: a small archive written by hand, reported as text, JSON and HTML."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crawler.commands import stats as report
from crawler.monitoring.stats_collect import collect
from crawler.monitoring.stats_html import bar_chart, line_chart
from pipelines.archive.keys import parse_dated_key

NOW = "2026-11-25T12:00:00+00:00"
HISTORY = Path(__file__).parent / "fixtures" / "archive-history"

ARTICLES = {
    "wiredaily": {"2026/11/23": 1, "2026/11/24": 2, "2026/11/25": 3, "2026/01/05": 4},
    "lahoreledger": {"2026/11/24": 2, "2026/11/25": 1},
}
DUPLICATES = {
    "wiredaily/2026/11/25/d1.json": "exact",
    "wiredaily/2026/11/25/d2.json": "near",
    "wiredaily/2026/11/24/d3.json": "exact",
    "lahoreledger/2026/11/25/d4.json": "url",
}


def _write(root: Path, key: str, data: bytes | str) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    for source, days in ARTICLES.items():
        for day, count in days.items():
            for i in range(count):
                key = f"articles/{source}/{day}/{source[:4]}{day.replace('/', '')}{i:04d}.json"
                _write(root, key, json.dumps({"id": key, "source": source}))
                _write(root, key.replace("articles/", "raw/").replace(".json", ".warc.gz"), b"x")
    # A revision is not a new article; a temp file is not an object.
    _write(root, "articles/wiredaily/2026/11/25/wire202611250000.v2.json", "{}")
    _write(root, "articles/wiredaily/2026/11/25/.wire.json.abc.tmp", "{}")
    for key, kind in DUPLICATES.items():
        _write(root, f"duplicates/{key}", json.dumps({"kind": kind, "source": key.split("/")[0]}))
    # Outside the period: never read (it is not even JSON).
    _write(root, "duplicates/wiredaily/2026/01/05/old.json", b"\xff not json")
    for run in sorted((HISTORY / "runs").glob("*.json")):
        _write(root, f"runs/{run.name}", run.read_bytes())
    old_run = json.loads(next((HISTORY / "runs").glob("*.json")).read_text())
    old_run.update(
        run_id="20260101T000000Z-000000",
        started_at="2026-01-01T00:00:00+00:00",
        status="failed",
        rejected={"ancient": 9},
    )
    _write(root, "runs/20260101T000000Z-000000.json", json.dumps(old_run))
    return root


def _stats(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    report.add_parser(parser.add_subparsers())
    args = parser.parse_args(["stats", "--now", NOW, *argv])
    status: int = args.handler(args)
    return status


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("articles/a/2026/11/25/x.json", ("articles", "a", date(2026, 11, 25), "x.json")),
        ("duplicates/b-c/2026/01/02/y.json", ("duplicates", "b-c", date(2026, 1, 2), "y.json")),
        ("articles/a/2026/13/25/x.json", None),
        ("articles/a/2026/11/x.json", None),
        ("runs/r.json", None),
    ],
)
def test_parse_dated_key(key: str, parsed: tuple[str, str, date, str] | None) -> None:
    assert parse_dated_key(key) == parsed


def test_collect(archive: Path) -> None:
    from pipelines.archive.local_store import LocalStore  # noqa: PLC0415

    result = collect(LocalStore(archive), datetime.fromisoformat(NOW), days=90)
    wire, lahore = result.sources["wiredaily"], result.sources["lahoreledger"]
    assert (wire.articles, wire.articles_total, wire.revisions) == (6, 10, 1)
    assert wire.by_day[date(2026, 11, 25)] == 3
    assert dict(wire.duplicates_by_kind) == {"exact": 2, "near": 1}
    assert wire.duplicate_rate == pytest.approx(3 / 9)
    assert (lahore.articles, lahore.duplicates, lahore.rejected) == (3, 1, 9)
    assert result.rejected == {"http_404": 8, "too_short": 2}  # not the January run's
    assert result.runs == 6
    assert wire.last_run is not None
    assert wire.last_run["run_id"] == "20261125T090000Z-0d1e2f"
    assert result.sources["metroobserver"].articles == 0
    assert result.since == date(2026, 8, 28)
    everything = collect(LocalStore(archive), datetime.fromisoformat(NOW), days=0)
    assert everything.since == date(2026, 1, 1)
    assert everything.sources["wiredaily"].articles == 10
    assert everything.sources["wiredaily"].duplicates_by_kind["unreadable"] == 1
    assert everything.rejected["ancient"] == 9


def test_text(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _stats("--archive", str(archive), "--days", "30") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"archive {archive}: 2026-10-27 .. 2026-11-25 (30 days), 6 runs (6 ok)"
    header = lines[1].split()
    assert header[:4] == ["source", "articles", "per", "day"]
    rows = {line.split()[0]: line.split() for line in lines[2:5]}
    assert rows["wiredaily"][:8] == ["wiredaily", "6", "0.2", "3", "0", "2", "1", "33.3%"]
    assert rows["wiredaily"][8:] == ["1", "2026-11-25", "09:00", "ok"]
    assert rows["lahoreledger"][:9] == [
        "lahoreledger",
        "3",
        "0.1",
        "1",
        "1",
        "0",
        "0",
        "25.0%",
        "9",
    ]
    assert rows["metroobserver"][1] == "0"
    assert "rejects by reason: http_404 8 · too_short 2" in lines
    assert "articles by day (last 14 days; --json for every day):" in lines
    day_rows = lines[lines.index("articles by day (last 14 days; --json for every day):") + 1 :]
    assert day_rows[0].split() == ["day", "lahoreledger", "metroobserver", "wiredaily"]
    assert day_rows[1].split() == ["2026-11-25", "1", "0", "3"]
    assert day_rows[2].split() == ["2026-11-24", "2", "0", "2"]
    assert len(day_rows) == 15


def test_json(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _stats("--archive", str(archive), "--json", "--days", "7") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["since"], data["until"]) == ("2026-11-19", "2026-11-25")
    assert data["rejected"] == {"http_404": 8, "too_short": 2}
    assert data["duplicates_by_kind"] == {"url": 1, "exact": 2, "near": 1}
    wire = data["sources"]["wiredaily"]
    assert wire["articles"] == 6
    assert wire["duplicates_by_kind"] == {"url": 0, "exact": 2, "near": 1}
    assert wire["duplicate_rate"] == 0.3333
    assert wire["articles_by_day"] == {
        "2026-11-19": 0,
        "2026-11-20": 0,
        "2026-11-21": 0,
        "2026-11-22": 0,
        "2026-11-23": 1,
        "2026-11-24": 2,
        "2026-11-25": 3,
    }
    assert wire["last_run"] == {
        "run_id": "20261125T090000Z-0d1e2f",
        "started_at": "2026-11-25T09:00:00+00:00",
        "status": "ok",
        "new": 1,
        "links": 12,
        "fetched": 1,
        "duplicates": 0,
        "rejected": 0,
        "discovery_errors": 0,
    }
    assert data["sources"]["lahoreledger"]["last_run"]["rejected"] == 4


def test_html(archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "report.html"
    assert _stats("--archive", str(archive), "--html", str(page), "--days", "14") == 0
    assert f"HTML report: {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # Self-contained: no scripts, no stylesheets or images fetched from anywhere.
    assert "<script" not in text
    assert not re.search(r"""(src|href)\s*=""", text)
    # Three charts, and a coverage calendar per source (3 sources).
    assert text.count('<svg class="chart"') == 3
    assert text.count('<svg class="calendar"') == 3
    assert text.count("<svg") == 6
    # Articles per day: one line per source, one point per day, with the count in its title.
    assert text.count('<polyline class="series"') == 3
    assert "<title>wiredaily 2026-11-25: 3</title>" in text
    assert "<title>lahoreledger 2026-11-24: 2</title>" in text
    assert text.count("<circle") == 3 * 14
    # Duplicate rate per source and rejects by reason: bars with their numbers.
    assert "<title>wiredaily: 33.3% (3 of 9)</title>" in text
    assert "<title>lahoreledger: 25.0% (1 of 4)</title>" in text
    assert "<title>http_404: 8</title>" in text
    assert "<title>too_short: 2</title>" in text
    # Last runs table.
    assert "20261125T090000Z-0d1e2f" in text
    assert '<td class="status-ok">ok</td>' in text


def test_html_escapes_names() -> None:
    svg = bar_chart([("<b>&", 1.0, "1")], "x")
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
    chart = line_chart({"a<": [0, 5]}, [date(2026, 1, 1), date(2026, 1, 2)])
    assert "a&lt;" in chart
    empty = line_chart({}, [date(2026, 1, 1)])
    assert empty.startswith("<svg") and empty.endswith("</svg>")


def test_sources_of_the_config_are_listed(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        f"archive: {archive}\nsources:\n  - name: quietone\n    feeds: [https://q.example/rss]\n",
        encoding="utf-8",
    )
    assert _stats("--config", str(config), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sources"]["quietone"]["articles"] == 0
    assert data["sources"]["quietone"]["last_run"] is None
    assert data["archive"] == str(archive)


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _stats("--archive", str(tmp_path / "missing")) == 1
    assert "does not exist" in capsys.readouterr().err
    assert _stats("--archive", str(tmp_path), "--days", "-1") == 2


def test_empty_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(tmp_path, ignore_errors=True)
    tmp_path.mkdir()
    page = tmp_path / "r.html"
    assert _stats("--archive", str(tmp_path), "--html", str(page)) == 0
    out = capsys.readouterr().out
    assert "no articles, duplicates or runs in this period" in out
    assert "rejects by reason: none" in out
    assert page.read_text(encoding="utf-8").count("<svg") == 3


def test_now_is_utc() -> None:
    assert datetime.fromisoformat(NOW).tzinfo == UTC
