"""Coverage gaps: the rule as a table of made-up histories, then the command on real archives."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from crawler.commands import gaps as gaps_command
from crawler.commands import stats as stats_command
from crawler.monitoring.gaps import (
    GapRule,
    daily_counts,
    day_spans,
    find_gaps,
    gap_days,
    period,
)
from pipelines.archive.stores import open_store

# A Monday, so that day n of a history is weekday n % 7 (0: Monday).
START = date(2026, 6, 1)
NOW = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)  # a Tuesday; yesterday is 2026-08-31


def _history(days: int, weekday: int, weekend: int, overrides: dict[int, int]) -> Counter[date]:
    """``days`` days from START: ``weekday`` articles Mon-Fri, ``weekend`` Sat-Sun, with
    day-number overrides."""
    counts: Counter[date] = Counter()
    for n in range(days):
        value = overrides.get(n, weekend if n % 7 >= 5 else weekday)
        if value:
            counts[START + timedelta(days=n)] = value
    return counts


def _days(*numbers: int) -> list[date]:
    return [START + timedelta(days=n) for n in numbers]


# (name, history, judged from day n, expected gap day numbers). The expected days are worked
# out by hand from the rule: usual = median of the same weekday's last 8 non-gap counts (at
# least 3 known); gap = usual >= 3 and count < usual / 4.
GAP_TABLE = [
    ("steady source, no gap", _history(70, 20, 20, {}), 0, []),
    ("one day at 2 of a usual 20 is a gap", _history(70, 20, 20, {40: 2}), 0, [40]),
    ("5 of a usual 20 is a quarter: not below it", _history(70, 20, 20, {40: 5}), 0, []),
    ("4 of a usual 20 is below a quarter", _history(70, 20, 20, {40: 4}), 0, [40]),
    ("an empty day is a gap", _history(70, 20, 20, {40: 0}), 0, [40]),
    # Weekends at 6 against weekdays at 40: judged by weekday, never a gap.
    ("quiet weekends are usual", _history(70, 40, 6, {}), 0, []),
    ("an empty Saturday among quiet ones", _history(70, 40, 6, {61: 0}), 0, [61]),
    ("a weekday at weekend level", _history(70, 40, 6, {59: 6}), 0, [59]),
    # A week-long outage: every day of it, since gap days never join the baseline.
    (
        "a week-long outage stays a week of gaps",
        _history(70, 20, 20, dict.fromkeys(range(40, 47), 0)),
        0,
        list(range(40, 47)),
    ),
    # Three weeks down: the baseline is still the weeks before the outage.
    (
        "a three-week outage",
        _history(84, 20, 20, dict.fromkeys(range(50, 71), 1)),
        0,
        list(range(50, 71)),
    ),
    # Six weeks down at 1 a day: were gap days to join the baseline, each weekday's median
    # would fall to 1 after five of them, and the last week would pass as usual.
    (
        "a six-week outage",
        _history(98, 20, 20, dict.fromkeys(range(50, 92), 1)),
        0,
        list(range(50, 92)),
    ),
    ("a source usually this quiet is never judged", _history(70, 2, 2, {40: 0}), 0, []),
    # A day needs three of its weekday behind it to be judged.
    ("two weeks are too few", _history(70, 20, 20, {13: 0}), 0, []),
    ("three weeks are enough", _history(70, 20, 20, {21: 0}), 0, [21]),
    # Days before `since` form the baseline but are not reported.
    ("only the period is reported", _history(70, 20, 20, {22: 0, 40: 0}), 30, [40]),
    # The gap on day 22 (a Tuesday) stays out of later Tuesdays' baseline: 29 is judged
    # against 1, 8, 15 (20 each), and 36 and 43 too.
    (
        "a gap never lowers the baseline",
        _history(70, 20, 20, {22: 0, 29: 4, 36: 4}),
        0,
        [22, 29, 36],
    ),
    ("no articles at all", Counter(), 0, []),
]


@pytest.mark.parametrize(
    ("history", "since", "expected"),
    [pytest.param(h, s, e, id=name) for name, h, s, e in GAP_TABLE],
)
def test_gap_rule(history: Counter[date], since: int, expected: list[int]) -> None:
    last = max(history, default=START)  # a history's last day has articles
    found = find_gaps(history, START + timedelta(days=since), last)
    assert [gap.day for gap in found] == _days(*expected)


def test_gap_reports_the_count_and_the_usual_it_was_judged_against() -> None:
    history = _history(70, 40, 6, {59: 6, 61: 1})
    found = find_gaps(history, START, START + timedelta(days=69))
    assert [(g.day, g.count, g.usual) for g in found] == [
        (START + timedelta(days=59), 6, 40.0),
        (START + timedelta(days=61), 1, 6.0),
    ]


def test_days_before_the_first_article_are_not_gaps() -> None:
    history = _history(70, 20, 20, dict.fromkeys(range(14), 0))
    assert find_gaps(history, START, START + timedelta(days=69)) == []


def test_a_rule_can_be_stricter() -> None:
    history = _history(70, 20, 20, {40: 8})
    assert find_gaps(history, START, START + timedelta(days=69)) == []
    strict = GapRule(fraction=0.5)
    assert [g.day for g in find_gaps(history, START, START + timedelta(days=69), strict)] == (
        _days(40)
    )


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (None, None, (date(2026, 6, 3), date(2026, 8, 31))),
        (date(2026, 8, 1), None, (date(2026, 8, 1), date(2026, 8, 31))),
        # Today and later are not over yet: the period stops at yesterday.
        (date(2026, 8, 1), date(2026, 9, 30), (date(2026, 8, 1), date(2026, 8, 31))),
        (None, date(2026, 7, 31), (date(2026, 5, 3), date(2026, 7, 31))),
    ],
)
def test_period(since: date | None, until: date | None, expected: tuple[date, date]) -> None:
    assert period(since, until, NOW) == expected


def _write(root: Path, key: str) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"id": key}))


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """wiredaily: 10 articles a weekday and 3 a weekend day from 2026-06-01 to 2026-08-31,
    except 2026-08-12 (2 articles) and 2026-08-20..21 (none); lahoreledger: 4 a day."""
    root = tmp_path / "archive"
    history = _history(92, 10, 3, {72: 2, 80: 0, 81: 0})
    for day, count in history.items():
        for i in range(count):
            _write(root, f"articles/wiredaily/{day:%Y/%m/%d}/w{day:%m%d}{i:02d}.json")
        # Revisions and temporary files are not articles.
        _write(root, f"articles/wiredaily/{day:%Y/%m/%d}/w{day:%m%d}00.v2.json")
        _write(root, f"articles/wiredaily/{day:%Y/%m/%d}/.w{day:%m%d}.json.tmp")
    for n in range(92):
        day = START + timedelta(days=n)
        for i in range(4):
            _write(root, f"articles/lahoreledger/{day:%Y/%m/%d}/l{day:%m%d}{i}.json")
    return root


WIRE_GAPS = ["2026-08-12", "2026-08-20", "2026-08-21"]


def test_daily_counts_read_only_the_months_asked(archive: Path) -> None:
    counts = daily_counts(
        open_store(str(archive)), "wiredaily", date(2026, 8, 10), date(2026, 8, 16)
    )
    assert counts == Counter(
        {
            date(2026, 8, 10): 10,
            date(2026, 8, 11): 10,
            date(2026, 8, 12): 2,
            date(2026, 8, 13): 10,
            date(2026, 8, 14): 10,
            date(2026, 8, 15): 3,
            date(2026, 8, 16): 3,
        }
    )


def _run(module: object, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers())  # type: ignore[attr-defined]
    args = parser.parse_args(list(argv))
    status: int = args.handler(args)
    return status


def test_gaps_json(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = _run(
        gaps_command,
        "gaps", "--source", "wiredaily", "--archive", str(archive), "--json",
        "--since", "2026-08-01", "--now", NOW.isoformat(),
    )  # fmt: skip
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source"] == "wiredaily"
    assert (result["since"], result["until"], result["days"]) == ("2026-08-01", "2026-08-31", 31)
    assert result["gaps"] == [
        {"day": "2026-08-12", "count": 2, "usual": 10.0},
        {"day": "2026-08-20", "count": 0, "usual": 10.0},
        {"day": "2026-08-21", "count": 0, "usual": 10.0},
    ]
    # 21 weekdays at 10 and 10 weekend days at 3, less the gaps' missing 28.
    assert result["articles"] == 21 * 10 + 10 * 3 - 8 - 20


def test_gaps_text_and_backfill_hint(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = _run(
        gaps_command,
        "gaps", "--source", "wiredaily", "--archive", str(archive),
        "--since", "2026-08-01", "--until", "2026-08-31", "--now", NOW.isoformat(),
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0
    assert out.splitlines()[0].startswith("wiredaily: 3 gap days in 2026-08-01..2026-08-31")
    assert [line.split()[0] for line in out.splitlines()[1:4]] == WIRE_GAPS
    assert "2026-08-12  Wed       2 articles  usually 10" in out
    assert "backfill --source wiredaily --from ccnews --since 2026-08-01" in out


def test_a_source_without_gaps(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = _run(
        gaps_command,
        "gaps", "--source", "lahoreledger", "--archive", str(archive), "--json",
        "--now", NOW.isoformat(),
    )  # fmt: skip
    assert status == 0
    assert json.loads(capsys.readouterr().out)["gaps"] == []


def test_gap_days_for_backfill(archive: Path) -> None:
    store = open_store(str(archive))
    found = gap_days(store, "wiredaily", date(2026, 8, 15), None, now=NOW)
    assert [str(day) for day in found] == WIRE_GAPS[1:]


def test_an_unknown_source_is_named(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  - name: wiredaily\n    feeds: [https://example.org/rss.xml]\n")
    status = _run(
        gaps_command,
        "gaps", "--source", "wiredaly", "--config", str(config), "--archive", str(archive),
    )  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert "no source named 'wiredaly'" in err
    assert "wiredaily" in err


def test_a_period_not_over_yet(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = _run(
        gaps_command,
        "gaps", "--source", "wiredaily", "--archive", str(archive),
        "--since", "2026-09-01", "--now", NOW.isoformat(),
    )  # fmt: skip
    assert status == 2
    assert "judged once over" in capsys.readouterr().err


def test_stats_shows_a_coverage_calendar(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "stats.html"
    status = _run(
        stats_command,
        "stats", "--archive", str(archive), "--days", "31", "--json", "--html", str(page),
        "--now", "2026-08-31T12:00:00+00:00",
    )  # fmt: skip
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    # Today (08-31) is not over: judged up to 08-30.
    assert [gap["day"] for gap in report["sources"]["wiredaily"]["gaps"]] == WIRE_GAPS
    assert report["sources"]["lahoreledger"]["gaps"] == []
    html = page.read_text()
    assert html.count('aria-label="coverage calendar of') == 2
    outlined = html.count('class="gap"')
    assert outlined == 3
    assert "2026-08-20: 0 articles, usually 10: a gap" in html
    assert "2026-08-19: 10 articles</title>" in html
    assert "gap days: 2026-08-12, 2026-08-20, 2026-08-21" in html


def test_gaps_on_s3(archive: Path, s3_bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    # From mid-July: three Thursdays and Fridays before the gaps of 08-20 and 08-21.
    store = open_store(f"s3://{s3_bucket}/wire")
    paths = [
        path
        for path in sorted((archive / "articles" / "wiredaily").rglob("*.json"))
        if path.relative_to(archive).parts[3:5] >= ("07", "15")
    ]
    assert len(paths) > 300

    def upload(path: Path) -> None:
        key = path.relative_to(archive).as_posix()
        store.put(key, path.read_bytes(), content_type="application/json")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(upload, paths))
    status = _run(
        gaps_command,
        "gaps", "--source", "wiredaily", "--archive", f"s3://{s3_bucket}/wire", "--json",
        "--since", "2026-08-15", "--now", NOW.isoformat(),
    )  # fmt: skip
    assert status == 0
    assert [gap["day"] for gap in json.loads(capsys.readouterr().out)["gaps"]] == WIRE_GAPS[1:]


@pytest.mark.parametrize(
    ("days", "spans"),
    [
        ([], []),
        ([1], [(1, 1)]),
        ([1, 2, 3], [(1, 3)]),
        ([3, 1, 2, 2], [(1, 3)]),
        ([1, 3], [(1, 1), (3, 3)]),
        ([1, 2, 5, 6, 7, 9], [(1, 2), (5, 7), (9, 9)]),
    ],
)
def test_day_spans(days: list[int], spans: list[tuple[int, int]]) -> None:
    as_dates = [START + timedelta(days=n) for n in days]
    expected = [(START + timedelta(days=a), START + timedelta(days=b)) for a, b in spans]
    assert day_spans(as_dates) == expected


def test_day_spans_cross_months() -> None:
    days = [date(2026, 1, 31), date(2026, 2, 1), date(2026, 12, 31), date(2027, 1, 1)]
    assert day_spans(days) == [
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 12, 31), date(2027, 1, 1)),
    ]


# -- stats and gaps agree: both judge a period on the same weeks of history before it ------

AGREE_NOW = "2026-09-01T09:30:00+00:00"
LEVEL_CHANGE = date(2026, 6, 7)  # 8 weeks before 08-02: the first day gaps reads
EMPTY_DAY = date(2026, 8, 19)


@pytest.fixture
def moved_source(tmp_path: Path) -> Path:
    """A source that published 20 articles a day, then 4 a day from the first day of the
    baseline gaps reads for August on, with one empty day in August."""
    root = tmp_path / "archive"
    day = date(2026, 5, 1)
    while day <= date(2026, 8, 31):
        count = 0 if day == EMPTY_DAY else 20 if day < LEVEL_CHANGE else 4
        folder = root / f"articles/wire/{day:%Y/%m/%d}"
        folder.mkdir(parents=True)
        for n in range(count):
            (folder / f"a{day:%m%d}{n:02d}.json").write_text("{}")
        day += timedelta(days=1)
    return root


def test_stats_and_gaps_find_the_same_gap_days(
    moved_source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # stats --days 31 covers 08-02..09-01 and judges up to 08-31; gaps reads from 06-07 on.
    common = ("--archive", str(moved_source), "--json", "--now", AGREE_NOW)
    assert _run(stats_command, "stats", "--days", "31", *common) == 0
    stats = json.loads(capsys.readouterr().out)
    assert _run(gaps_command, "gaps", "--source", "wire", "--since", stats["since"], *common) == 0
    gaps = json.loads(capsys.readouterr().out)
    # The drop to 4 a day is the source's normal by now: only the empty day is a gap.
    assert [gap["day"] for gap in gaps["gaps"]] == [EMPTY_DAY.isoformat()]
    assert stats["sources"]["wire"]["gaps"] == gaps["gaps"]
