"""Pure text rules of the demo site: slugs, headline casing, datelines, printed dates."""

from __future__ import annotations

import re
from datetime import date, datetime

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# AP style abbreviates long month names in datelines; March to July are printed whole.
AP_MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June",
             "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.")  # fmt: skip
SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "but", "by", "for",
                         "in", "nor", "of", "on", "or", "the", "to"})  # fmt: skip
NOON = 12


def slugify(text: str, *, max_words: int | None = None, max_chars: int | None = None) -> str:
    """Return the URL slug of a headline: lowercase words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    if max_words is not None:
        words = words[:max_words]
    slug = "-".join(words)
    if max_chars is not None:
        slug = slug[:max_chars].rstrip("-")
    return slug


def ordinal(day: int) -> str:
    """Return ``day`` with its English ordinal suffix: 1st, 2nd, 3rd, 11th, 20th, 22nd."""
    if day % 100 in (11, 12, 13):
        return f"{day}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def every_word_capitalised(headline: str) -> str:
    """Capitalise the first letter of every word, the way many republishers print headlines."""
    return re.sub(r"(^|[\s(\"-])([a-z])", lambda match: match[1] + match[2].upper(), headline)


def headline_case(headline: str) -> str:
    """Title-case a headline, keeping short function words in lower case."""
    words = every_word_capitalised(headline).split(" ")
    return " ".join(
        word.lower() if index and word.lower() in SMALL_WORDS else word
        for index, word in enumerate(words)
    )


def clock(when: datetime, *, dotted: bool = False) -> str:
    """Return a 12-hour clock time: ``11:00 PM``, or ``11:00 p.m.`` in newspaper style."""
    hour = when.hour % NOON or NOON
    if dotted:
        return f"{hour}:{when.minute:02d} {'a.m.' if when.hour < NOON else 'p.m.'}"
    return f"{hour}:{when.minute:02d} {'AM' if when.hour < NOON else 'PM'}"


# How each agency prints its dateline credit (AP style uses an em dash, Xinhua two hyphens).
AGENCY_DATELINES = {
    "AP": "{at}(AP) —",
    "Reuters": "{at}(Reuters) -",
    "AFP": "{at}(AFP) -",
    "Xinhua": "{place}, {ap_month} {day} (Xinhua) --",
    "APP": "{place}, {mon} {day} (APP):",
    "Sputnik": "{place}, {month} {day} (Sputnik) -",
    "Bloomberg": "{at}(Bloomberg) --",
}
# A republisher that prints its own name in the credit (as UrduPoint does) uses these.
HOUSE_DATELINES = {"Sputnik": "{at}({house} / Sputnik - {nth} {month}, {year})"}
HOUSE_STAFF_DATELINE = "{place}, ({house} - {nth} {mon}, {year}) :"
STAFF_DATELINE = "{place} —"


def dateline(
    agency: str | None, place: str | None, day: date, house: str | None = None
) -> str | None:
    """Return the dateline credit printed before a story's first paragraph, or None.

    ``house`` is the republisher's own credit, for outlets that print it in the dateline
    (``MOSCOW (Ledger News / Sputnik - 20th November, 2026)``).
    """
    if agency is None:
        if not place:
            return None
        form = HOUSE_STAFF_DATELINE if house else STAFF_DATELINE
    elif house and agency in HOUSE_DATELINES:
        form = HOUSE_DATELINES[agency]
    else:
        form = AGENCY_DATELINES.get(agency, "{at}({agency}) -")
    month = MONTHS[day.month - 1]
    return form.format(
        agency=agency,
        place=place,
        at=f"{place} " if place else "",
        house=house,
        month=month,
        mon=month[:3],
        ap_month=AP_MONTHS[day.month - 1],
        day=day.day,
        nth=ordinal(day.day),
        year=day.year,
    )


def first_words(text: str, limit: int) -> str:
    """Return ``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
