"""Backoff with Retry-After."""

from datetime import UTC, datetime

import pytest

from crawler.downloadermiddlewares.retry import retry_delay

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retry_after", "attempt", "expected"),
    [
        (None, 1, 1.0),
        (None, 2, 2.0),
        (None, 3, 4.0),
        (None, 10, 60.0),  # capped
        ("5", 1, 5.0),  # Retry-After seconds beat a shorter backoff
        ("0", 3, 4.0),  # ... but never shorten it
        ("3600", 1, 60.0),  # capped
        ("Wed, 25 Nov 2026 12:00:30 GMT", 1, 30.0),  # HTTP date
        ("Wed, 25 Nov 2026 11:00:00 GMT", 2, 2.0),  # a date in the past
        ("soon", 2, 2.0),  # junk is ignored
        ("  7 ", 1, 7.0),
    ],
)
def test_retry_delay(retry_after: str | None, attempt: int, expected: float) -> None:
    assert retry_delay(retry_after, attempt, base=1.0, cap=60.0, now=NOW) == expected
