"""A wire story's syndication trail: the archived original and every copy, with delays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.daterange import parse_time
from pipelines.search.index import Copy

SECONDS_PER_MINUTE = 60
MINUTES_PER_HOUR = 60
HOURS_PER_DAY = 24


def format_delay(delay: timedelta | None) -> str:
    """Return a delay for people: ``+2 d 3 h``, ``+3 h 12 min``, ``+45 min``, ``-5 min``."""
    if delay is None:
        return "unknown"
    sign = "-" if delay < timedelta(0) else "+"
    minutes = int(abs(delay).total_seconds()) // SECONDS_PER_MINUTE
    hours, minutes = divmod(minutes, MINUTES_PER_HOUR)
    days, hours = divmod(hours, HOURS_PER_DAY)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    return f"{sign}{minutes} min"


@dataclass(frozen=True)
class Appearance:
    """One outlet's page of the story: the original or a copy."""

    id: str
    source: str
    url: str
    title: str | None
    seen: datetime | None
    delay: timedelta | None
    kind: str  # original, url, exact or near
    similarity: float | None

    @property
    def delay_text(self) -> str:
        """Return the delay after the original for people."""
        return "original" if self.kind == "original" else format_delay(self.delay)


@dataclass(frozen=True)
class Story:
    """The original and its copies, the original first, then copies by first seen."""

    original: Appearance
    copies: list[Appearance]

    @property
    def outlets(self) -> list[str]:
        """Return every outlet that carried the story, the original's first."""
        return list(dict.fromkeys([self.original.source, *(c.source for c in self.copies)]))

    @property
    def all(self) -> list[Appearance]:
        """Return the original, then the copies."""
        return [self.original, *self.copies]


def story_of(article: Mapping[str, Any], copies: Sequence[Copy]) -> Story:
    """Return the story of an archived article and the duplicate records that point at it.

    The original counts from its publication time when known, else from when it was
    fetched; a copy from when it was first seen (fetched).
    """
    start = parse_time(article.get("published")) or parse_time(article.get("fetched_at"))
    original = Appearance(
        id=str(article.get("id")),
        source=str(article.get("source")),
        url=str(article.get("url")),
        title=article.get("title"),
        seen=start,
        delay=timedelta(0) if start else None,
        kind="original",
        similarity=1.0,
    )
    appearances = []
    for copy in copies:
        seen = parse_time(copy.fetched_at)
        appearances.append(
            Appearance(
                id=copy.id,
                source=copy.source,
                url=copy.url,
                title=copy.title,
                seen=seen,
                delay=seen - start if seen and start else None,
                kind=copy.kind or "unknown",
                similarity=copy.similarity,
            )
        )
    far_future = datetime.max.replace(tzinfo=UTC)
    appearances.sort(key=lambda a: (a.seen or far_future, a.source, a.id))
    return Story(original, appearances)
