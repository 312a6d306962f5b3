"""Tell an article from a page that holds none: stubs, error pages, paywalls, video, fronts.

Lengths are counted in units (scripts.py): words, or characters of scripts written
without spaces, so a Japanese story is as long here as its English translation or longer.
Each gate looks at the page and at the text extracted from it, and only fires on short
texts (GATE_MAX_UNITS): a real story that mentions "404" or "subscribe" keeps its body.
The error and paywall gates read structure, never phrases, so they work in every language:
a status code in the heading or a noindex page that declares no article; a paywall notice
in markup, or JSON-LD saying the text is not free while the page serves far less of it
than it declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from pipelines.extract.furniture import squash
from pipelines.extract.metadata import ld_blocks, ld_nodes, ld_types
from pipelines.extract.rejection import ExtractionRejected
from pipelines.extract.scripts import count_units

# Fewer units than this is a stub (paywall teaser, error or consent page), not a story.
# The shortest body on the dev set is 67 words; one-paragraph wire bulletins ("WASHINGTON
# (AP) — The Senate has confirmed ...") run 30-60 words and must be kept, so the bar sits
# below both.
MIN_UNITS = 25
GATE_MAX_UNITS = 200
STUB_MAX_UNITS = 60
# A section front or tag page: most of the "article" text is the text of links on the page.
LINKED_SHARE = 0.5
# ... or there is no text at all but many headline links.
FRONT_MIN_LINKS = 15
# A soft error page names its HTTP status in its <title> or <h1> in every language ("Fehler
# 404", "404 Not Found", "Erreur 404", "ページが見つかりません（404）"); 404 and 410 only,
# because a headline may well start "500 killed ...".
_STATUS_IN_HEADING = re.compile(r"(?<![\d.,])(?:404|410)(?![\d.,])")
# A paywall notice is marked up, whatever language its words are in: the part schema.org's
# `hasPart.cssSelector` names, or an element whose class or id says so.
_PAYWALL_MARKUP = etree.XPath(
    "//*[re:test(@class, 'paywall|regwall', 'i') or re:test(@id, 'paywall|regwall', 'i')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
# A simple CSS selector (".paywall", "#premium", "div.locked"): the only kind read here.
_SIMPLE_SELECTOR = re.compile(r"^\s*([a-z][a-z0-9]*)?([.#])([\w-]+)\s*$", re.IGNORECASE)
# Served in full: the text holds at least this share of the length the page declares
# (JSON-LD wordCount or articleBody). Cut short: under this share.
SERVED_SHARE = 0.8
TRUNCATED_SHARE = 0.5
# A notice element holding the text's opening this long wraps the story: it is no notice.
NOTICE_KEY_CHARS = 40
_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
    }
)


LINK_MIN_UNITS = 3


def link_texts(tree: Any, min_units: int = LINK_MIN_UNITS) -> set[str]:
    """Squashed texts of the page's links of `min_units` units or more, URLs left out."""
    found = set()
    for anchor in tree.iter("a"):
        text = anchor.text_content()
        if "://" in text or "www." in text:
            continue  # a printed URL is a reference, not a headline
        flat = squash(text)
        if count_units(flat) >= min_units:
            found.add(flat)
    return found


class PageLinks:
    """The page's link texts, read on first use: most pages never need them."""

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self._texts: set[str] | None = None

    @property
    def texts(self) -> set[str]:
        if self._texts is None:
            self._texts = link_texts(self._tree)
        return self._texts


def _heading(tree: Any, title: str | None) -> str:
    parts = [title or ""]
    for tag in ("title", "h1"):
        element = next(tree.iter(tag), None)
        if element is not None:
            parts.append(element.text_content().strip())
    return " ".join(p for p in parts if p)


def _is_false(value: Any) -> bool:
    """schema.org booleans come as JSON false or as the strings "False"/"false"."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


@dataclass(frozen=True)
class Access:
    """What a page's JSON-LD says about access to its text, and how long that text is."""

    withheld: bool  # isAccessibleForFree is false on the article or a part of it
    selectors: tuple[str, ...]  # hasPart cssSelectors of the parts not free to read
    declared_units: int | None  # wordCount, or the units of articleBody


def _listed(value: Any) -> list[dict[str, Any]]:
    """A JSON-LD value that may be one object or a list of them, as a list of objects."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def own_nodes(blocks: list[Any]) -> list[dict[str, Any]]:
    """The JSON-LD objects that describe the page's own article, and the parts it lists.

    The top-level objects of each block (its @graph too) and their mainEntity; of those,
    the articles if any is one. A related story nested elsewhere in the markup (a free
    brief's "paywalled" teaser, with a long wordCount) says nothing about this page.
    """
    tops: list[dict[str, Any]] = []
    for block in blocks:
        for node in _listed(block):
            tops.append(node)
            tops.extend(_listed(node.get("@graph")))
    tops.extend(main for node in list(tops) for main in _listed(node.get("mainEntity")))
    articles = [node for node in tops if ld_types([node]) & _ARTICLE_TYPES]
    chosen = articles or tops
    return chosen + [part for node in chosen for part in _listed(node.get("hasPart"))]


def _count(value: Any) -> int | None:
    """A wordCount as a number: 450 or " 450 "; None for anything else ("n/a", "²")."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    digits = str(value).strip()
    return int(digits) if digits.isdecimal() else None


def declared_access(blocks: list[Any]) -> Access:
    """Read isAccessibleForFree, hasPart.cssSelector, wordCount and articleBody."""
    withheld = False
    selectors: list[str] = []
    declared: int | None = None
    for node in own_nodes(blocks):
        if _is_false(node.get("isAccessibleForFree")):
            withheld = True
            selector = node.get("cssSelector")
            if isinstance(selector, str):
                selectors.extend(part for part in selector.split(",") if part.strip())
        count = _count(node.get("wordCount"))
        if count is not None:
            declared = max(declared or 0, count)
        body = node.get("articleBody")
        if isinstance(body, str) and body.strip():
            declared = max(declared or 0, count_units(body))
    return Access(withheld, tuple(selectors), declared or None)


def _selected(tree: Any, selector: str) -> list[Any]:
    """Elements a simple CSS selector (tag.class, tag#id) names; [] for any other kind."""
    found = _SIMPLE_SELECTOR.match(selector)
    if not found:
        return []
    tag, kind, name = found.group(1), found.group(2), found.group(3)
    attribute = "class" if kind == "." else "id"
    return [
        element
        for element in tree.iter(tag.lower() if tag else etree.Element)
        if isinstance(element.tag, str)
        and (
            name in (element.get(attribute) or "").split()
            if kind == "."
            else element.get("id") == name
        )
    ]


def paywall_notice(tree: Any, text: str, selectors: tuple[str, ...] = ()) -> bool:
    """Tell whether the page serves a paywall notice in markup, beside the story text.

    The notice is an element the page marks as its paywalled part (hasPart.cssSelector) or
    whose class or id says paywall, holding some text of its own: a container that wraps
    the story itself (a class like "paywall-free article-body") is no notice.
    """
    elements = [e for selector in selectors for e in _selected(tree, selector)]
    elements.extend(_PAYWALL_MARKUP(tree))
    opening = squash(text)[:NOTICE_KEY_CHARS]
    for element in elements:
        inside = squash(element.text_content())
        if inside and not (opening and opening in inside):
            return True
    return False


def is_paywall_stub(tree: Any, text: str, access: Access) -> bool:
    """Tell a teaser behind a paywall from a story served in full, in any language.

    Evidence is structural, never a phrase: the page declares its text not free
    (isAccessibleForFree false) and either serves a paywall notice in markup or serves far
    less than the length it declares; or, for a stub, serves a paywall notice at all. A text
    holding most of the declared length was served in full, whatever the metadata says.
    """
    size = count_units(text)
    if size >= GATE_MAX_UNITS:
        return False
    declared = access.declared_units
    if declared and size >= SERVED_SHARE * declared:
        return False
    truncated = bool(declared) and size < TRUNCATED_SHARE * (declared or 0)
    if access.withheld and truncated:
        return True
    notice = paywall_notice(tree, text, access.selectors)
    return notice and (access.withheld or size < STUB_MAX_UNITS)


def is_error_page(tree: Any, title: str | None, types: set[str], og_type: str) -> bool:
    """Tell a soft error page (served with 200) from a short article, in any language.

    The page names the status in its heading (404, 410), or asks search engines not to
    index it; and it declares no article (no JSON-LD article type, no og:type article).
    """
    if types & _ARTICLE_TYPES or og_type.strip().lower() == "article":
        return False
    if _STATUS_IN_HEADING.search(_heading(tree, title)):
        return True
    robots = " ".join(
        (m.get("content") or "").lower()
        for m in tree.iter("meta")
        if (m.get("name") or "").lower() == "robots"
    )
    return "noindex" in robots


def check_page(
    tree: Any,
    title: str | None,
    text: str,
    blocks: list[Any] | None = None,
    links: PageLinks | None = None,
) -> None:
    """Raise ExtractionRejected when the page is an error page, a paywall stub, a
    video-only page or a section front / tag page rather than an article."""
    size = count_units(text)
    if size >= GATE_MAX_UNITS or tree is None:
        return
    if blocks is None:
        blocks = ld_blocks(tree)
    types = ld_types(ld_nodes(blocks))
    og_type = next(
        (m.get("content") or "" for m in tree.iter("meta") if m.get("property") == "og:type"), ""
    )
    if is_error_page(tree, title, types, og_type):
        raise ExtractionRejected("error_page", f"error page: {_heading(tree, title)[:80]!r}")
    access = declared_access(blocks)
    if is_paywall_stub(tree, text, access):
        raise ExtractionRejected("paywall", f"paywall stub ({size} units)")
    if og_type.lower().startswith("video") or (
        "VideoObject" in types and not types & _ARTICLE_TYPES
    ):
        raise ExtractionRejected("video_only", f"video page with {size} units of text")
    texts = (links or PageLinks(tree)).texts
    lines = [line for line in text.split("\n") if line.strip()]
    linked = sum(count_units(line) for line in lines if squash(line.lstrip("- ")) in texts)
    if size and linked >= LINKED_SHARE * size:
        raise ExtractionRejected("not_article", f"{linked} of {size} units are link texts")
    # Too little text to be a story, on a page of many headline links: a section front.
    if size < MIN_UNITS and len(texts) >= FRONT_MIN_LINKS:
        raise ExtractionRejected("not_article", f"{size} units, {len(texts)} headline links")


def check_length(text: str) -> None:
    """Reject a text too short to be a story (counted in units, whatever the script)."""
    size = count_units(text)
    if size == 0:
        raise ExtractionRejected("no_body", "article text is only the headline")
    if size < MIN_UNITS:
        raise ExtractionRejected("too_short", f"{size} units < {MIN_UNITS}")
