"""Pages and child sitemaps, with their dates, from sitemaps, indexes and news sitemaps."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from crawler.discovery.feeds import Link, absolute_http_url
from crawler.discovery.safexml import (
    XmlStream,
    child_text,
    children,
    iter_entries,
    local_name,
    parse_date,
)

GZIP_MAGIC = b"\x1f\x8b"


class BodyTooLarge(ValueError):
    """A compressed sitemap that inflates past the page-size limit (a gzip bomb, or just huge)."""


@dataclass
class SitemapParse:
    """What a sitemap yielded: article pages, child sitemaps, and what was wrong with it."""

    pages: list[Link] = field(default_factory=list)
    sitemaps: list[Link] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def gunzip_bounded(body: bytes, max_size: int) -> bytes:
    """Inflate a gzipped body (others pass through), refusing to grow past ``max_size`` bytes."""
    if not body.startswith(GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    limit = max_size if max_size > 0 else 0
    try:
        data = inflater.decompress(body, limit + 1 if limit else 0)
    except zlib.error as err:
        raise BodyTooLarge(f"corrupt gzip data: {err}") from None
    if limit and len(data) > limit:
        raise BodyTooLarge(f"inflates past {limit} bytes; raise DOWNLOAD_MAXSIZE to read it")
    return data


def _date(entry: Any) -> str | None:
    # A news sitemap's publication date says when the story appeared; lastmod may be a
    # later edit, so it only serves when there is nothing better.
    for news in children(entry, "news"):
        published = child_text(news, "publication_date")
        if published:
            return published
    return child_text(entry, "lastmod")


def parse_sitemap(body: bytes, base_url: str) -> SitemapParse:
    """Return the pages of a urlset, or the child sitemaps of an index, with their dates.

    The document is read as a stream (see ``iter_entries``): memory grows with the links
    found, not with the size of the XML tree.
    """
    result = SitemapParse()
    stream = XmlStream()
    seen: set[str] = set()
    for entry in iter_entries(body, stream):
        kind = stream.root_name
        if kind == "urlset":
            wanted, target = "url", result.pages
        elif kind == "sitemapindex":
            wanted, target = "sitemap", result.sitemaps
        else:
            break
        if local_name(entry) != wanted:
            continue
        loc = child_text(entry, "loc")
        url = absolute_http_url(loc, base_url)
        if url is None:
            result.errors.append(f"entry without an http(s) <loc>: {loc!r}")
            continue
        if url not in seen:
            seen.add(url)
            target.append(Link(url, parse_date(_date(entry))))
    kind = stream.root_name
    errors = list(stream.errors)
    if kind is not None and kind not in ("urlset", "sitemapindex"):
        errors.append(f"not a sitemap: root element <{kind}>")
    result.errors = errors + result.errors
    return result
