"""The run summary is built from crawl stats."""

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from crawler.extensions.progress import Progress, progress_line
from crawler.extensions.summary import build_summary, format_summary, new_run_id

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def summary(stats: dict[str, int], reason: str = "finished") -> dict:
    return build_summary(
        stats,
        run_id="r1",
        sources=["a", "b"],
        archive="./archive",
        started_at=START,
        finished_at=START + timedelta(seconds=10),
        close_reason=reason,
    )


def test_counts_come_from_stats() -> None:
    result = summary(
        {
            "pages/fetched": 12,
            "archive/stored": 9,
            "archive/unchanged": 1,
            "dedup/near": 2,
            "rejected/http_404": 1,
            "rejected/no_body": 1,
            "errors/feed": 3,
            "source/a/stored": 9,
        }
    )
    assert result["pages_fetched"] == 12
    assert result["articles_archived"] == 9
    assert result["duplicates"] == {"url": 0, "exact": 0, "near": 2}
    assert result["rejected"] == {"http_404": 1, "no_body": 1}
    assert result["errors"] == 3
    assert result["per_source"] == {"a": {"stored": 9}}
    assert result["pages_per_second"] == 1.2
    assert result["status"] == "ok"


@pytest.mark.parametrize(
    ("stats", "reason", "status"),
    [
        ({}, "finished", "ok"),
        ({"errors/feed": 2}, "finished", "ok"),  # a broken feed is counted, not fatal
        ({"archive/failed": 1}, "finished", "failed"),
        ({}, "shutdown", "interrupted"),
        ({}, "closespider_errorcount", "failed"),
    ],
)
def test_status(stats: dict[str, int], reason: str, status: str) -> None:
    assert summary(stats, reason)["status"] == status


def test_failed_writes_count_as_errors() -> None:
    result = summary({"archive/failed": 2})
    assert result["errors"] == 2
    assert result["error_details"] == {"archive_write": 2}


def test_format_summary_names_the_outcomes() -> None:
    text = format_summary(summary({"archive/stored": 4, "rejected/http_404": 1}), "runs/r1.json")
    assert "r1: ok" in text
    assert "http_404 1" in text
    assert "runs/r1.json" in text


def test_run_ids_sort_by_time_and_differ() -> None:
    early, late = new_run_id(START), new_run_id(START + timedelta(seconds=1))
    assert early < late
    assert early.startswith("20261125T100000Z-")
    assert new_run_id(START) != new_run_id(START)


@pytest.mark.parametrize(
    ("stats", "elapsed", "expected"),
    [
        (
            {},
            1.0,
            "0 pages fetched, 0 articles archived, 0 duplicates, "
            "0 already archived (not fetched), 0 rejected, 0.0 pages/s",
        ),
        (
            {
                "discovery/article_links": 40,
                "pages/fetched": 10,
                "archive/stored": 8,
                "dedup/near": 1,
                "rejected/http_404": 1,
                "incremental/skipped": 10,
            },
            5.0,
            "[############............] 20/40 · 10 pages fetched, 8 articles archived, "
            "1 duplicates, 10 already archived (not fetched), 1 rejected, 2.0 pages/s · ETA 10s",
        ),
        (
            {"discovery/article_links": 4, "pages/fetched": 4, "archive/stored": 4},
            2.0,
            "[########################] 4/4 · 4 pages fetched, 4 articles archived, "
            "0 duplicates, 0 already archived (not fetched), 0 rejected, 2.0 pages/s · ETA -",
        ),
    ],
)
def test_progress_line(stats: dict[str, int], elapsed: float, expected: str) -> None:
    assert progress_line(stats, elapsed) == expected


@pytest.mark.parametrize(
    "stats",
    [
        {"rejected/http_404": 1, "rejected/video_only": 1},  # make demo: the bar said 1
        {"rejected/too_short": 2, "urllength/request_ignored_count": 1},
        {"rejected/bad_scheme": 3, "rejected/blocked_address": 1, "pages/fetched": 2},
    ],
)
def test_progress_and_summary_count_the_same_rejections(stats: dict[str, int]) -> None:
    built = summary(stats)
    line = progress_line(stats, 1.0)
    assert f"{sum(built['rejected'].values())} rejected" in line
    assert f"{built['pages_fetched']} pages fetched" in line
    assert f"{built['skipped']} already archived" in line


def test_progress_ends_with_a_line_that_agrees_with_the_summary() -> None:
    stats = {"pages/fetched": 3, "rejected/http_404": 1}
    crawler = SimpleNamespace(stats=SimpleNamespace(get_stats=lambda: stats))
    out = io.StringIO()
    progress = Progress(crawler, 3600.0, out)  # type: ignore[arg-type]
    progress.task.start(3600.0, now=False)  # no periodic line would come before the end
    stats["rejected/video_only"] = 1  # counted after the last periodic line
    progress.spider_closed(None, "finished")  # type: ignore[arg-type]
    assert out.getvalue().startswith("progress: 3 pages fetched, ")
    assert "2 rejected" in out.getvalue()
    assert not progress.task.running
