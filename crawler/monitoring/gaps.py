"""Coverage gaps: the days on which a source yielded far less than it usually does.

A source's yield on a day is the number of articles archived under that day's key
(``articles/{source}/{YYYY}/{MM}/{DD}/``: the publication date, else the fetch date). Each day
is judged against the source's own history, as ``health`` judges runs:

- the usual count is the median of the same weekday's last ``weeks`` known counts (wire
  services publish less at weekends, so a Sunday is judged against Sundays);
- a day is a gap when the usual count is at least ``min_usual`` and the day's count is below
  ``fraction`` of it;
- gap days never enter the baseline of later days, so an outage stays a run of gaps however
  long it lasts, instead of becoming the new normal (a dead source stays unhealthy too);
- days before the source's first archived article, days with fewer than ``min_weeks`` known
  counts of their weekday before them, and days not yet over (today, in UTC) are not judged.

The history read before a period is ``weeks`` weeks: an outage that began earlier than that
is not seen as one. ``judge`` applies that window to any counts, so ``stats`` (which counts
every day once) finds the same gap days as ``gaps`` and ``backfill --gaps``.
"""

from __future__ import annotations

import statistics
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pipelines.archive.keys import is_revision, parse_dated_key
from pipelines.archive.stores import Store

DEFAULT_SPAN_DAYS = 90  # judged by default: the 90 days up to yesterday, as `stats` shows


@dataclass(frozen=True)
class GapRule:
    """When a day counts as a gap; the defaults suit a source that publishes daily."""

    weeks: int = 8  # baseline: this many known counts of the same weekday
    min_weeks: int = 3  # fewer known counts of the weekday: the day is not judged
    min_usual: float = 3.0  # a source usually this quiet is never judged
    fraction: float = 0.25  # a gap yields less than this share of the usual count


@dataclass(frozen=True)
class Gap:
    """One day that yielded far less than usual."""

    day: date
    count: int
    usual: float

    def to_json(self) -> dict[str, Any]:
        """Return the gap as a JSON-ready object."""
        return {"day": self.day.isoformat(), "count": self.count, "usual": round(self.usual, 1)}


def find_gaps(
    counts: Mapping[date, int], since: date, until: date, rule: GapRule | None = None
) -> list[Gap]:
    """Return the gap days in ``since..until`` (inclusive) from a source's counts by day.

    ``counts`` may reach back before ``since``: those days form the baseline. A day missing
    from ``counts`` yielded nothing.
    """
    rule = rule or GapRule()
    if not any(counts.values()):
        return []
    # The non-gap counts of each weekday, most recent last: the baseline of the days after.
    known: list[deque[int]] = [deque(maxlen=rule.weeks) for _ in range(7)]
    gaps: list[Gap] = []
    day = min(day for day, n in counts.items() if n > 0)
    while day <= until:
        count = int(counts.get(day, 0))
        same_weekday = known[day.weekday()]
        usual = float(statistics.median(same_weekday)) if same_weekday else 0.0
        judged = len(same_weekday) >= rule.min_weeks and usual >= rule.min_usual
        if judged and count < rule.fraction * usual:
            if day >= since:
                gaps.append(Gap(day, count, usual))
        else:
            same_weekday.append(count)
        day += timedelta(days=1)
    return gaps


def judge(
    counts: Mapping[date, int], since: date, until: date, rule: GapRule | None = None
) -> list[Gap]:
    """Return the gap days in ``since..until`` judged on only ``rule.weeks`` weeks before it.

    However far back ``counts`` reach: a baseline from all history would keep judging a
    source against a level it left long ago (a lasting drop never becomes its normal).
    """
    rule = rule or GapRule()
    start = baseline_start(since, rule)
    window = {day: n for day, n in counts.items() if start <= day <= until}
    return find_gaps(window, since, until, rule)


def baseline_start(since: date, rule: GapRule) -> date:
    """Return the first day of history read to judge a period starting at ``since``."""
    return since - timedelta(weeks=rule.weeks)


def article_day(key: str) -> tuple[str, date, bool] | None:
    """Return (source, key date, is a revision) of an article object's key, else None."""
    parsed = parse_dated_key(key)
    if parsed is None or parsed[0] != "articles" or not parsed[3].endswith(".json"):
        return None
    return parsed[1], parsed[2], is_revision(parsed[3])


def _months(since: date, until: date) -> Iterator[tuple[int, int]]:
    year, month = since.year, since.month
    while (year, month) <= (until.year, until.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def daily_counts(store: Store, source: str, since: date, until: date) -> Counter[date]:
    """Count a source's archived articles by key date in ``since..until`` (revisions aside).

    Lists only the months of the range (``articles/{source}/{YYYY}/{MM}/``), never the
    source's whole history.
    """
    counts: Counter[date] = Counter()
    for year, month in _months(since, until):
        for key in store.keys(f"articles/{source}/{year:04d}/{month:02d}/"):
            article = article_day(key)
            if article is None or article[2]:
                continue
            if since <= article[1] <= until:
                counts[article[1]] += 1
    return counts


@dataclass(frozen=True)
class Coverage:
    """A source's gaps over a period, with the counts they were judged on."""

    source: str
    since: date
    until: date
    counts: Counter[date]
    gaps: list[Gap]
    rule: GapRule

    @property
    def days_judged(self) -> int:
        """Days of the period (``until`` is never later than yesterday)."""
        return max((self.until - self.since).days + 1, 0)

    def to_json(self) -> dict[str, Any]:
        """Return the coverage as a JSON-ready object."""
        return {
            "source": self.source,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "days": self.days_judged,
            "articles": sum(n for d, n in self.counts.items() if self.since <= d <= self.until),
            "gaps": [gap.to_json() for gap in self.gaps],
            "rule": asdict(self.rule),
        }


def period(since: date | None, until: date | None, now: datetime) -> tuple[date, date]:
    """Resolve --since/--until: until defaults to yesterday and never passes it (today is
    not over); since defaults to ``DEFAULT_SPAN_DAYS`` days before until."""
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    last = min(until, yesterday) if until else yesterday
    first = since or last - timedelta(days=DEFAULT_SPAN_DAYS - 1)
    return first, last


def source_coverage(
    store: Store,
    source: str,
    since: date | None,
    until: date | None,
    *,
    now: datetime,
    rule: GapRule | None = None,
) -> Coverage:
    """Judge one source's days in the period against the weeks of history before it."""
    rule = rule or GapRule()
    first, last = period(since, until, now)
    counts = daily_counts(store, source, baseline_start(first, rule), last)
    return Coverage(source, first, last, counts, judge(counts, first, last, rule), rule)


def gap_days(
    store: Store, source: str, since: date | None, until: date | None, *, now: datetime
) -> list[date]:
    """Return the days a backfill with ``--gaps`` fills: the gaps of the period."""
    return [gap.day for gap in source_coverage(store, source, since, until, now=now).gaps]


def day_spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Join days into spans of consecutive days, ``(first, last)``, in order."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and day - spans[-1][1] == timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans
