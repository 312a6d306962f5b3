"""Tell an article from a page that holds none: stubs, error pages, paywalls, video, fronts.

Lengths are counted in units (scripts.py): words, or characters of scripts written
without spaces, so a Japanese story is as long here as its English translation or longer.
Each gate looks at the page and at the text extracted from it, and only fires on short
texts (GATE_MAX_UNITS): a real story that mentions "404" or "subscribe" keeps its body.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.extract.furniture import squash
from pipelines.extract.metadata import ld_blocks, ld_nodes, ld_types
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
PAGE_TEXT_SCAN = 50_000
_ARTICLE_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle"})


class ExtractionRejected(Exception):
    """The page holds no article; .reason is a short machine-readable cause."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionRejected], tuple[str, str]]:
        # Extraction runs in worker processes: the reason must survive the trip back.
        return (ExtractionRejected, (self.reason, str(self)))


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


def check_page(
    tree: Any,
    title: str | None,
    text: str,
    nodes: list[dict[str, Any]] | None = None,
    links: PageLinks | None = None,
) -> None:
    """Raise ExtractionRejected when the page is an error page, a paywall stub, a
    video-only page or a section front / tag page rather than an article."""
    size = count_units(text)
    if size >= GATE_MAX_UNITS or tree is None:
        return
    heading = _heading(tree, title)
    if _ERROR_TITLE.search(heading):
        raise ExtractionRejected("error_page", f"error page: {heading[:80]!r}")
    if _PAYWALL.search(text):
        raise ExtractionRejected("paywall", f"paywall stub ({size} units)")
    # A paywall notice outside the text counts only for a stub: a paywalled page that shows
    # its lead is archived with what it shows. `isAccessibleForFree: false` alone is no
    # evidence: sites declare it on pages they serve whole.
    if size < STUB_MAX_UNITS and _PAYWALL.search(
        " ".join(tree.xpath("//body//text()"))[:PAGE_TEXT_SCAN]
    ):
        raise ExtractionRejected("paywall", f"paywall notice, {size} units of text")
    if nodes is None:
        nodes = ld_nodes(ld_blocks(tree))
    og_type = next(
        (m.get("content") or "" for m in tree.iter("meta") if m.get("property") == "og:type"), ""
    )
    types = ld_types(nodes)
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


def check_language(language: str | None, expected: str | None) -> None:
    """Reject an article whose language is not the one a source declares (None: any).

    A page that declares no language is kept: absence is not evidence of another language.
    """
    if not expected or not language:
        return
    if language.split("-")[0].lower() != expected.split("-")[0].lower():
        raise ExtractionRejected("wrong_language", f"language {language}, expected {expected}")
