"""pipelines/daterange.py as tables: --since/--until days, ranges, ISO times from records."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from pipelines.daterange import DateRange, DateRangeError, parse_day, parse_time

OCT_10, OCT_20 = date(2026, 10, 10), date(2026, 10, 20)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-10", OCT_10),
        (" 2026-10-10 ", OCT_10),
        ("2026-10-10T23:59:59+05:00", OCT_10),  # a timestamp is cut to its date
        ("2026-10-10Z", OCT_10),
    ],
)
def test_parse_day(value: str, expected: date) -> None:
    assert parse_day(value, "--since") == expected


@pytest.mark.parametrize("value", ["", "yesterday", "2026-13-01", "10/10/2026", "2026-1-1"])
def test_parse_day_refuses_what_is_not_a_date(value: str) -> None:
    with pytest.raises(DateRangeError) as caught:
        parse_day(value, "--until")
    assert str(caught.value) == f"--until {value!r} is not a date; use YYYY-MM-DD"


def test_a_range_that_ends_before_it_starts_names_both_ends() -> None:
    with pytest.raises(DateRangeError) as caught:
        DateRange(OCT_20, OCT_10)
    assert str(caught.value) == "--until 2026-10-10 is before --since 2026-10-20"


@pytest.mark.parametrize(
    ("since", "until", "is_open"),
    [(None, None, True), (OCT_10, None, False), (None, OCT_10, False), (OCT_10, OCT_10, False)],
)
def test_open(since: date | None, until: date | None, is_open: bool) -> None:
    assert DateRange(since, until).open is is_open


@pytest.mark.parametrize(
    ("since", "until", "moment", "inside"),
    [
        (OCT_10, OCT_20, date(2026, 10, 9), False),
        (OCT_10, OCT_20, OCT_10, True),
        (OCT_10, OCT_20, OCT_20, True),
        (OCT_10, OCT_20, date(2026, 10, 21), False),
        (OCT_10, None, date(2030, 1, 1), True),
        (OCT_10, None, date(2026, 10, 9), False),
        (None, OCT_20, date(1999, 1, 1), True),
        (None, OCT_20, date(2026, 10, 21), False),
        (None, None, date(1999, 1, 1), True),
        # A time is judged by its UTC day; a naive one is taken as it is.
        (
            OCT_10,
            OCT_20,
            datetime(2026, 10, 20, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
            False,
        ),
        (OCT_10, OCT_20, datetime(2026, 10, 10, 1, 0, tzinfo=timezone(timedelta(hours=3))), False),
        (OCT_10, OCT_20, datetime(2026, 10, 9, 22, 0, tzinfo=timezone(timedelta(hours=-3))), True),
        (OCT_10, OCT_20, datetime(2026, 10, 20, 23, 59), True),
        (OCT_10, OCT_20, None, None),
    ],
)
def test_contains(since: date | None, until: date | None, moment: Any, inside: bool | None) -> None:
    assert DateRange(since, until).contains(moment) is inside


@pytest.mark.parametrize(
    ("start", "end", "meets"),
    [
        (date(2026, 10, 1), date(2026, 10, 9), False),
        (date(2026, 10, 1), OCT_10, True),
        (date(2026, 10, 15), date(2026, 10, 16), True),
        (OCT_20, date(2026, 10, 30), True),
        (date(2026, 10, 21), date(2026, 10, 30), False),
        (date(2026, 10, 1), date(2026, 10, 30), True),
    ],
)
def test_overlaps(start: date, end: date, meets: bool) -> None:
    assert DateRange(OCT_10, OCT_20).overlaps(start, end) is meets


@pytest.mark.parametrize(
    ("since", "until", "start", "end", "meets"),
    [
        (None, OCT_20, date(2000, 1, 1), date(2000, 1, 2), True),
        (None, OCT_20, date(2026, 10, 21), date(2026, 10, 22), False),
        (OCT_10, None, date(2030, 1, 1), date(2030, 1, 2), True),
        (OCT_10, None, date(2026, 10, 8), date(2026, 10, 9), False),
        (None, None, date(2000, 1, 1), date(2000, 1, 1), True),
    ],
)
def test_overlaps_with_an_open_end(
    since: date | None, until: date | None, start: date, end: date, meets: bool
) -> None:
    assert DateRange(since, until).overlaps(start, end) is meets


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        ("2026-10-10", True),
        ("2026-10-20T23:59:59Z", True),
        ("2026-10-21T00:00:00Z", False),
        ("2026-10-21T01:00:00+02:00", True),  # 20th in UTC
        ("2026-10-20T23:30:00", True),  # no zone: UTC
        ("2026-10-09T23:30:00", False),
        ("", False),
        (None, False),
        ("not a date", False),
    ],
)
def test_contains_iso(value: str | None, inside: bool) -> None:
    assert DateRange(OCT_10, OCT_20).contains_iso(value) is inside


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-10T12:00:00+00:00", datetime(2026, 10, 10, 12, tzinfo=UTC)),
        ("2026-10-10T12:00:00Z", datetime(2026, 10, 10, 12, tzinfo=UTC)),
        ("2026-10-10T12:00:00", datetime(2026, 10, 10, 12, tzinfo=UTC)),  # no zone: UTC
        (
            "2026-10-10T12:00:00+05:30",
            datetime(2026, 10, 10, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2026-10-10", datetime(2026, 10, 10, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1_760_000_000, None),
        (["2026-10-10"], None),
    ],
)
def test_parse_time(value: Any, expected: datetime | None) -> None:
    parsed = parse_time(value)
    assert parsed == expected
    if expected is not None:
        assert parsed is not None
        assert parsed.utcoffset() == expected.utcoffset()


def test_a_range_cannot_be_changed_after_it_is_checked() -> None:
    # __post_init__ checks the order once: a range changed later would escape the check.
    wanted = DateRange(OCT_10, OCT_20)
    with pytest.raises(FrozenInstanceError):
        wanted.since = date(2026, 10, 30)  # type: ignore[misc]
