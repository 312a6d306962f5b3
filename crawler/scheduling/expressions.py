"""Cron expressions: normalise them, list their firings, convert them to systemd OnCalendar."""

from __future__ import annotations

import functools
import itertools
import statistics
from datetime import UTC, datetime, timedelta

from croniter import croniter

# Enough to see weekly schedules meet; bounded so an every-minute schedule stays cheap.
COLLISION_HORIZON = timedelta(days=8)
MAX_FIRINGS = 12_000
# A schedule's interval is the median gap between this many of its next firings.
INTERVAL_FIRINGS = 50

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
CRON_DAYS = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
# systemd's week starts on Monday; cron's 0 and 7 are both Sunday.
SYSTEMD_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Unconvertible(ValueError):
    """A cron expression that has no exact systemd OnCalendar equivalent; str() says why."""


def normalize(expression: str) -> str:
    """Return a cron expression with single spaces and aliases (``@daily``) expanded."""
    text = " ".join(expression.split())
    return ALIASES.get(text.lower(), text)


# ---------------------------------------------------------------- cron -> OnCalendar


def _number(token: str, low: int, high: int, names: dict[str, int] | None) -> int:
    value = names.get(token.lower()) if names else None
    if value is None:
        if not token.isdigit():
            raise Unconvertible(f"{token!r} is not a plain number or name")
        value = int(token)
    if not low <= value <= high:
        raise Unconvertible(f"{value} is outside {low}-{high}")
    return value


def _values(field: str, low: int, high: int, names: dict[str, int] | None) -> list[int]:
    """Expand one cron field into the sorted values it selects."""
    chosen: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise Unconvertible(f"step {step_text!r} is not a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, low, high, names), _number(last, low, high, names)
            if start > end:
                raise Unconvertible(f"range {base!r} wraps around")
        else:
            start = _number(base, low, high, names)
            end = high if slash else start
        chosen.update(range(start, end + 1, step))
    return sorted(chosen)


def _numeric(field: str, low: int, high: int, names: dict[str, int] | None = None) -> str:
    """Render a minute/hour/day/month field in OnCalendar syntax, or raise Unconvertible."""
    width = 2
    if field == "*":
        return "*"
    parts: list[str] = []
    for item in field.split(","):
        base, slash, step = item.partition("/")
        if slash and (base == "*" or base.isdigit() or (names and base.lower() in names)):
            # cron's "a/s" and systemd's "a/s" both mean a, a+s, ... up to the field's end.
            start = low if base == "*" else _number(base, low, high, names)
            _values(item, low, high, names)  # validate the step
            parts.append(f"{start:0{width}d}/{int(step)}")
        elif not slash and "-" in base:
            first, last = (_values(base, low, high, names)[i] for i in (0, -1))
            parts.append(f"{first:0{width}d}..{last:0{width}d}")
        else:
            # A single value, or a stepped range systemd cannot express: list the values.
            parts.extend(f"{value:0{width}d}" for value in _values(item, low, high, names))
    return ",".join(parts)


def _weekdays(field: str) -> str:
    """Render a day-of-week field as systemd weekday names ("" for every day)."""
    if field == "*":
        return ""
    days = {SYSTEMD_DAYS[(value - 1) % 7] for value in _values(field, 0, 7, CRON_DAYS)}
    ordered = [day for day in SYSTEMD_DAYS if day in days]
    if len(ordered) == 7:
        return ""
    # Compress runs of consecutive days (Mon..Fri); systemd ranges do not wrap past Sunday.
    runs: list[list[str]] = []
    for day in ordered:
        if runs and SYSTEMD_DAYS.index(runs[-1][-1]) + 1 == SYSTEMD_DAYS.index(day):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(f"{run[0]}..{run[-1]}" if len(run) >= 3 else ",".join(run) for run in runs)


def cron_to_oncalendar(expression: str) -> str:
    """Return the systemd OnCalendar= value firing exactly when the cron expression does.

    Raise Unconvertible when there is none: both day-of-month and day-of-week restricted
    (cron fires when *either* matches, systemd only when both do), croniter extensions
    (``L``, ``W``, ``#``, ``?``, a seconds field) or anything not plain numbers and names.
    """
    fields = normalize(expression).split(" ")
    if len(fields) != 5:
        raise Unconvertible(f"{len(fields)} fields; only the five standard fields convert")
    minute, hour, dom, month, dow = fields
    if not dom.startswith("*") and not dow.startswith("*"):
        raise Unconvertible(
            "day-of-month and day-of-week are both restricted: cron fires when either "
            "matches, OnCalendar only when both do"
        )
    day = _numeric(dom, 1, 31)
    calendar = (
        f"*-{_numeric(month, 1, 12, MONTHS)}-{day} "
        f"{_numeric(hour, 0, 23)}:{_numeric(minute, 0, 59)}:00"
    )
    weekdays = _weekdays(dow)
    return f"{weekdays} {calendar}" if weekdays else calendar


# ---------------------------------------------------------------- firings and intervals


@functools.lru_cache(maxsize=256)
def firings(
    expression: str, start: datetime, horizon: timedelta = COLLISION_HORIZON
) -> tuple[datetime, ...]:
    """Return the times the expression fires after start and within horizon (bounded)."""
    iterator = croniter(normalize(expression), start)
    end = start + horizon
    times: list[datetime] = []
    while len(times) < MAX_FIRINGS:
        moment: datetime = iterator.get_next(datetime)
        if moment > end:
            break
        times.append(moment)
    return tuple(times)


def schedule_interval(expression: str, start: datetime | None = None) -> timedelta:
    """Return the median gap between the expression's next INTERVAL_FIRINGS firings."""
    iterator = croniter(normalize(expression), start or datetime.now(UTC))
    times: list[datetime] = [iterator.get_next(datetime) for _ in range(INTERVAL_FIRINGS + 1)]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    return timedelta(seconds=statistics.median(gaps))
