"""Extract one article (headline, body, metadata, wire credit) from a decoded HTML page."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree
from lxml.etree import ParserError
from readability import Document as ReadabilityDocument  # type: ignore[import-untyped]
from readability.cleaners import html_cleaner  # type: ignore[import-untyped]
from readability.readability import REGEXES, Unparseable  # type: ignore[import-untyped]
from trafilatura.settings import Document

from pipelines.extract.furniture import clean_text
from pipelines.extract.wire import clean_authors, find_dateline, normalise_agency

EXTRACTOR_NAME = "trafilatura"
# The suffix names our own rules on top of trafilatura: bump it when they change, so the
# archive can tell which articles were extracted by which rules.
EXTRACTOR_VERSION: str = f"{trafilatura.__version__}+wa2"

# Fewer words than this is a stub (paywall teaser, error or consent page), not a story.
# The shortest body on the dev set is 67 words; one-paragraph wire bulletins ("WASHINGTON
# (AP) — The Senate has confirmed ...") run 30-60 words and must be kept, so the bar sits
# below both.
MIN_WORDS = 25


class ExtractionRejected(Exception):
    """The page holds no article; .reason is a short machine-readable cause."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionRejected], tuple[str, str]]:
        # Extraction runs in worker processes: the reason must survive the trip back.
        return (ExtractionRejected, (self.reason, str(self)))


@dataclass(frozen=True)
class Extraction:
    """What one article page yields; published/modified are ISO 8601 dates or datetimes."""

    title: str | None
    text: str
    authors: tuple[str, ...]
    published: str | None
    modified: str | None
    language: str | None
    sitename: str | None
    canonical_url: str | None
    wire_agency: str | None
    wire_dateline: str | None


def _squash(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip().casefold()


def _strip_headline(text: str, title: str | None) -> str:
    """Drop leading lines that repeat the headline: the archive keeps it in `title`."""
    if not title:
        return text.strip()
    lines = text.strip().split("\n")
    while lines and _squash(lines[0]) == _squash(title):
        lines.pop(0)
    return "\n".join(lines).strip()


_HANDLE = re.compile(r"\(?@\w+\)?")
# Bylines such as "Tom Krisher, AP Auto Writer" reach us as two "authors"; the second is a
# job title, not a name (it still counts when looking for a wire agency).
_JOB_TITLE = re.compile(r"\b(?:writer|correspondent|editor|reporter|staff)$", re.IGNORECASE)


def _split_authors(author: str | None) -> tuple[str, ...]:
    """Split trafilatura's "A; B" author string; drop Twitter handles such as "(@x)"."""
    if not author:
        return ()
    names = (re.sub(r"\s+", " ", _HANDLE.sub("", a)).strip(" ,") for a in author.split(";"))
    return tuple(dict.fromkeys(n for n in names if n))


# The libraries log a page they cannot read at ERROR ("empty HTML tree"); the pipeline
# counts that page under a reason instead, so their messages are only noise in a run.
for _noisy in ("trafilatura", "readability", "htmldate", "courlan"):
    logging.getLogger(_noisy).setLevel(logging.CRITICAL)


_GENERIC_CREDIT_WORDS = frozenset({"news", "the", "daily", "online", "times", "post", "report"})


def _names_the_site(credit: str, sitename: str | None, url: str) -> bool:
    """Tell whether an unknown dateline credit names the publishing site itself."""
    words = {w for w in re.findall(r"[a-z]+", credit.lower()) if w not in _GENERIC_CREDIT_WORDS}
    site = f"{sitename or ''} {urlsplit(url).hostname or ''}".lower()
    return bool(words) and any(word in site for word in words)


def _strip_site_suffix(title: str | None, sitename: str | None) -> str | None:
    """Turn "Headline | ZDNet" into "Headline" when the suffix is the site's name."""
    if not title:
        return None
    if sitename:
        for sep in (" | ", " - ", " – ", " — "):
            head, found, tail = title.rpartition(sep)
            if found and head and _squash(tail) == _squash(sitename):
                return head.strip()
    return title


def _iso(value: str | None) -> str | None:
    """Normalise a date or datetime string to ISO 8601, keeping its zone; None if unparseable."""
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) <= 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


def _jsonld_dates(tree: Any) -> dict[str, str]:
    """Collect datePublished/dateModified from the page's JSON-LD blocks."""
    found: dict[str, str] = {}
    for node in _ld_nodes(tree):
        for key in ("datePublished", "dateModified"):
            if isinstance(node.get(key), str):
                found.setdefault(key, node[key])
    return found


def _first(tree: Any, *xpaths: str) -> str | None:
    for xpath in xpaths:
        for value in tree.xpath(xpath):
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


MetaKey = tuple[str, str]
# <meta> tags naming the publication and modification dates, the most trusted first.
_PUBLISHED_META: tuple[MetaKey, ...] = (
    ("property", "article:published_time"),
    ("property", "og:article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "parsely-pub-date"),
    ("name", "sailthru.date"),
    ("name", "DC.date.issued"),
    ("name", "pubdate"),
    ("name", "publishdate"),
)
_MODIFIED_META: tuple[MetaKey, ...] = (
    ("property", "article:modified_time"),
    ("property", "og:updated_time"),
    ("itemprop", "dateModified"),
)
_META_NAMES = ("property", "name", "itemprop")


def _meta_index(tree: Any) -> dict[MetaKey, list[str]]:
    """The contents of the page's <meta> tags by (attribute, value), in page order.

    One walk over the tags instead of a whole-tree XPath query for each key looked up.
    """
    index: dict[MetaKey, list[str]] = {}
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attribute in _META_NAMES:
            value = meta.get(attribute)
            if value is not None:
                index.setdefault((attribute, value), []).append(content)
    return index


def _first_meta(index: dict[MetaKey, list[str]], *keys: MetaKey) -> str | None:
    """The first non-blank content under the keys, tried in order (as _first does)."""
    for key in keys:
        for content in index.get(key, ()):
            if content.strip():
                return content.strip()
    return None


def _page_metadata(tree: Any, url: str) -> dict[str, str | None]:
    """Read what trafilatura reduces or skips: full datetimes, <html lang>, canonical URL."""
    if tree is None:
        return {}
    ld = _jsonld_dates(tree)
    meta = _meta_index(tree)
    published = _iso(_first_meta(meta, *_PUBLISHED_META)) or _iso(ld.get("datePublished"))
    modified = _iso(_first_meta(meta, *_MODIFIED_META)) or _iso(ld.get("dateModified"))
    canonical = _first(tree, '//link[@rel="canonical"]/@href') or _first_meta(
        meta, ("property", "og:url")
    )
    lang = _first(tree, "/html/@lang", "/html/@xml:lang")
    return {
        "published": published,
        "time_element": _iso(_first(tree, "//time/@datetime")),
        "modified": modified,
        "canonical_url": urljoin(url, canonical) if canonical else None,
        "language": lang.split("-")[0].split("_")[0].lower() if lang else None,
    }


def _published(page: dict[str, str | None], found: str | None) -> str | None:
    """Prefer a full datetime to trafilatura's bare date.

    The article's own metadata (Open Graph, JSON-LD) is trusted as is: its day may differ
    from trafilatura's by a time zone. A <time> element can belong to a comment or a related
    story, so it is used only when it falls on the day trafilatura found.
    """
    declared, time_element = page.get("published"), page.get("time_element")
    if declared:
        return declared
    if time_element and found and len(found) == 10 and time_element.startswith(found):
        return time_element
    return found or time_element


def _html_parser() -> Any:
    """An HTML parser whose nodes are all lxml.html's base classes, picked in C.

    lxml.html's own parser picks each node's class in a Python callback (form fields get
    classes of their own, which nothing here uses); readability and the gates touch every
    node, and the callback cost ~1.5 ms a page on the dev set.
    """
    parser = etree.HTMLParser(encoding="utf-8")
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


# The page is parsed once, as readability-lxml parses it (UTF-8 bytes, invalid characters
# replaced), and the tree serves both its second opinion and our metadata and gates.
_UTF8_PARSER = _html_parser()


def _parse(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=_UTF8_PARSER)
    except (ParserError, ValueError):
        return None


# --- Quality gates --------------------------------------------------------------------
# Each gate looks at the page and at the text extracted from it, and only fires on short
# texts (GATE_MAX_WORDS): a real story that mentions "404" or "subscribe" keeps its body.
GATE_MAX_WORDS = 200
STUB_MAX_WORDS = 60
# A section front or tag page: most of the "article" text is the text of links on the page.
LINKED_SHARE = 0.5
LINK_MIN_WORDS = 3
# ... or there is no text at all but many headline links.
FRONT_MIN_LINKS = 15
_ERROR_TITLE = re.compile(
    r"\b(?:page not found|not found|error 404|404 error|404|page (?:does not|doesn'?t) exist"
    r"|page (?:is )?(?:no longer )?(?:available|unavailable)|something went wrong"
    r"|(?:an )?error (?:has )?occurred|server error|access denied)\b",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"subscribe (?:now )?to (?:continue|read|keep reading|unlock)|subscribers? only"
    r"|(?:already|are you) a subscriber|to continue reading|continue reading with"
    r"|sign in to (?:read|continue)|(?:log in|login|register) to (?:read|continue)"
    r"|this (?:article|story|content) is (?:for|available to|reserved for) (?:paid )?subscribers"
    r"|become a (?:member|subscriber) to|unlock (?:this|the full) (?:article|story)",
    re.IGNORECASE,
)


def _ld_nodes(tree: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    stack: list[Any] = []
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            stack.append(json.loads(script))
        except ValueError:
            continue
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            nodes.append(node)
            stack.extend(v for v in node.values() if isinstance(v, (list, dict)))
    return nodes


def _ld_types(nodes: list[dict[str, Any]]) -> set[str]:
    types: set[str] = set()
    for node in nodes:
        kind = node.get("@type")
        types.update(kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else [])
    return types


def _headline_links(tree: Any) -> set[str]:
    """Squashed texts of the page's links of LINK_MIN_WORDS words or more."""
    found = set()
    for anchor in tree.iter("a"):
        text = _squash(anchor.text_content())
        if len(text.split()) >= LINK_MIN_WORDS:
            found.add(text)
    return found


def check_page(tree: Any, title: str | None, text: str) -> None:
    """Raise ExtractionRejected when the page is an error page, a paywall stub, a
    video-only page or a section front / tag page rather than an article."""
    words = len(text.split())
    if words >= GATE_MAX_WORDS or tree is None:
        return
    heading = " ".join(
        t for t in (title, _first(tree, "//title/text()"), _first(tree, "//h1//text()")) if t
    )
    if _ERROR_TITLE.search(heading):
        raise ExtractionRejected("error_page", f"error page: {heading[:80]!r}")
    nodes = _ld_nodes(tree)
    if _PAYWALL.search(text):
        raise ExtractionRejected("paywall", f"paywall stub ({words} words)")
    # Page-level signals (isAccessibleForFree false, a paywall notice outside the text)
    # only for a stub: a paywalled page that shows its lead (WSJ's 67 words on the dev set)
    # is archived with what it shows.
    if words < STUB_MAX_WORDS:
        free = [n.get("isAccessibleForFree") for n in nodes if "isAccessibleForFree" in n]
        if any(str(f).lower() == "false" for f in free):
            raise ExtractionRejected("paywall", f"isAccessibleForFree false ({words} words)")
        if _PAYWALL.search(" ".join(tree.xpath("//body//text()"))[:50000]):
            raise ExtractionRejected("paywall", f"paywall notice, {words} words of text")
    og_type = _first(tree, '//meta[@property="og:type"]/@content') or ""
    types = _ld_types(nodes)
    if og_type.lower().startswith("video") or (
        "VideoObject" in types and not types & {"NewsArticle", "Article", "ReportageNewsArticle"}
    ):
        raise ExtractionRejected("video_only", f"video page with {words} words of text")
    links = _headline_links(tree)
    lines = [line for line in text.split("\n") if line.strip()]
    linked = sum(len(line.split()) for line in lines if _squash(line.lstrip("- ")) in links)
    if words and linked >= LINKED_SHARE * words:
        raise ExtractionRejected("not_article", f"{linked} of {words} words are link texts")
    # Too little text to be a story, on a page of many headline links: a section front.
    if words < MIN_WORDS and len(links) >= FRONT_MIN_LINKS:
        raise ExtractionRejected("not_article", f"{words} words, {len(links)} headline links")


def check_language(language: str | None, expected: str | None) -> None:
    """Reject an article whose language is not the one a source declares (None: any).

    A page that declares no language is kept: absence is not evidence of another language.
    """
    if not expected or not language:
        return
    if language.split("-")[0].lower() != expected.split("-")[0].lower():
        raise ExtractionRejected("wrong_language", f"language {language}, expected {expected}")


def extract_article(html: str, url: str) -> Extraction:
    """Extract the article of a page; raise ExtractionRejected when there is none."""
    if not html.strip():
        raise ExtractionRejected("no_body", "empty page")
    tree = _parse(html)
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        # Measured on the dev set: precision mode lifts benchmark F1 0.963 -> 0.969 (9 pages
        # up, 4 slightly down); it trims share bars, teasers and captions around the story.
        favor_precision=True,
        deduplicate=False,
    )
    if not isinstance(doc, Document) or not doc.text:
        check_page(tree, None, "")
        raise ExtractionRejected("no_body", "no article text found")
    sitename = (doc.sitename or "").strip() or None
    title = _strip_site_suffix((doc.title or "").strip() or None, sitename)
    authors, byline_agency = clean_authors(_split_authors(doc.author))
    text, _ = combine(
        _strip_headline(doc.text, title), _strip_headline(_readability_text(tree), title)
    )
    text = clean_text(text, title, authors, sitename)
    check_page(tree, title, text)
    words = len(text.split())
    if words == 0:
        raise ExtractionRejected("no_body", "article text is only the headline")
    if words < MIN_WORDS:
        raise ExtractionRejected("too_short", f"{words} words < {MIN_WORDS}")
    page = _page_metadata(tree, url)
    dateline = find_dateline(text)
    agency = dateline.agency
    if agency and normalise_agency(agency) is None and _names_the_site(agency, sitename, url):
        agency = None  # "LAHORE, (Ledger News - ...)": the outlet crediting itself, not a wire
    language = doc.language or page.get("language")
    return Extraction(
        title=title,
        text=text,
        authors=authors,
        published=_published(page, _iso(doc.date)),
        modified=page.get("modified"),
        language=language.lower() if language else None,
        sitename=sitename,
        canonical_url=page.get("canonical_url") or None,
        wire_agency=agency or byline_agency,
        wire_dateline=dateline.place,
    )


# --- Second opinion -------------------------------------------------------------------
# readability-lxml scores the page's blocks differently from trafilatura (it keeps the
# densest container whole, and drops what lies outside it). On the dev set it is worse
# alone (F1 0.964 vs 0.968) but right where trafilatura goes wrong in two general ways:
# it keeps only the first block of a body split by ad rows ("too little"), or it keeps
# blocks around the story (promos, "about the company", other stories' teasers).

# Trafilatura's text is taken as truncated when readability's is this many times longer
# and holds nearly all of it.
TRUNCATED_RATIO = 1.5
TRUNCATED_COVER = 0.9
# The two extractors must agree on most of the story before one may edit the other.
AGREEMENT = 0.7
# A paragraph only trafilatura found is dropped from this many words on (shorter lines are
# subheads, list items and table cells, which readability often loses)...
DROP_MIN_WORDS = 8
# ... and one only readability found is added from this many words on, if it is prose.
ADD_MIN_WORDS = 30

_TOKEN = re.compile(r"\w+")
_PROSE_END = re.compile(r"[.!?\"”’)]$")
# An embedded post's signature ("— Name (@handle) November 18, 2019"): readability drops
# embeds, so the post's own lines (up to the signature) must not be dropped for it.
_EMBED_SIGNATURE = re.compile(r"^[—–-]\s*.{1,80}\(@\w+\)")
_BLOCKS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd", "dt"}
)
_SKIP = frozenset({"figure", "figcaption", "aside", "script", "style", "noscript", "button"})


# Shingle length, as in pipelines.extract.scoring; a paragraph shorter than SHINGLE_MATCH_TOKENS is
# looked up as a run of words instead, since it has too few shingles to share.
SHINGLE = 4
SHINGLE_MATCH_TOKENS = 8

Shingles = Counter[tuple[str, ...]]


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def _shingles(tokens: list[str]) -> Shingles:
    """The multiset scoring.shingles() makes of the text these tokens were split from."""
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(zip(*(tokens[i:] for i in range(SHINGLE)), strict=False))


def _overlap(first: Shingles, second: Shingles) -> int:
    """Size of the multisets' intersection, sum((first & second).values()), built no Counter."""
    if len(first) > len(second):
        first, second = second, first
    # A plain loop: twice as fast as Counter's & or a generator over a whole story's shingles.
    found = second.get
    total = 0
    for key, count in first.items():
        other = found(key)
        if other:
            total += count if count < other else other
    return total


class _Paragraph:
    """A text with its tokens and shingles, computed once: combine() compares lines often."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.shingles = _shingles(self.tokens)
        self.size = sum(self.shingles.values())


class _Pool(_Paragraph):
    """A text's token string and shingles, to ask whether a paragraph occurs in it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.joined = f" {' '.join(self.tokens)} "

    def holds(self, paragraph: _Paragraph) -> bool:
        if not paragraph.tokens:
            return True
        if len(paragraph.tokens) < SHINGLE_MATCH_TOKENS:
            return f" {' '.join(paragraph.tokens)} " in self.joined
        return _overlap(paragraph.shingles, self.shingles) >= 0.5 * paragraph.size


# readability-lxml's own cleaner, minus its javascript pass: that pass blanks "javascript:"
# links with rewrite_links(), a third of readability's time on the dev set (10 of 28 ms a
# page), and changes only attribute values, while we keep the container's text alone.
_READABILITY_CLEANER = copy.copy(html_cleaner)
_READABILITY_CLEANER.javascript = False


class _Readability(ReadabilityDocument):  # type: ignore[misc]
    """readability-lxml's Document over an already parsed page, cleaned without link rewriting."""

    def _parse(self, page: Any) -> Any:
        # Mirrors readability.Document._parse (0.9) for a tree input, on a copy: summary()
        # mutates the tree and parses again for its lenient retry, and the caller keeps
        # the page for its gates. <base> resolution is left out with the link rewriting.
        doc = copy.deepcopy(page)
        self.encoding = "utf-8"
        for elem in doc.xpath("//*[@hidden]"):
            elem.drop_tree()
        for elem in doc.xpath("//*[@style]"):
            if REGEXES["displayNoneRe"].search(elem.get("style")):
                elem.drop_tree()
        _READABILITY_CLEANER(doc)
        return doc


def _readability_text(tree: Any) -> str:
    """Text of readability-lxml's article container, one block a line ("" on failure)."""
    if tree is None:
        return ""
    try:
        summary = _Readability(tree).summary(html_partial=True)
    except (Unparseable, ParserError, ValueError, TypeError):
        return ""
    text = trafilatura.extract(summary, favor_recall=True, include_comments=False)
    if text:
        return str(text)
    # Trafilatura finds nothing in some containers; read their blocks directly.
    try:
        container = lxml.html.fromstring(summary)
    except (ParserError, ValueError):
        return ""
    for dropped in list(container.iter(*_SKIP)):
        dropped.drop_tree()
    lines = []
    for element in container.iter(*_BLOCKS):
        if any(child.tag in _BLOCKS for child in element.iterdescendants()):
            continue
        line = re.sub(r"\s+", " ", element.text_content()).strip()
        if line:
            lines.append(f"- {line}" if element.tag == "li" else line)
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _embedded_posts(paragraphs: list[str]) -> set[int]:
    """Indexes of the lines of embedded social posts: a signature and the lines above it."""
    protected: set[int] = set()
    for i, line in enumerate(paragraphs):
        if _EMBED_SIGNATURE.match(line):
            protected.add(i)
            j = i - 1
            while j >= 0 and i - j <= 3 and not _EMBED_SIGNATURE.match(paragraphs[j]):
                protected.add(j)
                j -= 1
    return protected


def combine(primary: str, second: str) -> tuple[str, str]:
    """Merge trafilatura's text with readability's; return (text, what was done).

    - "second": trafilatura's text is truncated (readability's is much longer and holds
      nearly all of it): take readability's.
    - "merged": both found the same story: drop trafilatura's prose lines that readability
      left out of the article container, and add readability's long prose paragraphs that
      trafilatura missed (a lead in a differently marked-up block), in readability's order.
    - "primary": they disagree (different containers): keep trafilatura's.
    """
    if not second.strip():
        return primary, "primary"
    first_pool, second_pool = _Pool(primary), _Pool(second)
    shared = _overlap(first_pool.shingles, second_pool.shingles)
    if (
        len(second_pool.tokens) >= TRUNCATED_RATIO * len(first_pool.tokens)
        and shared / max(1, first_pool.size) >= TRUNCATED_COVER
    ):
        return second, "second"
    if shared / max(1, second_pool.size) < AGREEMENT:
        return primary, "primary"
    lines = [_Paragraph(line) for line in _paragraphs(primary)]
    protected = _embedded_posts([line.text for line in lines])
    kept = [
        line
        for i, line in enumerate(lines)
        if i in protected
        or line.text.startswith(("- ", "|"))
        or len(line.tokens) < DROP_MIN_WORDS
        or second_pool.holds(line)
    ]
    pending: list[_Paragraph] = []
    for line in map(_Paragraph, _paragraphs(second)):
        if not first_pool.holds(line):
            if len(line.tokens) >= ADD_MIN_WORDS and _PROSE_END.search(line.text):
                pending.append(line)
            continue
        if pending:
            anchor = _Pool(line.text)
            at = next((i for i, k in enumerate(kept) if anchor.holds(k)), len(kept))
            kept[at:at] = pending
            pending = []
    kept.extend(pending)
    return "\n".join(line.text for line in kept), "merged"
