"""Article links, with their dates, from RSS 2.0, RSS 1.0 (RDF) and Atom feeds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.discovery.safexml import child_text, children, local_name, parse_date, parse_xml


@dataclass(frozen=True)
class Link:
    """An article URL a feed or sitemap lists, and the date it gives (UTC) if any."""

    url: str
    date: datetime | None = None


@dataclass
class FeedParse:
    """What a feed yielded: its links in document order, and what was wrong with it."""

    links: list[Link] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def absolute_http_url(href: str | None, base_url: str) -> str | None:
    """Resolve a listed href against its document; None unless it is an http(s) URL."""
    if not href:
        return None
    url = urljoin(base_url, href.strip())
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _rss_link(item: Any) -> str | None:
    link = child_text(item, "link")
    if link:
        return link
    for guid in children(item, "guid"):
        # A guid is only a URL when it says so (the default is isPermaLink="true").
        if guid.get("isPermaLink", "true").lower() == "true":
            return "".join(guid.itertext()).strip() or None
    return None


def _atom_link(entry: Any) -> str | None:
    fallback = None
    for link in children(entry, "link"):
        rel = link.get("rel", "alternate")
        if rel == "alternate" and link.get("type", "text/html") in (
            "text/html",
            "application/xhtml+xml",
        ):
            return str(link.get("href"))
        if rel == "alternate" and fallback is None:
            fallback = link.get("href")
    return fallback


def parse_feed(body: bytes, base_url: str) -> FeedParse:
    """Return the article links of a feed; a malformed feed yields what parses, plus errors."""
    document = parse_xml(body)
    result = FeedParse(errors=list(document.errors))
    root = document.root
    if root is None:
        return result
    kind = local_name(root)
    find_link: Callable[[Any], str | None]
    date_names: tuple[str, ...]
    if kind == "feed":
        entries = children(root, "entry")
        find_link, date_names = _atom_link, ("published", "updated")
    elif kind in ("rss", "rdf"):
        channel = children(root, "channel")
        entries = children(root, "item") + [i for c in channel for i in children(c, "item")]
        find_link, date_names = _rss_link, ("pubdate", "date", "published", "updated")
    else:
        result.errors.append(f"not a feed: root element <{kind or root.tag}>")
        return result
    base = root.get("{http://www.w3.org/XML/1998/namespace}base") or base_url
    seen: set[str] = set()
    for entry in entries:
        url = absolute_http_url(find_link(entry), base)
        if url is None:
            result.errors.append(f"entry without an http(s) link: {child_text(entry, 'title')!r}")
            continue
        if url in seen:
            continue
        seen.add(url)
        result.links.append(Link(url, parse_date(child_text(entry, *date_names))))
    return result
