"""Extract one article (headline, body, metadata, wire credit) from a decoded HTML page.

The page is parsed once; the tree is read for metadata and links, then handed to
trafilatura for the body (body.py), the body is cleaned of furniture (furniture.py), the
gates decide whether it is an article at all (gates.py), and the date is chosen from the
page's own metadata, the listing, the text and the fetch time, in that order (dates.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import lxml.html
import trafilatura
from htmldate import find_date
from lxml import etree

from pipelines.extract.body import drop_teaser_links, extract_text
from pipelines.extract.dates import (
    EARLIEST,
    FUTURE_SLACK,
    Candidate,
    choose_published,
    day_first_for,
    first_plausible,
)
from pipelines.extract.furniture import clean_text
from pipelines.extract.gates import MIN_UNITS, PageLinks, check_length, check_page
from pipelines.extract.metadata import (
    ld_blocks,
    ld_nodes,
    names_the_site,
    read_metadata,
    settle_language,
    strip_site_suffix,
)
from pipelines.extract.rejection import ExtractionRejected, check_language
from pipelines.extract.wire import clean_authors, find_dateline, normalise_agency

__all__ = [
    "EXTRACTOR_NAME",
    "EXTRACTOR_VERSION",
    "MIN_UNITS",
    "Extraction",
    "ExtractionRejected",
    "ListedDate",
    "check_language",
    "check_page",
    "extract_article",
]

EXTRACTOR_NAME = "trafilatura"
# The suffix names our own rules on top of trafilatura: bump it when they change, so the
# archive can tell which articles were extracted by which rules.
EXTRACTOR_VERSION: str = f"{trafilatura.__version__}+wa5"

# The libraries log a page they cannot read at ERROR ("empty HTML tree"); the pipeline
# counts that page under a reason instead, so their messages are only noise in a run.
for _noisy in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_noisy).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class ListedDate:
    """The date a feed or news sitemap listed the page under; kind is `feed` or `sitemap`."""

    value: datetime
    kind: str


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
    published_from: str | None = None  # jsonld, meta, feed, sitemap, text or fetched


def _html_parser() -> Any:
    """trafilatura's HTML parser, with each node's class picked in C.

    lxml.html's own parser picks each node's class in a Python callback (form fields get
    classes of their own, which nothing here uses): 1M calls, 6% of an extraction over the
    two labelled sets. Every tree built here gives trafilatura the same text (229 of 229
    pages) at 0.08x of ``extract()`` for the parse, against 0.13x for its own load_html.
    """
    parser = etree.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


_PARSER = _html_parser()


# Characters XML forbids (C0 controls but tab and newlines; DEL, never text): libxml2 ends the
# document at a NUL and keeps the others in the tree, where trafilatura, which builds its
# output tree from the text, then finds no text at all.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _parse(html: str) -> Any:
    """Parse the page once; None when it is no HTML at all."""
    clean = _NOT_XML.sub("", html)
    try:
        tree = lxml.html.document_fromstring(clean.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return tree if len(tree) else None


def _text_date(tree: Any, url: str, fetched: datetime) -> Candidate:
    """htmldate's reading of the page (URL, <time>, text), called only as a fallback."""

    def search() -> tuple[str, str | None]:
        found = find_date(
            tree,
            url=url,
            original_date=True,
            extensive_search=True,
            outputformat="%Y-%m-%dT%H:%M:%S",
            min_date=EARLIEST.replace(tzinfo=None),
            max_date=(fetched.astimezone(UTC) + FUTURE_SLACK).replace(tzinfo=None),
        )
        if found and found.endswith("T00:00:00"):
            found = found[:10]  # a day without a time, not midnight
        return "text", found

    return search


def extract_article(
    html: str,
    url: str,
    *,
    fetched_at: datetime | None = None,
    listed: ListedDate | None = None,
) -> Extraction:
    """Extract the article of a page; raise ExtractionRejected when there is none.

    `fetched_at` (default: now) bounds the plausible publication dates and is the date of
    last resort; `listed` is the feed's or sitemap's date for the page, if any.
    """
    if not html.strip():
        raise ExtractionRejected("no_body", "empty page")
    tree = _parse(html)
    if tree is None:
        raise ExtractionRejected("no_body", "not an HTML document")
    fetched = fetched_at or datetime.now(UTC)
    blocks = ld_blocks(tree)
    nodes = ld_nodes(blocks)
    links = PageLinks(tree)
    page = read_metadata(tree, url, blocks, nodes)
    # trafilatura works on a copy of the tree: ours stays whole for the gates and dates.
    raw = extract_text(tree, url)
    if not raw:
        check_page(tree, None, "", blocks, links)
        raise ExtractionRejected("no_body", "no article text found")
    sitename = page.sitename
    title = strip_site_suffix(page.title, sitename)
    authors, byline_agency = clean_authors(page.authors)
    text = drop_teaser_links(raw, links)
    text = clean_text(text, title, authors, sitename)
    check_page(tree, title, text, blocks, links)
    check_length(text)
    candidates: list[Candidate] = list(page.published)
    if listed is not None:
        candidates.append((listed.kind, listed.value.isoformat()))
    candidates.append(_text_date(tree, url, fetched))
    language = settle_language(page.language, text)
    dated = choose_published(candidates, fetched, day_first_for(language))
    dateline = find_dateline(text)
    agency = dateline.agency
    if agency and normalise_agency(agency) is None and names_the_site(agency, sitename, url):
        agency = None  # "LAHORE, (Ledger News - ...)": the outlet crediting itself, not a wire
    return Extraction(
        title=title,
        text=text,
        authors=authors,
        published=dated.value,
        modified=first_plausible(page.modified, fetched),
        language=language,
        sitename=sitename,
        canonical_url=page.canonical_url,
        wire_agency=agency or byline_agency,
        wire_dateline=dateline.place,
        published_from=dated.source,
    )
