"""Read an article's metadata from its parsed page: headline, authors, site, language, dates.

Everything here reads the tree the page was parsed into once, and nothing runs a second
extraction: the <meta> tags and JSON-LD blocks are walked once each. Trafilatura's own
metadata pass (``with_metadata=True``) costs a third of an extraction, most of it in an
XPath search for bylines in the body; we take its cheap parts (Open Graph, <meta>, JSON-LD,
<title>/<h1>) and leave out that search and htmldate, which dates.py runs only as a
fallback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from trafilatura.json_metadata import extract_json
from trafilatura.metadata import examine_meta, extract_sitename, extract_title

from pipelines.extract.furniture import squash
from pipelines.extract.scripts import script_language

MetaKey = tuple[str, str]
# <meta> tags naming the publication and modification dates, the most trusted first.
PUBLISHED_META: tuple[MetaKey, ...] = (
    ("property", "article:published_time"),
    ("property", "og:article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "parsely-pub-date"),
    ("name", "sailthru.date"),
    ("name", "DC.date.issued"),
    ("name", "pubdate"),
    ("name", "publishdate"),
)
MODIFIED_META: tuple[MetaKey, ...] = (
    ("property", "article:modified_time"),
    ("property", "og:updated_time"),
    ("itemprop", "dateModified"),
)
_META_NAMES = ("property", "name", "itemprop")
_SITE_SEPARATORS = (" | ", " - ", " – ", " — ")


@dataclass(frozen=True)
class PageMetadata:
    """What the page says about itself; dates are raw strings, checked in dates.py."""

    title: str | None
    authors: tuple[str, ...]
    sitename: str | None
    canonical_url: str | None
    language: str | None
    published: tuple[tuple[str, str], ...]  # (jsonld | meta, value), most trusted first
    modified: tuple[str, ...]


def ld_blocks(tree: Any) -> list[Any]:
    """The page's JSON-LD blocks, each parsed once (unreadable ones left out)."""
    blocks = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            blocks.append(json.loads(script.text, strict=False))
        except ValueError:
            continue
    return blocks


def ld_nodes(blocks: list[Any]) -> list[dict[str, Any]]:
    """Every JSON object in the JSON-LD blocks, nested ones included."""
    nodes: list[dict[str, Any]] = []
    stack: list[Any] = list(reversed(blocks))
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            nodes.append(node)
            stack.extend(v for v in node.values() if isinstance(v, (list, dict)))
    return nodes


def ld_types(nodes: list[dict[str, Any]]) -> set[str]:
    """The schema.org @types the JSON-LD blocks declare."""
    types: set[str] = set()
    for node in nodes:
        kind = node.get("@type")
        types.update(kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else [])
    return types


def meta_index(tree: Any) -> dict[MetaKey, list[str]]:
    """The contents of the page's <meta> tags by (attribute, value), in page order."""
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


def first_meta(index: dict[MetaKey, list[str]], *keys: MetaKey) -> str | None:
    """The first non-blank content under the keys, tried in order."""
    for key in keys:
        for content in index.get(key, ()):
            if content.strip():
                return content.strip()
    return None


def _first_attribute(tree: Any, tag: str, attribute: str, **wanted: str) -> str | None:
    for element in tree.iter(tag):
        if all((element.get(k) or "").lower() == v for k, v in wanted.items()):
            value = (element.get(attribute) or "").strip()
            if value:
                return value
    return None


def strip_site_suffix(title: str | None, sitename: str | None) -> str | None:
    """Turn "Headline | ZDNet" into "Headline" when the suffix is the site's name."""
    if not title:
        return None
    if sitename:
        for sep in _SITE_SEPARATORS:
            head, found, tail = title.rpartition(sep)
            if found and head and squash(tail) == squash(sitename):
                return head.strip()
    return title


def _jsonld_dates(nodes: list[dict[str, Any]], key: str) -> list[str]:
    return [node[key] for node in nodes if isinstance(node.get(key), str)]


def _declared_language(tree: Any, index: dict[MetaKey, list[str]]) -> str | None:
    """<html lang>, else the declared content language or Open Graph locale."""
    root = tree.getroottree().getroot()
    declared = (
        root.get("lang")
        or root.get("{http://www.w3.org/XML/1998/namespace}lang")
        or first_meta(index, ("http-equiv", "content-language"), ("property", "og:locale"))
    )
    if not declared or not declared.strip():
        return None
    return re.split(r"[-_]", declared.strip())[0].lower() or None


# Enough of the story to tell its writing system from.
LANGUAGE_SAMPLE = 2000
# Han is written in Japanese as well as Chinese: a page declaring ja with little kana is ja.
_HAN_LANGUAGES = frozenset({"ja", "zh"})


def settle_language(declared: str | None, text: str) -> str | None:
    """The declared language, unless the text's writing system says otherwise.

    A template's default "en" over a Japanese story: the script settles it.
    """
    found = script_language(text[:LANGUAGE_SAMPLE])
    if found and found != declared and not (found == "zh" and declared in _HAN_LANGUAGES):
        return found
    return declared


def read_metadata(
    tree: Any, url: str, blocks: list[Any], nodes: list[dict[str, Any]]
) -> PageMetadata:
    """Read the page's own metadata (`language` as declared: see settle_language)."""
    index = meta_index(tree)
    document = examine_meta(tree)
    # A one-word "author" in <meta> is a site or desk name (trafilatura drops it too).
    if document.author and " " not in document.author.strip():
        document.author = None
    # trafilatura's JSON-LD reading, on the blocks parsed once (extract_meta_json parses
    # them again, after a regex pass over each: 0.03x of an extraction).
    for block in blocks:
        if isinstance(block, (dict, list)):
            document = extract_json(block, document)
    title = document.title or extract_title(tree)
    sitename = (document.sitename or extract_sitename(tree) or "").strip().lstrip("@") or None
    canonical = _first_attribute(tree, "link", "href", rel="canonical") or first_meta(
        index, ("property", "og:url")
    )
    published = [("jsonld", value) for value in _jsonld_dates(nodes, "datePublished")]
    published += [("meta", value) for key in PUBLISHED_META for value in index.get(key, ())]
    modified = _jsonld_dates(nodes, "dateModified")
    modified += [value for key in MODIFIED_META for value in index.get(key, ())]
    return PageMetadata(
        title=(title or "").strip() or None,
        authors=tuple(a for a in (document.author or "").split(";") if a.strip()),
        sitename=sitename,
        canonical_url=urljoin(url, canonical) if canonical else None,
        language=_declared_language(tree, index),
        published=tuple(published),
        modified=tuple(modified),
    )


_GENERIC_CREDIT_WORDS = frozenset({"news", "the", "daily", "online", "times", "post", "report"})


def names_the_site(credit: str, sitename: str | None, url: str) -> bool:
    """Tell whether an unknown dateline credit names the publishing site itself."""
    words = {w for w in re.findall(r"[a-z]+", credit.lower()) if w not in _GENERIC_CREDIT_WORDS}
    site = f"{sitename or ''} {urlsplit(url).hostname or ''}".lower()
    return bool(words) and any(word in site for word in words)
