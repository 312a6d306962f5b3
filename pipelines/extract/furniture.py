"""Line rules for wire-story text: drop page furniture an extractor kept, keep the story.

Pure functions on text, one line a paragraph. Each rule names a general pattern and only
ever matches a short line (a story paragraph is never dropped by them): byline lines,
timestamp lines (relative or absolute), site banners, share/follow residue, "Read more" and
"Related" lines, photo credits and captions, and the headline repeated in the body.
Datelines ("WASHINGTON (AP) — ...") are story text and are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipelines.extract.scripts import count_units, is_unspaced

# No rule drops a line longer than this (in units: words, or characters of scripts written
# without spaces): past it, a line is a paragraph of the story.
MAX_RULE_WORDS = 30

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday)?\.?"
_UNIT = r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|months?|years?)"
# Words a timestamp line is made of; a line of nothing else is a timestamp.
_TIME_WORDS = re.compile(
    rf"\b(?:{_MONTH}|{_WEEKDAY}|{_UNIT}|ago|just|now|an?|updated?|published|posted|last"
    r"|on|at|am|pm|a\.m\.|p\.m\.|[ap]m|gmt|utc|[ecmp][sd]t|ist|pkt|bst|cet|edt|today"
    r"|yesterday|\d{1,4}(?:st|nd|rd|th)?|\d{1,2}:\d{2}(?::\d{2})?)\b",
    re.IGNORECASE,
)
# A timestamp has a clock time, is relative, or says what it dates: a bare date or date
# range ("29 November 2018 | 20 January 2019") may be an event's dates, part of the story.
_HAS_TIME = re.compile(
    r"\b\d{1,2}:\d{2}\b|\bago\b|\b(?:updated|published|posted|last modified)\b", re.IGNORECASE
)
# "sexta-feira, 22 de outubro de 2010 às 20:13": a short line with a clock time and a year,
# whatever the language. Anchored at line starts: a match anywhere in a line is a match from
# its start, and unanchored lookaheads rescan the line from every character.
_CLOCK_AND_YEAR = re.compile(r"^(?=.*\b\d{1,2}[:h]\d{2}\b)(?=.*\b(?:19|20)\d{2}\b)", re.MULTILINE)
# ... of a few words only: "7h43 - JO-2024 : les annonces Airbnb ... ont doublé" is a
# live ticker's entry. A table row ("2020-08-01 18:00 │ 400 │ 24") is never a timestamp.
CLOCK_LINE_MAX_WORDS = 8
# "2025年1月14日 01時28分 (1月14日 01時40分更新)", "2024년 4월 24일 10:30 입력": a line of CJK
# date and time words only (year/month/day, hour/minute, updated/published/posted).
_CJK_TIMESTAMP = re.compile(
    r"^(?=.*\d\s*[年년月월日일])(?=.*(?:\d\s*[時时시分분]|\d:\d\d))"
    r"[\d\s年년月월日일時时시分분秒초:：/.\-()（）午前後오전후更新公開配信發发布입력수정]+$"
)

# A Twitter/X handle, bare or in parentheses: "(@ChaudhryMAli88)". The one definition for
# bylines, author lists and embedded-post signatures.
HANDLE = re.compile(r"\(?@\w+\)?")
# "By Jane Doe", "By JANE DOE and John Roe, Reuters": "by" and capitalised names only.
_BYLINE = re.compile(
    r"^(?:[Bb][Yy]|[Ww]ritten by|[Pp]osted by|[Ww]ords by)\s+(?!The\b)[A-Z][\w.'’\-]*"
    r"(?:(?:\s+|,\s*)(?:and\s+|&\s+)?(?:[A-Z][\w.'’\-]*|de|van|von|bin|al|da|del|la|le))*"
    rf"(?:\s*{HANDLE.pattern})?\s*$"
)
# "Reporting by A; Editing by B": the wire's production credit closing a story.
_CREDIT_LINE = re.compile(
    r"^[(\[]?(?:(?:additional\s+)?reporting|writing|editing|compiled|graphics|produced)"
    r"\s+by\b",
    re.IGNORECASE,
)
_BANNER = re.compile(
    r"^(?:breaking(?: news)?|advertisement|advertising|sponsored(?: content)?|ad"
    r"|story continues below(?: advertisement)?|continue reading(?: below)?|skip ad"
    r"|loading\.*|trending(?: now)?|top stories|latest news|most read|most popular"
    r"|editor'?s picks?|watch(?: now)?|listen(?: to this article)?"
    r"|comments?|\d+\s+comments?|print|email|share|share this( article| story)?|tweet)"
    r"[\s.:!|]*$",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"^(?:share (?:on|via|to) \w+|(?:click to )?share (?:this|on)\b.*|like this:.*"
    r"|like this (?:story|article)\?.*"
    r"|follow\b.{0,60}\bon (?:twitter|facebook|instagram|linkedin|tiktok|youtube|x)\b.*"
    r"|(?:subscribe|sign up)\b.*\b(?:newsletter|inbox|updates|alerts)\b.*"
    r"|get the latest\b.*\binbox\b.*|.*\bnewsletters?\b.*\b(?:subscribe|sign up)\b.*"
    r"|(?:facebook|twitter|whatsapp|linkedin|pinterest|reddit|email)"
    r"(?:\s*[|,/·•]?\s*(?:facebook|twitter|whatsapp|linkedin|pinterest|reddit|email))+"
    r"|have a (?:news )?tip\?.*|click here\b.*|tags?:.*|filed under:.*|source:\s*\S.{0,60}"
    r"|(?:copyright|©|\(c\))\s.*|.*\ball rights reserved\b.*)$",
    re.IGNORECASE,
)
# "Der BR24 Newsletter informiert Sie ...", "Sign up for the free daily newsletter": a short
# line naming a newsletter is a promotion in every language that borrowed the word
# (measured: dev +0.0004, multilingual +0.0002, no language group lower).
_NEWSLETTER = re.compile(r"newsletter", re.IGNORECASE)
# "Amy K. may be reached at ak@example.com. Follow her on Twitter @AmyK": contact lines.
_CONTACT = re.compile(
    r"\b(?:may|can) be reached at\b|\b(?:contact|email|e-mail|write to)\b.{0,40}@\w",
    re.IGNORECASE,
)
_READ_MORE = re.compile(
    r"^[\[(]?(?:(?:read more|read also|also read|read next|related(?: (?:news|stories|posts?"
    r"|articles?|coverage|content|reading|videos?))?|see also|more(?: from| on| about)?"
    r"|recommended(?: for you)?|you (?:may|might) also like|more stories|further reading"
    r"|don'?t miss|must read|in case you missed it)\s*(?:[:.…|»›\-–—]+|$)"
    r"|also on \S+\.\w+\b)",
    re.IGNORECASE,
)
_PHOTO = re.compile(
    r"^[\[(]?(?:(?:file )?photos?|image|picture|pic|illustration|credit"
    r"|photograph|photo credit|image credit|source)\s*(?::|by\b|credit\b|/)"
    r"|^[(\[]?(?:image|photo):|/\s*(?:getty images|ap(?: photo)?|reuters|afp|epa|shutterstock"
    r"|istock(?:photo)?)\)?\.?$|^©\s*\w+",
    re.IGNORECASE,
)


def squash(value: str) -> str:
    """Compare lines loosely: case, spacing and punctuation do not count."""
    return " ".join(re.findall(r"\w+", value.casefold()))


def _words(line: str) -> int:
    return count_units(line)


def _is_table_row(line: str) -> bool:
    return "│" in line or line.count("|") >= 2


def is_timestamp_line(line: str) -> bool:
    """ "42 seconds ago", "Thu 20th February 2020 | 11:00 PM", "Updated 3 hours ago"."""
    if _is_table_row(line):
        return False
    if _CJK_TIMESTAMP.match(line.strip()):
        return True
    if _words(line) > 14:
        return False
    if (
        _CLOCK_AND_YEAR.search(line)
        and _words(line) <= CLOCK_LINE_MAX_WORDS
        and not _is_table_row(line)
    ):
        return True
    if not _HAS_TIME.search(line):
        return False
    return not re.search(r"\w", _TIME_WORDS.sub(" ", line))


def is_byline_line(line: str, authors: Iterable[str] = ()) -> bool:
    """ "By Jane Doe", "Mohammad Ali (@x) 42 seconds ago ...", "Reporting by ...; Editing by"."""
    if _CREDIT_LINE.match(line):
        return True
    if _words(line) > 14:
        return False
    bare = squash(HANDLE.sub(" ", line))
    if _BYLINE.match(line.strip()):
        return True
    for author in authors:
        name = squash(author)
        if name and bare.startswith(name):
            tail = bare[len(name) :].strip()
            if not tail or is_timestamp_line(tail) or _HAS_TIME.search(tail):
                return True
    return False


# A byline at the edge of the body: a short line (in units, whatever the script) that names
# the article's authors with at most a few words beside them: "Von Anna Müller", "Par Les
# Echos", "MDR (Engin Haupt, Alisa Sonntag)", "박준석 기자 외 1명", "（文・山田太郎）".
EDGE_BYLINE_MAX_UNITS = 12
EDGE_BYLINE_REST_UNITS = 3
# ... counted in characters where words are not spaced: "记者 ... 报道", "기자 외 1명" are
# two or three words of two characters each.
UNSPACED_REST_UNITS = 6


def is_edge_byline(line: str, authors: Iterable[str]) -> bool:
    """Tell whether a first or last line of the body is the byline the metadata names."""
    if count_units(line) > EDGE_BYLINE_MAX_UNITS:
        return False
    rest = squash(HANDLE.sub(" ", line))
    named = False
    for author in authors:
        name = squash(author)
        if name and name in rest:
            rest = rest.replace(name, " ")
            named = True
    allowed = UNSPACED_REST_UNITS if is_unspaced(rest) else EDGE_BYLINE_REST_UNITS
    return named and count_units(rest) <= allowed


def is_furniture(line: str) -> bool:
    """Banners, share/follow residue, Read more/Related lines, photo credits, contacts."""
    stripped = line.strip().lstrip("-•* ").strip()
    if not stripped:
        return True
    if _words(stripped) > MAX_RULE_WORDS:
        return False
    return bool(
        _BANNER.match(stripped)
        or _SHARE.match(stripped)
        or _READ_MORE.match(stripped)
        or _PHOTO.search(stripped)
        or _CONTACT.search(stripped)
        or _NEWSLETTER.search(stripped)
    )


_DATE_TOKEN = re.compile(
    rf"\b(?:date|today|{_MONTH}|{_WEEKDAY}|\d{{1,4}}(?:st|nd|rd|th)?|com|net|org|www|co|uk"
    r"|in|pk)\b",
    re.IGNORECASE,
)


def is_site_banner(line: str, sitename: str | None) -> bool:
    """ "date 2020-02-20 UrduPoint.com": a short line of the site's name and a date."""
    if not sitename or _words(line) > 8:
        return False
    name = squash(sitename)
    flat = squash(line)
    if not name or name not in flat:
        return False
    rest = _DATE_TOKEN.sub(" ", flat.replace(name, " "))
    return not rest.strip()


def clean_text(
    text: str,
    title: str | None = None,
    authors: Iterable[str] = (),
    sitename: str | None = None,
) -> str:
    """Drop furniture lines, byline and timestamp lines, and repeats of the headline.

    A first or last line naming the metadata's authors with little else is a byline too,
    in any language (measured: dev unchanged, multilingual +0.0001, de and CJK up).
    """
    names = tuple(authors)
    headline = squash(title) if title else ""
    kept = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if headline and squash(stripped) == headline:
            continue
        if (
            is_timestamp_line(stripped)
            or is_site_banner(stripped, sitename)
            or is_byline_line(stripped, names)
            or is_furniture(stripped)
        ):
            continue
        kept.append(stripped)
    # The byline the metadata already holds, left at the top or the foot of the body.
    if names and kept and is_edge_byline(kept[0], names):
        kept.pop(0)
    if names and kept and is_edge_byline(kept[-1], names):
        kept.pop()
    return "\n".join(kept)
