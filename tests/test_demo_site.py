"""The bundled demo wire site: routes, discovery documents, ground truth and sources.yaml."""

from __future__ import annotations

import gzip
import html
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest
import yaml
from lxml import etree  # type: ignore[import-untyped]
from lxml import html as lxml_html

from crawler.demo import DemoSite, start_demo_site
from crawler.demo.stories import StoryDataError, parse_stories
from crawler.demo.text import dateline, every_word_capitalised, headline_case, ordinal, slugify

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "atom": "http://www.w3.org/2005/Atom",
}
GZIP_MAGIC = b"\x1f\x8b"
USER_AGENT = "wirearchive"

Fetched = tuple[int, str | None, bytes]  # status, Content-Type, body
Bodies = dict[str, Fetched]


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    demo = start_demo_site()
    yield demo
    demo.stop()


@pytest.fixture(scope="module")
def bodies(site: DemoSite) -> Bodies:
    """Fetch every document of the site once: URL -> (status, Content-Type, body)."""
    return {document.url: fetch(document.url) for document in site.documents}


def fetch(url: str, headers: dict[str, str] | None = None) -> Fetched:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type"), err.read()


def page_urls(site: DemoSite, kind: str, outlet: str | None = None) -> list[str]:
    return [
        document.url
        for document in site.documents
        if document.kind == kind and (outlet is None or document.outlet == outlet)
    ]


def listed_urls(body: bytes) -> list[str]:
    """Return the URLs a feed or sitemap lists (Atom links, RSS links, sitemap locs)."""
    root = etree.fromstring(gzip.decompress(body) if body.startswith(GZIP_MAGIC) else body)
    urls: list[str] = (
        root.xpath("/rss/channel/item/link/text()")
        + root.xpath("/atom:feed/atom:entry/atom:link/@href", namespaces=NS)
        + root.xpath("//sm:loc/text()", namespaces=NS)
    )
    return urls


def visible_text(body: bytes) -> str:
    return " ".join(lxml_html.fromstring(body).text_content().split())


# --- routes ----------------------------------------------------------------------------


def test_each_outlet_has_its_own_netloc(site: DemoSite) -> None:
    netlocs = {urlsplit(server.base_url).netloc for server in site.servers.values()}
    assert len(site.servers) >= 3
    assert len(netlocs) == len(site.servers)
    assert set(site.servers) == {"wiredaily", "lahoreledger", "metroobserver"}


def test_every_route_answers_with_its_status_and_content_type(
    site: DemoSite, bodies: Bodies
) -> None:
    for document in site.documents:
        status, content_type, body = bodies[document.url]
        assert (status, content_type) == (document.status, document.content_type), document.url
        assert body, document.url


@pytest.mark.parametrize(
    ("outlet", "kind", "content_type"),
    [
        ("wiredaily", "article", "text/html; charset=utf-8"),
        ("metroobserver", "article", "text/html; charset=utf-8"),
        ("lahoreledger", "article", "text/html"),  # charset only in the page's meta tag
        ("wiredaily", "feed", "application/rss+xml; charset=utf-8"),
        ("metroobserver", "feed", "application/atom+xml; charset=utf-8"),
        ("wiredaily", "sitemap_index", "application/xml; charset=utf-8"),
        ("lahoreledger", "sitemap", "application/xml; charset=utf-8"),
        ("metroobserver", "robots", "text/plain; charset=utf-8"),
    ],
)
def test_content_types(
    site: DemoSite, bodies: Bodies, outlet: str, kind: str, content_type: str
) -> None:
    urls = page_urls(site, kind, outlet)
    assert urls
    assert {bodies[url][1] for url in urls} == {content_type}


def test_html_without_charset_declares_it_in_a_meta_tag(site: DemoSite, bodies: Bodies) -> None:
    for url in page_urls(site, "article", "lahoreledger"):
        body = bodies[url][2]
        assert b'content="text/html; charset=utf-8"' in body[:200]
        assert any(byte > 0x7F for byte in body)  # non-ASCII text makes detection matter


def test_gzipped_sitemap_decompresses(site: DemoSite, bodies: Bodies) -> None:
    gz_urls = [url for url in page_urls(site, "sitemap") if url.endswith(".xml.gz")]
    assert gz_urls
    for url in gz_urls:
        _, content_type, body = bodies[url]
        assert content_type in {"application/gzip", "application/x-gzip"}
        root = etree.fromstring(gzip.decompress(body))
        assert root.tag == f"{{{NS['sm']}}}urlset"


def test_feeds_and_sitemaps_list_only_urls_on_their_own_site(
    site: DemoSite, bodies: Bodies
) -> None:
    served = {url for url, (status, _, _) in bodies.items() if status == 200}
    for kind in ("feed", "sitemap", "sitemap_index"):
        for url in page_urls(site, kind):
            base = site.servers[next(d.outlet for d in site.documents if d.url == url)].base_url
            listed = listed_urls(bodies[url][2])
            assert listed, url
            for entry in listed:
                assert entry.startswith(base + "/"), entry  # absolute, on this outlet
                assert entry.split("?", 1)[0] in served, entry


def test_sitemap_index_points_at_a_gzipped_sitemap(site: DemoSite, bodies: Bodies) -> None:
    (index,) = page_urls(site, "sitemap_index")
    children = listed_urls(bodies[index][2])
    assert any(child.endswith(".xml.gz") for child in children)
    assert all(child in page_urls(site, "sitemap") for child in children)


def test_discovery_documents_carry_dates(site: DemoSite, bodies: Bodies) -> None:
    (rss,) = page_urls(site, "feed", "wiredaily")
    root = etree.fromstring(bodies[rss][2])
    assert root.get("version") == "2.0"
    items = root.xpath("/rss/channel/item")
    assert items and all(item.findtext("pubDate") for item in items)

    (atom,) = page_urls(site, "feed", "metroobserver")
    entries = etree.fromstring(bodies[atom][2]).xpath("//atom:entry", namespaces=NS)
    assert entries
    assert all(entry.xpath("atom:updated/text()", namespaces=NS) for entry in entries)

    (news,) = page_urls(site, "sitemap", "lahoreledger")
    dates = etree.fromstring(bodies[news][2]).xpath("//news:publication_date/text()", namespaces=NS)
    assert len(dates) == len([a for a in site.expected if a.outlet == "lahoreledger"])
    for value in dates:
        published = datetime.fromisoformat(value)
        assert published.utcoffset() is not None
        assert (published.year, published.month) == (2026, 11)


def test_feeds_answer_conditional_requests(site: DemoSite) -> None:
    for url in page_urls(site, "feed"):
        status, _, _ = fetch(url)
        assert status == 200
        request = urllib.request.Request(url)
        with urllib.request.urlopen(request, timeout=5) as response:
            etag = response.headers["ETag"]
        assert fetch(url, {"If-None-Match": etag})[0] == 304
        assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200


def test_robots_allows_the_crawl(site: DemoSite, bodies: Bodies) -> None:
    for name, source in site.sources.items():
        robots_url = source.base_url + "/robots.txt"
        parser = RobotFileParser(robots_url)
        parser.parse(bodies[robots_url][2].decode("utf-8").splitlines())
        wanted = [
            *source.feeds,
            *source.sitemaps,
            *source.start_urls,
            *(article.url for article in site.expected if article.outlet == name),
        ]
        assert all(parser.can_fetch(USER_AGENT, url) for url in wanted), name
        sitemaps = parser.site_maps() or []
        assert sitemaps and set(sitemaps) <= set(page_urls(site, "sitemap", name)) | set(
            page_urls(site, "sitemap_index", name)
        )


# --- ground truth ----------------------------------------------------------------------


def test_ground_truth_counts(site: DemoSite) -> None:
    assert len(site.expected) >= 30
    assert len({article.story_id for article in site.expected}) >= 30
    assert len({article.url for article in site.expected}) == len(site.expected)
    assert len({article.outlet for article in site.expected}) >= 3
    syndicated = site.syndicated()
    assert len(syndicated) >= 6
    assert any(len({a.outlet for a in copies}) == 3 for copies in syndicated.values())
    assert {a.agency for a in site.expected} >= {
        "AP", "Reuters", "AFP", "Xinhua", "APP", "Sputnik", "Bloomberg", None,
    }  # fmt: skip


def test_article_lengths_are_wire_like(site: DemoSite) -> None:
    for article in site.expected:
        assert 4 <= len(article.paragraphs) <= 9, article.url


def test_syndicated_copies_are_near_not_exact(site: DemoSite) -> None:
    for copies in site.syndicated().values():
        first, *others = copies
        assert first.first_edition and not any(copy.first_edition for copy in others)
        for copy in others:
            assert copy.edits, copy.url
            assert copy.text != first.text or copy.title != first.title, copy.url
            shared = set(copy.paragraphs) & set(first.paragraphs)
            assert len(shared) >= 2, copy.url  # still recognisably the same story


def test_hard_negatives_share_text_but_not_a_story(site: DemoSite) -> None:
    assert {negative.kind for negative in site.hard_negatives} >= {
        "follow_up", "shared_boilerplate", "same_event",
    }  # fmt: skip
    stories = site.stories()
    for negative in site.hard_negatives:
        first, second = negative.story_ids
        assert first != second and first in stories and second in stories
        for paragraph in negative.shared_paragraphs:
            assert any(paragraph in article.text for article in stories[first])
            assert any(paragraph in article.text for article in stories[second])


def test_staff_stories_have_no_agency(site: DemoSite) -> None:
    staff = [article for article in site.expected if not article.is_wire_copy]
    assert len(staff) >= 2
    assert all(article.agency is None for article in staff)
    assert any(article.dateline_text is None for article in staff)


# --- article pages ---------------------------------------------------------------------


def test_article_pages_carry_their_dateline_and_text(site: DemoSite, bodies: Bodies) -> None:
    for article in site.expected:
        text = visible_text(bodies[article.url][2])
        if article.dateline_text is not None:
            assert html.unescape(article.dateline_text) in text, article.url
            assert article.paragraphs[0].startswith(article.dateline_text)
        for paragraph in article.paragraphs:
            assert " ".join(paragraph.split()) in text, (article.url, paragraph[:40])


def test_article_pages_carry_metadata(site: DemoSite, bodies: Bodies) -> None:
    for article in site.expected:
        tree = lxml_html.fromstring(bodies[article.url][2])
        assert tree.xpath("string(//h1)").strip() == article.title
        assert article.title in tree.xpath("string(//title)")
        assert tree.xpath("//link[@rel='canonical']/@href") == [article.url]
        assert tree.xpath("//meta[@property='og:url']/@content") == [article.url]
        assert tree.xpath("//meta[@property='og:site_name']/@content") == [article.site_name]
        assert tree.xpath("//nav") and tree.xpath("//footer")
        (script,) = tree.xpath("//script[@type='application/ld+json']/text()")
        data = json.loads(script)
        assert data["@type"] == "NewsArticle"
        assert data["headline"] == article.title
        assert data["datePublished"] == article.published
        published = datetime.fromisoformat(data["datePublished"])
        assert published.utcoffset() is not None and (published.year, published.month) == (
            2026,
            11,
        )
        assert data["author"] and data["publisher"]["name"] == article.site_name


def test_republisher_pages_have_banner_byline_and_repeated_headline(
    site: DemoSite, bodies: Bodies
) -> None:
    ledger = [article for article in site.expected if article.outlet == "lahoreledger"]
    assert ledger
    for article in ledger:
        text = visible_text(bodies[article.url][2])
        assert re.search(r"date 2026-11-\d\d LedgerNews\.com", text)
        assert re.search(
            r"\(@\w+\) (\d+ (seconds?|minutes?|hours?|days?) ago) "
            r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+(st|nd|rd|th) November 2026 \| \d+:\d\d [AP]M",
            text,
        ), article.url
        assert text.lower().count(article.title.lower()) >= 2  # headline printed twice


def test_regional_pages_have_their_furniture(site: DemoSite, bodies: Bodies) -> None:
    for article in (a for a in site.expected if a.outlet == "metroobserver"):
        tree = lxml_html.fromstring(bodies[article.url][2])
        for box in ("cookie-banner", "share-bar", "newsletter-signup", "comment-count"):
            assert tree.xpath(f"//*[contains(@class, '{box}')]"), (article.url, box)
        if len(article.paragraphs) >= 4:
            assert tree.xpath("//*[contains(@class, 'related-links')]//a")


def test_reject_pages(site: DemoSite, bodies: Bodies) -> None:
    reasons = {reject.reason: reject for reject in site.rejects}
    assert set(reasons) == {"http_404", "video_only"}
    for reject in site.rejects:
        status, content_type, _ = bodies[reject.url]
        assert status == reject.status
        assert content_type and content_type.startswith("text/html")
        listing = site.sources[reject.outlet].start_urls[0]
        hrefs = lxml_html.fromstring(bodies[listing][2]).xpath("//a/@href")
        assert urlsplit(reject.url).path in hrefs
    video = lxml_html.fromstring(bodies[reasons["video_only"].url][2])
    assert video.xpath("//video")
    assert not [p for p in video.xpath("//p/text()") if len(p.split()) > 10]


# --- sources.yaml ----------------------------------------------------------------------


def _non_article_links(site: DemoSite, bodies: Bodies, outlet: str) -> set[str]:
    articles = {a.url for a in site.expected} | {r.url for r in site.rejects}
    links = set()
    for url in page_urls(site, "listing", outlet) + page_urls(site, "page", outlet):
        for href in lxml_html.fromstring(bodies[url][2]).xpath("//a/@href"):
            links.add(urljoin(url, href))
    for url in page_urls(site, "sitemap", outlet):
        links.update(listed_urls(bodies[url][2]))
    links.update(d.url for d in site.documents if d.outlet == outlet and d.kind != "article")
    base = site.servers[outlet].base_url
    return {link for link in links if link.startswith(base) and link not in articles}


def test_sources_yaml(site: DemoSite, bodies: Bodies) -> None:
    config = yaml.safe_load(site.sources_yaml("/tmp/demo-archive"))
    assert config["allow_private_addresses"] is True
    assert config["archive"] == "/tmp/demo-archive"
    assert [source["name"] for source in config["sources"]] == list(site.servers)
    for source in config["sources"]:
        name = source["name"]
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name)
        assert set(source) <= {"name", "feeds", "sitemaps", "start_urls", "allow", "deny"}
        assert source.get("feeds") or source.get("sitemaps") or source.get("start_urls")
        patterns = [re.compile(pattern) for pattern in source["allow"]]

        def allowed(url: str, patterns: list[re.Pattern[str]] = patterns) -> bool:
            return any(pattern.search(url) for pattern in patterns)

        own = [a.url for a in site.expected if a.outlet == name]
        own += [r.url for r in site.rejects if r.outlet == name]
        assert own and all(allowed(url) for url in own), name
        for url in source.get("feeds", []):
            assert all(allowed(link) for link in listed_urls(bodies[url][2])), url
        others = [a.url for a in site.expected if a.outlet != name]
        assert not any(allowed(url) for url in others), name
        non_articles = _non_article_links(site, bodies, name)
        assert len(non_articles) >= 10, name
        assert not [url for url in non_articles if allowed(url)], name


def test_sources_yaml_lists_what_each_outlet_offers(site: DemoSite) -> None:
    config = yaml.safe_load(site.sources_yaml())
    by_name = {source["name"]: source for source in config["sources"]}
    for name, source in site.sources.items():
        for key in ("feeds", "sitemaps", "start_urls"):
            assert by_name[name].get(key, []) == list(getattr(source, key))
    assert config["archive"] == "./archive"


# --- the pure rules and the data file --------------------------------------------------


@pytest.mark.parametrize(
    ("agency", "place", "house", "expected"),
    [
        (
            "Sputnik",
            "MOSCOW",
            "UrduPoint News",
            "MOSCOW (UrduPoint News / Sputnik - 20th November, 2026)",
        ),
        ("Sputnik", "MOSCOW", None, "MOSCOW, November 20 (Sputnik) -"),
        ("AP", "WASHINGTON", None, "WASHINGTON (AP) —"),
        ("AP", "HAYWARD, Calif.", None, "HAYWARD, Calif. (AP) —"),
        ("APP", "ISLAMABAD", "Ledger News", "ISLAMABAD, Nov 20 (APP):"),
        ("Xinhua", "BEIJING", None, "BEIJING, Nov. 20 (Xinhua) --"),
        ("Reuters", "NEW YORK", None, "NEW YORK (Reuters) -"),
        ("AFP", "PARIS", None, "PARIS (AFP) -"),
        ("Bloomberg", None, None, "(Bloomberg) --"),
        ("Bloomberg", "TOKYO", None, "TOKYO (Bloomberg) --"),
        (None, "LAHORE", "Ledger News", "LAHORE, (Ledger News - 20th Nov, 2026) :"),
        (None, "RIVERTON", None, "RIVERTON —"),
        (None, None, None, None),
    ],
)
def test_dateline_forms(
    agency: str | None, place: str | None, house: str | None, expected: str | None
) -> None:
    assert dateline(agency, place, date(2026, 11, 20), house) == expected


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (ordinal, 1, "1st"),
        (ordinal, 2, "2nd"),
        (ordinal, 11, "11th"),
        (ordinal, 22, "22nd"),
        (ordinal, 23, "23rd"),
        (every_word_capitalised, "kenya's rail sees rise", "Kenya's Rail Sees Rise"),
        (headline_case, "Moscow In Daily Contact Over Idlib", "Moscow in Daily Contact Over Idlib"),
        (slugify, "Wall Street ends higher, 0.6%", "wall-street-ends-higher-0-6"),
    ],
)
def test_text_rules(function: Callable[[Any], str], value: object, expected: str) -> None:
    assert function(value) == expected


STORY = """
stories:
  - id: one
    agency: AP
    place: WASHINGTON
    published: "2026-11-20T10:00:00+00:00"
    section: us
    headline: A headline
    paragraphs: [a, b, c, d, e]
    editions:
      - {outlet: %s, drop_last: %d}
"""


@pytest.mark.parametrize(
    ("outlet", "drop_last", "message"),
    [
        ("nowhere", 0, "unknown outlet"),
        ("wiredaily", 2, "3 paragraphs"),
    ],
)
def test_bad_story_data_is_named(outlet: str, drop_last: int, message: str) -> None:
    with pytest.raises(StoryDataError, match=message):
        parse_stories(STORY % (outlet, drop_last))


def test_story_data_rejects_unknown_keys() -> None:
    with pytest.raises(StoryDataError, match="colour"):
        parse_stories(
            STORY.replace("section: us", "section: us\n    colour: red") % ("wiredaily", 0)
        )
