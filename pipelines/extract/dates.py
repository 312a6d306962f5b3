"""Publication dates you can trust: parse candidates, drop implausible ones, say where from.

A CMS fills empty date fields with placeholders (`0001-01-01T00:00:00Z`, the Unix epoch,
`9999-12-31`) and some pages carry dates years ahead. A candidate before EARLIEST or
later than the fetch time plus FUTURE_SLACK is not a publication date: the next source is
tried instead, in the order JSON-LD/<meta>, the feed's or news sitemap's listed date, the
page text (htmldate), the fetch time. Pure functions, apart from the lazy htmldate call
the caller supplies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final

# The web's news archives start here; anything older on a news page is a placeholder.
EARLIEST: Final = datetime(1995, 1, 1, tzinfo=UTC)
# A page published in a time zone ahead of the fetcher's, or listed a little early.
FUTURE_SLACK: Final = timedelta(days=1)
MONTHS: Final = 12

# "2024年4月24日 10:30", "2024년 4월 24일": CJK dates, year first.
_CJK_DATE = re.compile(
    r"(?P<y>\d{4})\s*[年년]\s*(?P<m>\d{1,2})\s*[月월]\s*(?P<d>\d{1,2})\s*[日일]?"
    r"(?:\D{0,6}(?P<H>\d{1,2})\s*[:時시]\s*(?P<M>\d{2}))?"
)
# "20/02/2020", "02.20.2020", "20-02-2020 23:00": numeric dates with the year last.
_YEAR_LAST = re.compile(
    r"^(?P<a>\d{1,2})[./-](?P<b>\d{1,2})[./-](?P<y>\d{4})(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2}))?"
)
_YEAR_FIRST = re.compile(r"^(?P<y>\d{4})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})\b")


@dataclass(frozen=True)
class Dated:
    """A publication date as ISO 8601 (date or datetime, zone kept) and where it came from."""

    value: str | None
    source: str | None


def _ascii_digits(value: str) -> str:
    """Turn every decimal digit (Arabic-Indic, full-width, Devanagari) into 0-9."""
    if value.isascii():
        return value
    value = unicodedata.normalize("NFKC", value)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)


def _from_parts(year: str, month: str, day: str, hour: str | None, minute: str | None) -> str:
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    return moment.isoformat() if hour else moment.date().isoformat()


def _day_month(a: str, b: str, day_first: bool | None) -> tuple[str, str] | None:
    """Order the two leading numbers of a year-last date as (month, day), or None."""
    first, second = int(a), int(b)
    if first > MONTHS >= second:
        day_first = True
    elif second > MONTHS >= first or first == second:
        day_first = False
    if day_first is None:
        return None  # "03/04/2024": March or April; a wrong date is worse than none
    return (b, a) if day_first else (a, b)


def parse_date(value: str | None, day_first: bool | None = None) -> str | None:
    """Normalise a date string to ISO 8601, keeping its zone; None if unreadable.

    Reads ISO 8601 (and its space-separated form), RFC 2822 (feeds), CJK dates and
    numeric dates; a day/month order that the numbers do not settle needs `day_first`.
    """
    if not value or not value.strip():
        return None
    text = _ascii_digits(value.strip())
    try:
        if len(text) <= 10 and text[:4].isdigit() and "-" in text:
            return datetime.fromisoformat(text).date().isoformat()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    try:
        return _parse_other(text, day_first)
    except (ValueError, OverflowError):
        return None


def _parse_other(text: str, day_first: bool | None) -> str | None:
    cjk = _CJK_DATE.search(text) or _YEAR_FIRST.match(text)
    if cjk:
        parts = cjk.groupdict()
        return _from_parts(parts["y"], parts["m"], parts["d"], parts.get("H"), parts.get("M"))
    year_last = _YEAR_LAST.match(text)
    if year_last:
        order = _day_month(year_last["a"], year_last["b"], day_first)
        if order is None:
            return None
        return _from_parts(year_last["y"], *order, year_last["H"], year_last["M"])
    if not (re.search(r"[A-Za-z]{3}", text) and re.search(r"\d{4}", text)):
        return None
    try:  # "Thu, 20 Feb 2020 23:00:00 +0500": a feed's RFC 2822 date
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _moment(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plausible(iso: str, fetched: datetime) -> bool:
    """Tell whether a parsed date can be a publication date of a page fetched then."""
    fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
    return EARLIEST <= _moment(iso) <= fetched + FUTURE_SLACK


Candidate = tuple[str, str | None] | Callable[[], tuple[str, str | None]]


def choose_published(
    candidates: Iterable[Candidate], fetched: datetime, day_first: bool | None = None
) -> Dated:
    """The first plausible candidate (source, raw value), else the fetch time.

    A candidate may be a callable, called only when every earlier one failed: the text
    search (htmldate) is the costly source and most pages never need it.
    """
    for candidate in candidates:
        source, raw = candidate() if callable(candidate) else candidate
        iso = parse_date(raw, day_first)
        if iso and plausible(iso, fetched):
            return Dated(iso, source)
    fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
    return Dated(fetched.astimezone(UTC).isoformat(timespec="seconds"), "fetched")


def first_plausible(values: Iterable[str], fetched: datetime) -> str | None:
    """The first value that parses to a plausible date (for `modified`), or None."""
    for raw in values:
        iso = parse_date(raw)
        if iso and plausible(iso, fetched):
            return iso
    return None


# Languages whose numeric dates come in both orders (US "04/24/2024", UK "24/04/2024");
# elsewhere the day comes first.
EITHER_ORDER_LANGUAGES: Final = frozenset({"en"})


def day_first_for(language: str | None) -> bool | None:
    """Whether a numeric date in this language puts the day first; None when unknown."""
    if not language or language in EITHER_ORDER_LANGUAGES:
        return None
    return True
