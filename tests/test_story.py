"""A story's trail and its timeline: delays after the original, order, and plot geometry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crawler.serve.story import format_delay, story_of
from crawler.serve.timeline import LEFT, RIGHT, WIDTH, timeline_of
from pipelines.search.index import Copy

ORIGINAL = {
    "id": "orig",
    "source": "wiredaily",
    "url": "https://wiredaily.example/a",
    "title": "A story",
    "published": "2026-11-20T08:00:00+00:00",
    "fetched_at": "2026-11-20T09:00:00+00:00",
}


def copy(ident: str, source: str, fetched_at: str | None, kind: str = "near") -> Copy:
    return Copy(
        ident,
        "orig",
        f"duplicates/{ident}.json",
        f"https://{source}/x",
        source,
        fetched_at,
        kind,
        0.9,
        None,
    )


@pytest.mark.parametrize(
    ("delay", "text"),
    [
        (timedelta(0), "+0 min"),
        (timedelta(minutes=45, seconds=59), "+45 min"),
        (timedelta(hours=3, minutes=12), "+3 h 12 min"),
        (timedelta(days=2, hours=3, minutes=5), "+2 d 3 h"),
        (timedelta(minutes=-5), "-5 min"),
        (None, "unknown"),
    ],
)
def test_delays_read_like_people_write_them(delay: timedelta | None, text: str) -> None:
    assert format_delay(delay) == text


def test_copies_count_from_the_original_publication_and_come_first_seen_first() -> None:
    story = story_of(
        ORIGINAL,
        [
            copy("late", "c.example", "2026-11-21T08:00:00+00:00"),
            copy("early", "b.example", "2026-11-20T08:30:00"),  # no zone: UTC
            copy("undated", "d.example", None, kind="url"),
        ],
    )
    assert [a.id for a in story.all] == ["orig", "early", "late", "undated"]
    assert [a.delay_text for a in story.all] == ["original", "+30 min", "+1 d 0 h", "unknown"]
    assert story.outlets == ["wiredaily", "b.example", "c.example", "d.example"]


def test_without_a_publication_time_the_original_counts_from_its_fetch() -> None:
    story = story_of(
        {**ORIGINAL, "published": None}, [copy("c", "b.example", "2026-11-20T10:00:00+00:00")]
    )
    assert story.copies[0].delay == timedelta(hours=1)


def test_timeline_puts_the_original_left_and_copies_by_delay() -> None:
    story = story_of(
        ORIGINAL,
        [
            copy("a", "b.example", "2026-11-20T10:00:00+00:00"),
            copy("b", "c.example", "2026-11-20T12:00:00+00:00"),
            copy("u", "d.example", None),
        ],
    )
    plot = timeline_of(story)
    assert [m.x for m in plot.marks] == [LEFT, LEFT + (WIDTH - LEFT - RIGHT) / 2, WIDTH - RIGHT]
    assert [m.label for m in plot.marks] == ["wiredaily", "b.example", "c.example"]
    assert plot.undated == 1
    assert plot.ticks[0].label == "+0 min" and plot.ticks[-1].label == "+4 h 0 min"


def test_a_copy_seen_before_the_original_was_published_stays_on_the_plot() -> None:
    story = story_of(ORIGINAL, [copy("early", "b.example", "2026-11-20T07:00:00+00:00")])
    plot = timeline_of(story)
    assert [m.x for m in plot.marks] == [WIDTH - RIGHT, LEFT]  # the copy left of the original
    assert story.copies[0].delay_text == "-1 h 0 min"
