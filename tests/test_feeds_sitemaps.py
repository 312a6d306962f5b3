"""Feeds and sitemaps: links with their dates; malformed or hostile XML never crashes."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.discovery.feeds import Link, parse_feed
from crawler.discovery.safexml import parse_date
from crawler.discovery.sitemaps import BodyTooLarge, gunzip_bounded, parse_sitemap

BASE = "https://example.org/rss/world.xml"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>World</title>
<item><title>One</title><link>https://example.org/world/one.html</link>
  <pubDate>Thu, 20 Feb 2020 23:00:00 +0500</pubDate></item>
<item><title>Two</title><guid isPermaLink="true">/world/two.html</guid>
  <dc:date>2020-02-21</dc:date></item>
<item><title>Guid only</title><guid isPermaLink="false">tag:example.org,2020:3</guid></item>
<item><title>One again</title><link>https://example.org/world/one.html</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>
<entry><title>A</title><link rel="self" href="https://example.org/api/a"/>
  <link rel="alternate" type="text/html" href="https://example.org/a.html?utm_source=feed"/>
  <updated>2020-02-20T18:00:00Z</updated><published>2020-02-20T17:00:00Z</published></entry>
<entry><title>B</title><link href="b.html"/><updated>2020-02-21T10:00:00+02:00</updated></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.org/"><title>x</title></channel>
<item rdf:about="https://example.org/r1"><title>R1</title><link>https://example.org/r1</link>
<dc:date>2020-02-20T12:00:00Z</dc:date></item></rdf:RDF>"""


@pytest.mark.parametrize(
    ("body", "links"),
    [
        (
            RSS,
            [
                Link("https://example.org/world/one.html", at(2020, 2, 20, 18)),
                Link("https://example.org/world/two.html", at(2020, 2, 21)),
            ],
        ),
        (
            ATOM,
            [
                Link("https://example.org/a.html?utm_source=feed", at(2020, 2, 20, 17)),
                Link("https://example.org/rss/b.html", at(2020, 2, 21, 8)),
            ],
        ),
        (RDF, [Link("https://example.org/r1", at(2020, 2, 20, 12))]),
    ],
)
def test_feed_links_and_dates(body: bytes, links: list[Link]) -> None:
    assert parse_feed(body, BASE).links == links


def test_rss_guid_that_is_not_a_url_is_an_error_not_a_link() -> None:
    parsed = parse_feed(RSS, BASE)
    assert parsed.errors == ["entry without an http(s) link: 'Guid only'"]


TRUNCATED = RSS[: RSS.index(b"<item><title>Guid only")] + b"<item><title>Cut"


@pytest.mark.parametrize(
    ("body", "expected_links", "error"),
    [
        (TRUNCATED, 2, "line"),
        (b"", 0, "empty document"),
        (b"<html><body>Not found</body></html>", 0, "not a feed: root element <html>"),
        (b"\x00\x01garbage", 0, ""),
        (RSS.replace(b"<title>Two</title>", b"<title>Two & more</title>"), 2, "line"),
    ],
)
def test_malformed_feed_yields_what_parses_and_an_error(
    body: bytes, expected_links: int, error: str
) -> None:
    parsed = parse_feed(body, BASE)
    assert len(parsed.links) == expected_links
    assert parsed.errors
    assert error in parsed.errors[0]


def test_entities_are_never_expanded_and_external_ones_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}'
        f'<!ENTITY xxe SYSTEM "file://{secret}">]>'
        "<rss><channel><item><title>&l8;&xxe;</title>"
        "<link>https://example.org/&xxe;x.html</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, BASE)
    assert all("TOPSECRET" not in link.url and "lol" not in link.url for link in parsed.links)


SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://example.org/world/one.html</loc><lastmod>2020-02-22</lastmod>
 <news:news><news:publication><news:name>X</news:name><news:language>en</news:language>
 </news:publication><news:publication_date>2020-02-20T23:00:00+05:00</news:publication_date>
 <news:title>One</news:title></news:news></url>
<url><loc> https://example.org/world/two.html </loc><lastmod>2020-02-21T10:00Z</lastmod></url>
<url><loc>https://example.org/world/three.html</loc></url>
<url><loc>mailto:desk@example.org</loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>/sitemap-2020-02.xml.gz</loc><lastmod>2020-02-29</lastmod></sitemap>
<sitemap><loc>https://example.org/sitemap-news.xml</loc></sitemap></sitemapindex>"""


def test_news_sitemap_prefers_publication_date_over_lastmod() -> None:
    parsed = parse_sitemap(SITEMAP, "https://example.org/sitemap.xml")
    assert parsed.pages == [
        Link("https://example.org/world/one.html", at(2020, 2, 20, 18)),
        Link("https://example.org/world/two.html", at(2020, 2, 21, 10)),
        Link("https://example.org/world/three.html", None),
    ]
    assert parsed.sitemaps == []
    assert parsed.errors == ["entry without an http(s) <loc>: 'mailto:desk@example.org'"]


def test_sitemap_index_lists_child_sitemaps() -> None:
    parsed = parse_sitemap(INDEX, "https://example.org/sitemap.xml")
    assert parsed.sitemaps == [
        Link("https://example.org/sitemap-2020-02.xml.gz", at(2020, 2, 29)),
        Link("https://example.org/sitemap-news.xml", None),
    ]
    assert parsed.pages == []


def test_malformed_sitemap_yields_what_parses() -> None:
    cut = SITEMAP[: SITEMAP.index(b"<url><loc>https://example.org/world/three")] + b"<url><loc>htt"
    parsed = parse_sitemap(cut, "https://example.org/sitemap.xml")
    assert [link.url for link in parsed.pages][:2] == [
        "https://example.org/world/one.html",
        "https://example.org/world/two.html",
    ]
    assert parsed.errors


def test_gzip_is_inflated_within_the_size_limit() -> None:
    packed = gzip.compress(SITEMAP)
    assert gunzip_bounded(packed, 10_000) == SITEMAP
    assert gunzip_bounded(SITEMAP, 10) == SITEMAP  # plain bodies pass through
    bomb = gzip.compress(b"\0" * 5_000_000)
    with pytest.raises(BodyTooLarge, match="inflates past 1000000 bytes"):
        gunzip_bounded(bomb, 1_000_000)
    with pytest.raises(BodyTooLarge, match="corrupt gzip"):
        gunzip_bounded(packed[:10] + b"xxxxxxxxxxxxxxxx", 10_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-02-20", at(2020, 2, 20)),
        ("2020-02-20T23:00:00+05:00", at(2020, 2, 20, 18)),
        ("2020-02-20T23:00:00Z", at(2020, 2, 20, 23)),
        ("2020-02-20T23:00", at(2020, 2, 20, 23)),
        ("Thu, 20 Feb 2020 23:00:00 GMT", at(2020, 2, 20, 23)),
        ("Thu, 20 Feb 2020 23:00:00 -0500", at(2020, 2, 21, 4)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_dates(text: str | None, expected: datetime | None) -> None:
    assert parse_date(text) == expected
