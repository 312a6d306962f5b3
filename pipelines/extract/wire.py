"""Find wire-service datelines and credits in article text: pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.extract.furniture import HANDLE

DATELINE_WINDOW = 300

# Known agencies, keyed by the lower-cased credit as printed. Values are the short names
# the archive records (DESIGN.md "Article JSON": `AP`, `Reuters`, `Sputnik`, ...).
_AGENCIES = {
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "reuters": "Reuters",
    "thomson reuters": "Reuters",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "sputnik": "Sputnik",
    "ria novosti": "Sputnik",
    "xinhua": "Xinhua",
    "app": "APP",
    "associated press of pakistan": "APP",
    "ani": "ANI",
    "asian news international": "ANI",
    "pti": "PTI",
    "press trust of india": "PTI",
    "ians": "IANS",
    "kyodo": "Kyodo",
    "kyodo news": "Kyodo",
    "dpa": "dpa",
    "ansa": "ANSA",
    "efe": "EFE",
    "anadolu": "Anadolu",
    "anadolu agency": "Anadolu",
    "aa": "Anadolu",
    "tass": "TASS",
    "itar-tass": "TASS",
    "uni": "UNI",
    "bernama": "Bernama",
    "yonhap": "Yonhap",
    "wam": "WAM",
    "spa": "SPA",
    "irna": "IRNA",
    "upi": "UPI",
    "united press international": "UPI",
    "bloomberg news": "Bloomberg",
    "deutsche presse-agentur": "dpa",
    "xinhua news agency": "Xinhua",
    "yonhap news agency": "Yonhap",
    "ria": "Sputnik",
    "agencia efe": "EFE",
    "bloomberg": "Bloomberg",
    "cnn": "CNN",
    "interfax": "Interfax",
    "jiji": "Jiji",
    "jiji press": "Jiji",
    "europa press": "Europa Press",
    "apa": "APA",
    "sda": "SDA",
    "keystone-sda": "SDA",
    "dpa-afx": "dpa",
    # The same agencies as they credit themselves in their own languages.
    "新华社": "Xinhua",
    "中新社": "CNS",
    "共同": "Kyodo",
    "共同通信": "Kyodo",
    "共同通信社": "Kyodo",
    "時事": "Jiji",
    "時事通信": "Jiji",
    "ロイター": "Reuters",
    "afp時事": "AFP",
    "聯合": "Yonhap",
    "연합뉴스": "Yonhap",
    "연합": "Yonhap",
    "뉴시스": "Newsis",
    "뉴스1": "News1",
    "риа новости": "Sputnik",
    "тасс": "TASS",
    "итар-тасс": "TASS",
    "интерфакс": "Interfax",
}

# A place is one or more ALL-CAPS words (with dots, hyphens, apostrophes), optionally
# followed by comma-separated parts such as a state abbreviation ("COLUMBIA, S.C.") or a
# country ("KYIV, Ukraine"). Requiring the first word in capitals is what keeps ordinary
# sentences ("The (AP) is ...", "Officials (Reuters) said") out.
_PLACE = r"[A-Z][A-Z.'’\-]+(?:\s+[A-Z][A-Z.'’\-]*)*(?:,\s*[A-Z][\w.'’\-]*(?:\s+[A-Z][\w.'’\-]*)*)*"
# An optional short date between the place and the credit: "Feb 20", "March 3", "Feb. 20".
_DATE = r"[A-Z][a-z]{2,8}\.?\s+\d{1,2}"
_DATELINE = re.compile(
    rf"^\s*(?P<place>{_PLACE}?)(?:,\s*(?P<date>{_DATE}))?,?\s*\((?P<credit>[^()]{{1,80}})\)"
    rf"\s*(?P<sep>\.?[-–—:]{{1,2}}|(?=[A-Z\"“]))"
)
# "(Reuters) — The ...": a republisher that cut the place but kept the credit.
_CREDIT_ONLY = re.compile(r"^\s*\((?P<credit>[^()]{1,40})\)\s*[-–—:]")
# A staff or unattributed dateline, "VIENNA — ..." or "BUFFALO, N.Y. — ...": a place with
# a dash but no credit. Only dashes count (not colons), and a few ALL-CAPS labels that
# open stories the same way are not places.
_PLACE_ONLY = re.compile(rf"^\s*(?P<place>{_PLACE}?)\s+(?:—|–|--)\s")
_NOT_PLACES = frozenset(
    {
        "BREAKING",
        "UPDATE",
        "UPDATED",
        "WATCH",
        "EXCLUSIVE",
        "ANALYSIS",
        "OPINION",
        "LIVE",
        "CORRECTION",
        "VIDEO",
        "PHOTOS",
        "EDITOR'S NOTE",
        "EDITOR’S NOTE",
        "NEW",
        "FILE",
    }
)
# Datelines as the agencies print them in their own languages, each tried on every line
# of the window after the English form; (pattern, a known agency is required).
_UPPER = "A-ZÀ-ÖØ-ÞА-ЯЁ"
_TITLE_PLACE = rf"[{_UPPER}][\w.'’\-]*(?:[ /][{_UPPER}][\w.'’\-]*){{0,3}}"
# "15 abr", "20 фев", "24 APR", "3 de marzo": a day-first short date.
_DAY_MONTH = r"\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]{3,10}\.?(?:\s+\d{4})?"
_LOCAL_FORMS: tuple[tuple[re.Pattern[str], bool], ...] = (
    # 新华社北京4月24日电, 中新社上海4月24日电 (Xinhua, China News Service)
    (
        re.compile(
            r"^\s*(?P<credit>新华社|中新社)(?:记者)?(?P<place>[\u4e00-\u9fff]{2,8}?)"
            r"(?:\d{1,2}月\d{1,2}日)?电"
        ),
        True,
    ),
    # 【ワシントン共同】, 【北京時事】, 【ソウル聯合】 (Kyodo, Jiji, Yonhap in Japanese)
    (
        re.compile(r"^\s*【(?P<place>[^】\s]{1,12}?)(?P<credit>共同|時事|ロイター|AFP時事|聯合)】"),
        True,
    ),
    # (서울=연합뉴스) (Yonhap, Newsis, News1)
    (re.compile(r"^\s*[(（](?P<place>[^=()（）]{1,12})=(?P<credit>[^()（）]{1,10})[)）]"), True),
    # МОСКВА, 20 фев - РИА Новости; МОСКВА, 20 февраля. /ТАСС/.
    (
        re.compile(
            rf"^\s*(?P<place>[А-ЯЁ][А-ЯЁ\-]+(?:\s+[А-ЯЁ][А-ЯЁ\-]+)*),\s*{_DAY_MONTH}"
            r"\s*[-–—.]?\s*[/(]?\s*(?P<credit>РИА Новости|ТАСС|Интерфакс|Прайм)\b"
        ),
        True,
    ),
    # Madrid, 15 abr (EFE).-; Berlin (dpa) -; New Delhi, Apr 24 (PTI); Frankfurt/Main (dpa)
    (
        re.compile(
            rf"^\s*(?P<place>{_TITLE_PLACE})(?:,\s*(?:{_DAY_MONTH}|[A-Z][a-z]{{2,8}}\.?\s+\d{{1,2}}))?"
            r"\s*\((?P<credit>[^()]{1,40})\)\s*(?:\.?[-–—:]{1,2}|$|(?=[A-Z\"“]))"
        ),
        True,
    ),
    # (ANSA) - ROMA, 24 APR -: the credit first, then the place
    (
        re.compile(
            rf"^\s*\((?P<credit>[^()]{{1,40}})\)\s*[-–—]\s*(?P<place>[{_UPPER}]{{2,}}"
            rf"(?:\s+[{_UPPER}]{{2,}})*),\s*{_DAY_MONTH}\s*[-–—]"
        ),
        True,
    ),
)
# "(연합뉴스) 정부는", "(ТАСС) Президент": a known agency's credit opening the story.
_KNOWN_CREDIT_FIRST = re.compile(r"^\s*[(（/](?P<credit>[^()（）/]{1,40})[)）/]")
# A credit closing the story: "… ha detto il ministro. (ANSA).", "…と述べた。（共同）"
_TRAILING_CREDIT = re.compile(r"[(（/](?P<credit>[^()（）/]{1,30})[)）/]\.?\s*$")
TRAILING_WINDOW = 120

# "UrduPoint News / Sputnik - 20th February, 2020": the date at the end of a credit.
_CREDIT_DATE_TAIL = re.compile(r"\s*[-–—,]\s*\d{1,2}(?:st|nd|rd|th)?\s+\w+,?\s+\d{4}\s*$")


@dataclass(frozen=True)
class Dateline:
    """The dateline place as printed and the normalised wire agency, each None if absent."""

    place: str | None
    agency: str | None


def normalise_agency(name: str) -> str | None:
    """Return the short name of a known agency, or None."""
    key = re.sub(r"\s+", " ", name).strip(" .").lower()
    return _AGENCIES.get(key)


def _agency_from_credit(credit: str) -> str | None:
    """Pick the wire agency out of a parenthesised credit; unknown credits kept as printed.

    "UrduPoint News / Sputnik - 20th February, 2020": the date tail goes, and of the
    slash-separated names the last one is the origin wire (the first is the republisher).
    """
    credit = _CREDIT_DATE_TAIL.sub("", credit).strip()
    parts = [p.strip() for p in re.split(r"\s*/\s*", credit) if p.strip()]
    for part in reversed(parts):
        known = normalise_agency(part)
        if known:
            return known
    if not parts:
        return None
    return parts[-1]


def find_dateline(text: str) -> Dateline:
    """Find a wire dateline such as "WASHINGTON (AP) —" at the start of article text.

    A credited dateline is looked for on every line starting in the first DATELINE_WINDOW
    characters (it may follow a short line such as a photo credit), in English form, then
    in the agencies' own (新华社北京4月24日电, 【ワシントン共同】, МОСКВА, 20 фев - РИА Новости,
    Berlin (dpa) -); the weaker forms, a credit without a place or a place without a
    credit, only on the first line, and a known agency's credit closing the story last.
    """
    window = text[:DATELINE_WINDOW]
    for line in window.splitlines():
        match = _DATELINE.match(line)
        if not match:
            continue
        place = match.group("place").strip(" ,")
        agency = _agency_from_credit(match.group("credit"))
        if not place or not agency:
            continue
        # An unknown credit is kept as printed, but only when it looks like a name and the
        # line is shaped like a dateline (a dash/colon after it, or a date before it):
        # "NASA (the agency) said" is an acronym subject, not a dateline.
        if normalise_agency(agency) is None and not (
            agency[0].isupper() and (match.group("sep").strip() or match.group("date"))
        ):
            continue
        return Dateline(place, agency)
    local = _local_dateline(window)
    if local is not None:
        return local
    first = window.lstrip().split("\n", 1)[0]
    credit_only = _CREDIT_ONLY.match(first) or _KNOWN_CREDIT_FIRST.match(first)
    if credit_only and normalise_agency(credit_only.group("credit")):
        return Dateline(None, normalise_agency(credit_only.group("credit")))
    place_only = _PLACE_ONLY.match(first)
    if place_only and place_only.group("place").upper() not in _NOT_PLACES:
        return Dateline(place_only.group("place").strip(" ,"), None)
    trailing = _TRAILING_CREDIT.search(text[-TRAILING_WINDOW:])
    if trailing and normalise_agency(trailing.group("credit")):
        return Dateline(None, normalise_agency(trailing.group("credit")))
    return Dateline(None, None)


def _local_dateline(window: str) -> Dateline | None:
    """A dateline in one of the agencies' own forms (_LOCAL_FORMS) on a line of the window."""
    for line in window.splitlines():
        for pattern, known_only in _LOCAL_FORMS:
            match = pattern.match(line)
            if not match:
                continue
            agency = normalise_agency(match.group("credit"))
            if agency is None and known_only:
                continue
            return Dateline(match.group("place").strip(" ,") or None, agency)
    return None


_BYLINE_PREFIX = re.compile(r"^\s*(?:by|from)\s+", re.IGNORECASE)
# "Reuters Staff", "AP Auto Writer", "Associated Press Writer": the agency, maybe a beat,
# then a job word.
_JOB_WORD = re.compile(
    r"\s+(?:staff|writer|correspondent|reporters?|newsroom|news|wire|editor)$", re.IGNORECASE
)


def agency_from_byline(authors: list[str]) -> str | None:
    """Return the agency named as an author ("Associated Press", "By Reuters Staff")."""
    for author in authors:
        name = _BYLINE_PREFIX.sub("", author).strip()
        candidates = [name]
        if _JOB_WORD.search(name):
            bare = _JOB_WORD.sub("", name)
            candidates += [bare, bare.rsplit(None, 1)[0]]  # with and without a beat word
        for candidate in candidates:
            known = normalise_agency(candidate)
            if known:
                return known
    return None


# Dates and times a CMS glues to the name: "Jane Doe 42 seconds ago", "Jane Doe, Nov 20, 2019".
_DATE_TAIL = re.compile(
    r"[\s,|–—-]*(?:\d|\b(?:updated|published|posted|on)\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug"
    r"|sep|oct|nov|dec)[a-z]*\.?\s+\d).*$",
    re.IGNORECASE,
)
_NAME_SPLIT = re.compile(r"\s*(?:;|\||,|&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)
# A job title or desk glued to a name: "AP Auto Writer", "Staff Reporter", "Editor".
_JOB_TITLE = re.compile(
    r"\b(?:writer|correspondent|editor|reporter|staff|desk|bureau|newsroom|contributor"
    r"|columnist|team|admin|administrator|news service|wire service|news agency)s?$",
    re.IGNORECASE,
)


def clean_authors(raw: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """Return (clean author names, wire agency named among them).

    Drops "By", Twitter handles, dates glued to names, job titles ("AP Auto Writer") and
    agency names ("Associated Press", "Reuters Staff"), which become the agency instead.
    """
    names: list[str] = []
    agency: str | None = None
    for entry in raw:
        bare = re.sub(r"https?://\S+", " ", HANDLE.sub(" ", entry))
        for piece in _NAME_SPLIT.split(bare):
            part = _DATE_TAIL.sub("", _BYLINE_PREFIX.sub("", piece.strip()))
            part = re.sub(r"\s+", " ", part).strip(" ,.:-–—()")
            if not part:
                continue
            known = agency_from_byline([part])
            if known:
                agency = agency or known
                continue
            if _JOB_TITLE.search(part) or not re.search(r"[^\W\d_]", part):
                continue
            if part not in names:
                names.append(part)
    return tuple(names), agency
