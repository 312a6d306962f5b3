"""Text rules of the search index: CJK made searchable, user queries made into FTS5 queries.

SQLite's ``unicode61`` tokenizer splits on spaces and punctuation, so a Chinese or Japanese
sentence (no spaces) would be one token. Every character of the scripts written without
spaces is wrapped in an invisible separator before indexing: each becomes a one-character
token, and a query word in those scripts becomes a phrase of consecutive characters, which
matches exactly the substring. Removing the separator gives back the original text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# U+2063 INVISIBLE SEPARATOR: a format character, so unicode61 treats it as a separator.
SEPARATOR = "\u2063"
# Private-use characters mark hits in snippets; the web never sends them in a query.
HIT_START = "\ue000"
HIT_END = "\ue001"
_SPACELESS = re.compile(
    "(["
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs and compatibility ideographs
    "\uac00-\ud7af"  # Hangul syllables: particles are glued to words
    "\U00020000-\U0003134f"  # CJK extensions B..G
    "])"
)
_WORD = re.compile(r'-?"[^"]*"|\S+')
_PRIVATE = re.compile(f"[{HIT_START}{HIT_END}{SEPARATOR}]")


def indexed_form(text: str) -> str:
    """Return text as the index stores it: every spaceless-script character set apart."""
    return _SPACELESS.sub(SEPARATOR + r"\1" + SEPARATOR, _PRIVATE.sub("", text))


def display_form(text: str) -> str:
    """Return the original text of an indexed form."""
    return text.replace(SEPARATOR, "")


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet or title: its text, and whether it is a hit of the query."""

    text: str
    hit: bool


def segments(marked: str) -> list[Segment]:
    """Split an indexed text with hit markers into plain and hit segments, in order."""
    result: list[Segment] = []
    for piece in re.split(f"({HIT_START}[^{HIT_END}]*{HIT_END})", display_form(marked)):
        if not piece:
            continue
        if piece.startswith(HIT_START):
            result.append(Segment(piece[1:-1], True))
        else:
            result.append(Segment(piece, False))
    return result


def _phrase(word: str) -> str:
    """Return one query word as an FTS5 string (a phrase when it splits into tokens)."""
    prefix = word.endswith("*") and len(word) > 1
    body = indexed_form(word.rstrip("*") if prefix else word).replace('"', '""')
    return f'"{body}"' + (" *" if prefix else "")


def has_token(word: str) -> bool:
    """Tell whether a query word holds anything the tokenizer indexes (a letter or digit)."""
    return any(ch.isalnum() for ch in word)


def fts_query(words: str) -> str | None:
    """Return the FTS5 query of a user query: every word must match, in any order.

    ``"two words"`` is a phrase, ``word*`` a prefix, ``-word`` excludes. Returns None when
    nothing searchable is left (only punctuation, or only exclusions).
    """
    wanted: list[str] = []
    excluded: list[str] = []
    for raw in _WORD.findall(words):
        negative = raw.startswith("-") and len(raw) > 1
        word = raw[1:] if negative else raw
        if word.startswith('"'):
            word = word.strip('"')
        word = _PRIVATE.sub("", word)
        if not has_token(word):
            continue
        (excluded if negative else wanted).append(_phrase(word))
    if not wanted:
        return None
    query = " AND ".join(wanted)
    for term in excluded:
        query = f"({query}) NOT {term}"
    return query


# Filters are searched as terms of a hidden column: an FTS5 intersection of doclists is far
# cheaper than looking up the metadata of every match. Values are hex so any name is one token.
MAX_MONTH_TERMS = 36


def _tag(kind: str, value: str) -> str:
    return kind + value.lower().encode("utf-8").hex()


def _month(day: date) -> str:
    return f"m{day:%Y%m}"


def meta_form(source: str, agency: str | None, language: str | None, day: date) -> str:
    """Return the hidden column's text of an article: its source, agency, language, month."""
    parts = [_tag("s", source), _month(day)]
    if agency:
        parts.append(_tag("a", agency))
    if language:
        parts.append(_tag("l", language))
    return " ".join(parts)


def meta_query(
    sources: Sequence[str],
    agency: str | None,
    language: str | None,
    since: date | None,
    until: date | None,
) -> str | None:
    """Return the FTS5 terms (on the hidden column) that the filters imply, or None.

    A day range becomes its months, when bounded on both sides and not too long; the
    exact days are then checked on the few rows left.
    """
    terms: list[str] = []
    if sources:
        terms.append("(" + " OR ".join(f'"{_tag("s", s)}"' for s in sources) + ")")
    if agency:
        terms.append(f'"{_tag("a", agency)}"')
    if language:
        terms.append(f'"{_tag("l", language)}"')
    if since and until and since <= until:
        months = list(
            dict.fromkeys(
                _month(since + timedelta(days=n)) for n in range(0, (until - since).days + 1, 28)
            )
        )
        months.append(_month(until))
        months = list(dict.fromkeys(months))
        if len(months) <= MAX_MONTH_TERMS:
            terms.append("(" + " OR ".join(f'"{m}"' for m in months) + ")")
    if not terms:
        return None
    return "meta : (" + " AND ".join(terms) + ")"
