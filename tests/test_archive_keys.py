"""Where articles are filed, and what counts as an HTML page."""

from datetime import date

import pytest

from pipelines.archive.keys import archive_date, dated_key
from pipelines.extract.pipeline import is_html


@pytest.mark.parametrize(
    ("published", "fetched_at", "expected"),
    [
        ("2020-02-20T23:00:00+05:00", "2026-11-25T10:00:00+00:00", date(2020, 2, 20)),
        ("2020-02-20T23:00:00-05:00", "2026-11-25T10:00:00+00:00", date(2020, 2, 21)),
        ("2020-02-20T23:30:00", "2026-11-25T10:00:00+00:00", date(2020, 2, 20)),  # zone-less: UTC
        ("2020-02-20", "2026-11-25T10:00:00+00:00", date(2020, 2, 20)),
        (None, "2026-11-25T10:00:00+00:00", date(2026, 11, 25)),
        ("not a date", "2026-11-25T10:00:00+00:00", date(2026, 11, 25)),
    ],
)
def test_archive_date(published: str | None, fetched_at: str, expected: date) -> None:
    assert archive_date(published, fetched_at) == expected


def test_dated_key_shape() -> None:
    key = dated_key("articles", "urdupoint", date(2020, 2, 3), "abc.json")
    assert key == "articles/urdupoint/2020/02/03/abc.json"


@pytest.mark.parametrize(
    ("content_type", "content", "expected"),
    [
        ("text/html; charset=utf-8", b"", True),
        ("TEXT/HTML", b"", True),
        ("application/xhtml+xml", b"", True),
        ("application/pdf", b"<html>", False),
        ("application/json", b"{}", False),
        (None, b"  <!DOCTYPE html><html>", True),
        (None, b"<html lang=en>", True),
        (None, b"%PDF-1.4", False),
    ],
)
def test_is_html(content_type: str | None, content: bytes, expected: bool) -> None:
    assert is_html(content_type, content) is expected


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(1, 1, 1), "0001"), (date(995, 6, 7), "0995"), (date(9999, 12, 31), "9999")],
)
def test_dated_key_year_is_always_four_digits(day: date, year: str) -> None:
    assert dated_key("articles", "s", day, "a.json") == f"articles/s/{year}/{day:%m/%d}/a.json"
