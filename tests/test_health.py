"""Source health from the run history: table tests on synthetic runs, and a real archive."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.commands import health
from crawler.monitoring.health import Thresholds, assess, health_of_sources, thresholds_for
from crawler.sources import Source
from pipelines.archive.local_store import LocalStore

T0 = datetime(2026, 11, 1, tzinfo=UTC)
EVERY = timedelta(minutes=15)
HISTORY = Path(__file__).parent / "fixtures" / "archive-history"

OK = {"links": 8, "fetched": 3, "stored": 3, "skipped": 5}
QUIET: dict[str, int] = {}  # nothing listed, nothing new: per_source has no entry
LISTED = {"links": 8, "skipped": 8}  # every listed link already archived
REJECTED = {"links": 4, "fetched": 4, "rejected": 4}
BROKEN_FEED = {"discovery_errors": 1, "links": 2, "fetched": 2, "stored": 1, "unchanged": 1}


def history(
    counts: Sequence[Mapping[str, int] | tuple[Mapping[str, int], str]],
    every: timedelta = EVERY,
    name: str = "s",
) -> list[dict[str, Any]]:
    """One run summary per entry (counts, or (counts, status)), ``every`` apart from T0."""
    runs = []
    for i, entry in enumerate(counts):
        per, status = entry if isinstance(entry, tuple) else (entry, "ok")
        start = T0 + i * every
        runs.append(
            {
                "run_id": f"{start:%Y%m%dT%H%M%SZ}-{i:06x}",
                "started_at": start.isoformat(),
                "finished_at": (start + timedelta(seconds=30)).isoformat(),
                "status": status,
                "sources": [name],
                "per_source": {name: dict(per)} if per else {},
            }
        )
    return runs


def after(runs: Sequence[Mapping[str, Any]], delta: timedelta) -> datetime:
    return datetime.fromisoformat(runs[-1]["started_at"]) + delta


CASES: list[tuple[str, list[Any], timedelta, str, str]] = [
    # (case, per-run counts, now after the last run start, status, reason contains)
    ("two runs", [OK, OK], EVERY, "unknown", "2 runs recorded; 3 needed"),
    ("no runs", [], EVERY, "unknown", "0 runs recorded"),
    ("steady", [OK] * 10, EVERY, "healthy", "last run ok: 3 new, 8 links, 0 rejected"),
    (
        "went quiet",
        [OK] * 10 + [QUIET] * 4,
        EVERY,
        "unhealthy",
        "nothing new and no links listed in its last 4 runs for 75 min (> 3 x 15 min",
    ),
    ("quiet, not for long", [OK] * 10 + [QUIET] * 2, timedelta(minutes=1), "healthy", "0 new"),
    ("quiet, usually idle", [OK, QUIET, QUIET, OK, QUIET] * 2 + [QUIET] * 6, EVERY, "healthy", ""),
    ("listing but nothing new", [OK] * 10 + [LISTED] * 10, EVERY, "healthy", "8 links"),
    ("never produced", [QUIET] * 5, EVERY, "unknown", "no baseline"),
    ("dead for long", [OK] * 10 + [QUIET] * 60, EVERY, "unhealthy", "last 60 runs"),
    (
        "all rejected",
        [OK] * 5 + [REJECTED] * 2,
        EVERY,
        "unhealthy",
        "all 8 pages fetched in the last 2 runs were rejected",
    ),
    ("rejected once", [OK] * 5 + [REJECTED], EVERY, "healthy", "4 rejected"),
    (
        "rejected around an interrupted run",
        [OK] * 5 + [REJECTED, ({}, "interrupted"), REJECTED],
        EVERY,
        "unhealthy",
        "were rejected",
    ),
    (
        "discovery errors",
        [OK] * 5 + [BROKEN_FEED] * 2,
        EVERY,
        "unhealthy",
        "failed in each of the last 2 runs (2 discovery errors)",
    ),
    ("one discovery error", [OK] * 5 + [BROKEN_FEED, OK], EVERY, "healthy", ""),
]


@pytest.mark.parametrize(
    ("counts", "delta", "status", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_assess(counts: list[Any], delta: timedelta, status: str, reason: str) -> None:
    runs = history(counts)
    now = after(runs, delta) if runs else T0
    verdict = assess(runs, "s", now, None)
    assert (verdict.status, verdict.runs) == (status, len(runs))
    assert reason in verdict.reason


def test_usual_interval_comes_from_productive_runs() -> None:
    # Hourly runs, new articles every second run: the usual interval is 2 h, so a quiet
    # spell of 5 h is normal and one of 7 h is not.
    runs = history([OK, LISTED] * 6 + [QUIET] * 4, every=timedelta(hours=1))
    active = datetime.fromisoformat(runs[11]["started_at"])
    assert assess(runs, "s", active + timedelta(hours=5), None).status == "healthy"
    verdict = assess(runs, "s", active + timedelta(hours=7), None)
    assert verdict.status == "unhealthy"
    assert "2.0 h, median gap between productive runs" in verdict.reason


def test_schedule_gives_the_interval_when_history_cannot() -> None:
    # One productive run, then quiet: no productive gap; the schedule says hourly.
    runs = history([{"stored": 5, "links": 5}, QUIET, QUIET, QUIET], every=timedelta(hours=1))
    source = Source(name="s", feeds=("https://s.example/rss",), schedule="0 * * * *")
    verdict = assess(runs, source, after(runs, timedelta(minutes=30)), None)
    assert verdict.status == "unhealthy"
    assert "schedule '0 * * * *'" in verdict.reason


def test_a_scheduled_source_that_stopped_running_is_unhealthy() -> None:
    runs = history([OK] * 5)
    source = Source(name="s", feeds=("https://s.example/rss",), schedule="*/15 * * * *")
    assert assess(runs, source, after(runs, timedelta(minutes=40)), None).status == "healthy"
    verdict = assess(runs, source, after(runs, timedelta(hours=2)), None)
    assert verdict.status == "unhealthy"
    assert verdict.reason.startswith("not crawled for 2.0 h")
    # A source without a schedule is crawled by hand: no expectation of regular runs.
    assert assess(runs, "s", after(runs, timedelta(days=9)), None).status == "healthy"


def test_other_sources_runs_do_not_count() -> None:
    runs = history([OK] * 5, name="other")
    assert assess(runs, "s", T0, None).status == "unknown"


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        (None, "unhealthy"),
        (Thresholds(quiet_intervals=10), "healthy"),
        ({"s": {"quiet_intervals": 10}}, "healthy"),
        ({"*": {"quiet_intervals": 10}}, "healthy"),
        ({"*": {"quiet_intervals": 10}, "s": {"quiet_intervals": 2}}, "unhealthy"),
        ({"other": {"quiet_intervals": 10}}, "unhealthy"),
        ({"s": Thresholds(min_new_per_run=5)}, "healthy"),
        ({"s": {"min_history": 20}}, "unknown"),
    ],
)
def test_thresholds_per_source(spec: Any, status: str) -> None:
    runs = history([OK] * 10 + [QUIET] * 4)
    assert assess(runs, "s", after(runs, EVERY), spec).status == status


def test_thresholds_for_merges_overrides() -> None:
    spec = {"*": {"failing_runs": 3}, "s": {"quiet_intervals": 5}}
    assert thresholds_for("s", spec) == Thresholds(failing_runs=3, quiet_intervals=5)
    assert thresholds_for("t", spec) == Thresholds(failing_runs=3)
    assert thresholds_for("t") == Thresholds()


def test_health_json() -> None:
    runs = history([OK] * 10 + [QUIET] * 4)
    data = assess(runs, "s", after(runs, EVERY), None).to_json()
    assert data["status"] == "unhealthy"
    assert data["last_new_at"] == "2026-11-01T02:15:30+00:00"
    assert data["last_run_at"] == "2026-11-01T03:15:00+00:00"
    assert data["runs"] == 14


def _write_runs(root: Path, runs: Sequence[Mapping[str, Any]]) -> LocalStore:
    store = LocalStore(root)
    for run in runs:
        store.put(f"runs/{run['run_id']}.json", json.dumps(run).encode())
    return store


def test_health_of_sources_reads_the_store_and_counts_the_current_run_once(
    tmp_path: Path,
) -> None:
    runs = history([OK] * 10 + [QUIET] * 3)
    store = _write_runs(tmp_path, runs[:-1])
    store.put("runs/garbage.json", b"{not json")
    now = after(runs, EVERY)
    # The run being finished is not in the store yet: passed as an extra run.
    result = health_of_sources(store, ["s", "never-ran"], now, extra_runs=[runs[-1]])
    assert result["s"].status == "unhealthy"
    assert result["s"].runs == 13
    assert result["never-ran"].status == "unknown"
    # Already written: not counted twice.
    store.put(f"runs/{runs[-1]['run_id']}.json", json.dumps(runs[-1]).encode())
    again = health_of_sources(store, ["s"], now, extra_runs=[runs[-1]])
    assert again["s"].runs == 13


# ---------------------------------------------------------------- a real archive folder

NOW = "2026-11-25T09:30:00+00:00"
CONFIG = """\
sources:
  - name: wiredaily
    feeds: [https://wiredaily.example/rss]
  - name: lahoreledger
    feeds: [https://lahoreledger.example/rss]
  - name: metroobserver
    start_urls: [https://metroobserver.example/]
  - name: newcomer
    feeds: [https://newcomer.example/rss]
"""


def _health(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    health.add_parser(parser.add_subparsers())
    args = parser.parse_args(["health", *argv])
    status: int = args.handler(args)
    return status


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_health_command_over_a_written_archive(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _health("--config", str(config), "--archive", str(HISTORY), "--now", NOW)
    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert len(lines) == 4
    by_name = {line.split()[0]: line for line in lines}
    assert by_name["wiredaily"].split()[1] == "healthy"
    assert "(last new article: 2026-11-25 09:00 UTC)" in by_name["wiredaily"]
    assert by_name["lahoreledger"].split()[1] == "unhealthy"
    assert "all 8 pages fetched in the last 2 runs were rejected" in by_name["lahoreledger"]
    assert "(last new article: 2026-11-25 07:00 UTC)" in by_name["lahoreledger"]
    assert by_name["metroobserver"].split()[1] == "unhealthy"
    assert (
        "nothing new and no links listed in its last 3 runs for 3.5 h" in (by_name["metroobserver"])
    )
    assert "feeds answered 304 Not Modified in 1 of them" in by_name["metroobserver"]
    assert by_name["newcomer"].split()[1] == "unknown"
    assert "(last new article: never)" in by_name["newcomer"]


def test_health_command_json_and_exit_0_when_all_are_healthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(CONFIG.split("  - name: lahoreledger", maxsplit=1)[0], encoding="utf-8")
    status = _health("--config", str(config), "--archive", str(HISTORY), "--now", NOW, "--json")
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["unhealthy"] == []
    assert data["sources"]["wiredaily"]["status"] == "healthy"
    assert data["sources"]["wiredaily"]["runs"] == 6


def test_health_command_without_config_judges_the_recorded_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./sources.yaml here
    status = _health("--archive", str(HISTORY), "--now", NOW, "--json")
    data = json.loads(capsys.readouterr().out)
    assert status == 1
    assert data["unhealthy"] == ["lahoreledger", "metroobserver"]


def test_health_command_missing_archive_exits_1(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _health("--config", str(config), "--archive", str(tmp_path / "nope"))
    assert status == 1
    assert "does not exist" in capsys.readouterr().err
