"""Date ranges for backfills: inclusive UTC days, and the tests of dates against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


class DateRangeError(ValueError):
    """A --since/--until value that is not a date, or a range that ends before it starts."""


def parse_day(value: str, flag: str) -> date:
    """Parse a ``--since``/``--until`` value: ``YYYY-MM-DD`` (a full ISO timestamp is cut)."""
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise DateRangeError(f"{flag} {value!r} is not a date; use YYYY-MM-DD") from None


@dataclass(frozen=True)
class DateRange:
    """Inclusive UTC days; an open end is None."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.until < self.since:
            raise DateRangeError(f"--until {self.until} is before --since {self.since}")

    @property
    def open(self) -> bool:
        """True when the range selects everything."""
        return self.since is None and self.until is None

    def contains(self, moment: datetime | date | None) -> bool | None:
        """Say whether a date is in range; None when there is no date to judge."""
        if moment is None:
            return None
        if isinstance(moment, datetime):
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC)
            moment = moment.date()
        if self.since and moment < self.since:
            return False
        return not (self.until and moment > self.until)

    def overlaps(self, start: date, end: date) -> bool:
        """Say whether the days ``start..end`` meet the range."""
        return not ((self.since and end < self.since) or (self.until and start > self.until))

    def contains_iso(self, value: str | None) -> bool:
        """Say whether an ISO 8601 date or timestamp (a page's ``published``) is in range."""
        if not value:
            return False
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return bool(self.contains(moment))


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO 8601 time from a record (UTC when it has no zone); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
