"""The article body: trafilatura on the tree parsed once, a second try only when it fails.

Measured on both labelled sets (tests/data/extraction-dev, extraction-multilingual), per
language group, with each rule switched off in turn (benchmark F1; cost as a share of
plain ``trafilatura.extract(html)``):

- ``favor_precision=True`` trims share bars, teasers and captions around the story: dev
  0.969 -> 0.975, multilingual 0.960 -> 0.963 (de +0.004, other Latin +0.006, CJK +0.011,
  other scripts +0.001, en -0.001: one page). 0.85x on a parsed tree, against 0.87x for
  the default mode. Comments are never part of the story (``include_comments=False``).
- Precision mode sometimes keeps one block of a body split by ad rows or widgets. The cheap
  signal: its text is under FALLBACK_SHARE of the text in the page's <p> elements, in units
  (one XPath call, 0.02x). The two lost bodies sit at 0.06 and 0.12, the next pages at
  0.215-0.25 (Japanese pages with long lists of related links); in characters rather than
  units those Japanese pages fall to 0.14-0.19, too close to call. Only then is the
  default mode run as a second opinion: 2 of 229 pages, multilingual en 0.947 -> 0.959,
  nothing else changes.
- Teaser links (drop_teaser_links): dev +0.0001, multilingual +0.001 (de +0.002, other
  Latin +0.001, the rest unchanged); 0.01x, the link texts read only when a line needs them.
- The ARIA "complementary" landmark pruned before extraction (a fact box kept by precision
  mode): multilingual +0.0009 (other Latin +0.006, one page; no group lower), dev
  unchanged; 0.7 ms a page (0.02x).
- <figcaption> pruned with it: multilingual +0.0003 (de +0.0004, other scripts +0.009; no
  group lower), dev unchanged; the same XPath pass, no measurable cost.
- Dropped after measuring: readability-lxml's second opinion merged line by line (dev +0.01
  where it was tuned, multilingual -0.05, 2.3x the cost of extract() with it); lifting a
  lead paragraph from <meta description> (multilingual +0.005, dev -0.003: the two sets'
  truths disagree on leads); photo-credit and multilingual photo-label lines (no gain on
  one set or the other). Measured again with the text block between the <h1> and the body
  (a standfirst in the same container): dev 0.9745 -> 0.9702, multilingual 0.9628 ->
  0.9643, and per truth: Fundus +0.0024, Readability -0.0016, newspaper4k 0, CJK -0.016:
  only Fundus's truths keep the standfirst. Also dropped: balanced mode instead of
  precision (dev -0.005, multilingual -0.003); FALLBACK_SHARE 0.3-0.4 (CJK -0.011);
  include_tables=False (dev -0.010); deduplicate=True (dev -0.0005); fast=True (dev -0.013,
  multilingual -0.017); dropping every line that is a link's text (en -0.001, CJK
  +0.004); trailing short lines holding a link (dev -0.001); pruning [hidden] (other
  Latin -0.045) or role=dialog/<template> (no change); a second opinion when the text is
  under 70% of the JSON-LD wordCount/articleBody (fires on 2 pages, changes nothing).
- Measured and dropped with extractor +wa5 (multilingual / dev): a standfirst shown in its
  own element and named by <meta description>, put first (+0.0043 / -0.0031; the same
  markup is labelled in by Fundus and out by the dev set on 45 pages); embedded posts
  (twitter-tweet, instagram-media, tiktok-embed) pruned (+0.0013 / -0.0042); repeated lines
  dropped (-0.0005 / -0.0076); trailing lines under 8 units dropped (+0.0003 / -0.0016).
  Ceilings: precision or balanced mode, whichever is better on each page (an oracle),
  +0.0025 / +0.0016; every subheading precision mode drops, restored, +0.0004 / +0.0006.
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from lxml import etree
from trafilatura.settings import Document

from pipelines.extract.furniture import squash
from pipelines.extract.gates import PageLinks
from pipelines.extract.scripts import count_units

# Below this share of the page's paragraph text, precision mode lost the body.
FALLBACK_SHARE = 0.2
# ARIA's "complementary" landmark is, by definition, content tangential to the main one: a
# fact box, a related-links rail. trafilatura drops <aside> but not this role. A
# <figcaption> describes a photo, not the story (every labelled set leaves captions out).
PRUNE_XPATH = ("//*[@role='complementary']", "//figcaption")
# "Read also: <headline>", "Mehr zum Thema: <headline>": a label before a teaser link.
_LABEL = re.compile(r"^[^:]{1,30}:\s+")
_LIST_MARK = ("- ", "• ", "* ")


def _bare_text(tree: Any, url: str | None, *, precision: bool) -> str:
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=precision,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        with_metadata=False,
        prune_xpath=list(PRUNE_XPATH),
    )
    return str(doc.text or "") if isinstance(doc, Document) else ""


_PARAGRAPH_TEXT = etree.XPath("//p//text()", smart_strings=False)


def paragraph_units(tree: Any) -> int:
    """Units of text in the page's <p> elements: what a story page mostly holds."""
    return count_units(" ".join(_PARAGRAPH_TEXT(tree)))


def extract_text(tree: Any, url: str | None) -> str:
    """The story text, one block a line; "" when trafilatura finds none."""
    text = _bare_text(tree, url, precision=True)
    if count_units(text) < FALLBACK_SHARE * paragraph_units(tree):
        text = _bare_text(tree, url, precision=False) or text
    return text


def drop_teaser_links(text: str, links: PageLinks) -> str:
    """Drop list items and labelled lines that are the whole text of a link on the page.

    "- Naturkatastrophe: Santorini-Vulkan ...", "Les også: Tone Damli ...": teasers for
    other stories that an extractor kept inside the article container. A story paragraph
    is never the whole text of one link; a bare line that is (a headline, a subhead linked
    to its section) is left alone.
    """
    kept = []
    for line in text.split("\n"):
        stripped = line.strip()
        item = stripped.startswith(_LIST_MARK)
        bare = stripped.lstrip("-•* ").strip()
        unlabelled = _LABEL.sub("", bare, count=1)
        labelled = unlabelled != bare
        if (item or labelled) and (
            squash(unlabelled) in links.texts or (item and squash(bare) in links.texts)
        ):
            continue
        kept.append(line)
    return "\n".join(kept)
