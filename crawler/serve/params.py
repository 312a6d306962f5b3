"""Search parameters from a request's query string, checked once: a bad value is a 400."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pipelines.search.query import DEFAULT_LIMIT, MAX_LIMIT, Filters

SORTS = ("relevance", "newest")


class BadParameter(ValueError):
    """A query parameter has a value the app cannot use; the message names it."""


@dataclass(frozen=True)
class SearchParams:
    """A search as asked: words, filters, the page of results and the order."""

    words: str
    filters: Filters
    limit: int
    offset: int
    sort: str

    def query_string(self, **changes: str | int) -> list[tuple[str, str]]:
        """Return the parameters as (name, value) pairs, with some changed (for page links)."""
        pairs: list[tuple[str, str]] = [("q", self.words)]
        pairs += [("source", s) for s in self.filters.sources]
        for name, value in (
            ("since", self.filters.since),
            ("until", self.filters.until),
            ("agency", self.filters.agency),
            ("language", self.filters.language),
        ):
            if value:
                pairs.append((name, str(value)))
        pairs += [("limit", str(self.limit)), ("offset", str(self.offset)), ("sort", self.sort)]
        updated = dict(changes)
        return [(n, str(updated.pop(n))) if n in updated else (n, v) for n, v in pairs]


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise BadParameter(f"{name}={value!r} is not a date: use YYYY-MM-DD") from err


def _number(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as err:
        raise BadParameter(f"{name}={value!r} is not a whole number") from err
    if not low <= number <= high:
        raise BadParameter(f"{name}={number} is out of range: use {low} to {high}")
    return number


def search_params(single: Mapping[str, str], sources: Sequence[str]) -> SearchParams:
    """Return the search a query string asks for (``source`` may repeat)."""
    since = _day(single.get("since"), "since")
    until = _day(single.get("until"), "until")
    if since and until and since > until:
        raise BadParameter(f"since={since} is after until={until}")
    sort = single.get("sort") or SORTS[0]
    if sort not in SORTS:
        raise BadParameter(f"sort={sort!r} is not one of {', '.join(SORTS)}")
    return SearchParams(
        words=single.get("q", "").strip(),
        filters=Filters(
            sources=tuple(s for s in sources if s),
            since=since,
            until=until,
            agency=single.get("agency") or None,
            language=single.get("language") or None,
        ),
        limit=_number(single.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_number(single.get("offset"), "offset", 0, 0, 10**9),
        sort=sort,
    )
