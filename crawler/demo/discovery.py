"""Discovery documents of the demo site: RSS, Atom, sitemaps, robots.txt, with conditional GET."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from crawler.demo.loopback import Resource, Route

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
GZIP_TYPE = "application/x-gzip"
ROBOTS_TYPE = "text/plain; charset=utf-8"
NOT_MODIFIED = 304

for _prefix, _uri in (("atom", ATOM_NS), ("dc", DC_NS), ("news", NEWS_NS)):
    ET.register_namespace(_prefix, _uri)
ET.register_namespace("", SITEMAP_NS)


@dataclass(frozen=True, slots=True)
class Entry:
    """One article as a feed or sitemap lists it."""

    url: str
    title: str
    published: datetime
    summary: str = ""
    authors: tuple[str, ...] = ()
    category: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    element.text = text
    return element


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def rss(title: str, link: str, self_url: str, description: str, entries: Sequence[Entry]) -> bytes:
    """Return an RSS 2.0 feed with a pubDate on every item."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", link)
    _sub(channel, "description", description)
    _sub(channel, "language", "en-us")
    _sub(channel, "lastBuildDate", format_datetime(max(entry.published for entry in entries)))
    _sub(channel, "ttl", "15")
    _sub(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/rss+xml")
    for entry in entries:
        item = _sub(channel, "item")
        _sub(item, "title", entry.title)
        _sub(item, "link", entry.url)
        _sub(item, "guid", entry.url, isPermaLink="true")
        _sub(item, "pubDate", format_datetime(entry.published))
        _sub(item, "description", entry.summary)
        _sub(item, "category", entry.category)
        for author in entry.authors:
            _sub(item, f"{{{DC_NS}}}creator", author)
    return _serialise(root)


def atom(
    title: str, feed_id: str, link: str, self_url: str, entries: Sequence[Entry], *, tracking: str
) -> bytes:
    """Return an Atom feed; entry links carry the ``tracking`` query, as many CMSs add."""
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(root, f"{{{ATOM_NS}}}title", title)
    _sub(root, f"{{{ATOM_NS}}}id", feed_id)
    _sub(root, f"{{{ATOM_NS}}}link", href=link, rel="alternate", type="text/html")
    _sub(root, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/atom+xml")
    updated = max(entry.published for entry in entries)
    _sub(root, f"{{{ATOM_NS}}}updated", updated.isoformat())
    for entry in entries:
        element = _sub(root, f"{{{ATOM_NS}}}entry")
        _sub(element, f"{{{ATOM_NS}}}title", entry.title)
        _sub(element, f"{{{ATOM_NS}}}link", href=f"{entry.url}?{tracking}", rel="alternate")
        _sub(element, f"{{{ATOM_NS}}}id", entry.url)
        _sub(element, f"{{{ATOM_NS}}}published", entry.published.isoformat())
        _sub(element, f"{{{ATOM_NS}}}updated", entry.published.isoformat())
        for name in entry.authors:
            author = _sub(element, f"{{{ATOM_NS}}}author")
            _sub(author, f"{{{ATOM_NS}}}name", name)
        _sub(element, f"{{{ATOM_NS}}}category", term=entry.category)
        _sub(element, f"{{{ATOM_NS}}}summary", entry.summary, type="text")
    return _serialise(root)


def urlset(pages: Sequence[tuple[str, datetime | None]]) -> bytes:
    """Return a plain sitemap: each URL with its lastmod when known."""
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for url, lastmod in pages:
        element = _sub(root, f"{{{SITEMAP_NS}}}url")
        _sub(element, f"{{{SITEMAP_NS}}}loc", url)
        if lastmod is not None:
            _sub(element, f"{{{SITEMAP_NS}}}lastmod", lastmod.isoformat())
    return _serialise(root)


def news_sitemap(publication: str, entries: Sequence[Entry]) -> bytes:
    """Return a Google News sitemap: publication, publication_date and title per article."""
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for entry in entries:
        element = _sub(root, f"{{{SITEMAP_NS}}}url")
        _sub(element, f"{{{SITEMAP_NS}}}loc", entry.url)
        news = _sub(element, f"{{{NEWS_NS}}}news")
        source = _sub(news, f"{{{NEWS_NS}}}publication")
        _sub(source, f"{{{NEWS_NS}}}name", publication)
        _sub(source, f"{{{NEWS_NS}}}language", "en")
        _sub(news, f"{{{NEWS_NS}}}publication_date", entry.published.isoformat())
        _sub(news, f"{{{NEWS_NS}}}title", entry.title)
        if entry.keywords:
            _sub(news, f"{{{NEWS_NS}}}keywords", ", ".join(entry.keywords))
    return _serialise(root)


def sitemap_index(children: Sequence[tuple[str, datetime]]) -> bytes:
    """Return a sitemap index pointing at child sitemaps."""
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for url, lastmod in children:
        element = _sub(root, f"{{{SITEMAP_NS}}}sitemap")
        _sub(element, f"{{{SITEMAP_NS}}}loc", url)
        _sub(element, f"{{{SITEMAP_NS}}}lastmod", lastmod.isoformat())
    return _serialise(root)


def robots(groups: Mapping[str, Sequence[str]], sitemaps: Sequence[str]) -> bytes:
    """Return a robots.txt: user agent groups with their Disallow lines, then Sitemap lines."""
    lines = []
    for agent, disallowed in groups.items():
        lines.append(f"User-agent: {agent}")
        lines.extend(f"Disallow: {path}" for path in disallowed)
        lines.append("")
    lines.extend(f"Sitemap: {url}" for url in sitemaps)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def conditional(body: bytes, content_type: str, last_modified: datetime) -> Route:
    """Serve ``body`` with an ETag and Last-Modified, answering 304 to a matching request."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True),
    }
    full = Resource(body, content_type, headers=headers)
    not_modified = Resource(b"", None, status=NOT_MODIFIED, headers=headers)

    def route(_path: str, request_headers: Mapping[str, str]) -> Resource:
        if _header(request_headers, "If-None-Match") == etag:
            return not_modified
        if _header(request_headers, "If-Modified-Since") == headers["Last-Modified"]:
            return not_modified
        return full

    return route
