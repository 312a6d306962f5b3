"""Wire Daily: a news-agency-style site carrying the big wires; RSS and a gzipped sitemap."""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from crawler.demo import discovery
from crawler.demo.model import DemoReject, DemoSource
from crawler.demo.outlets.outlet import (
    AGENCY_NAMES,
    NOT_FOUND,
    SLUG_WORDS,
    Outlet,
    OutletBuild,
    Placement,
    by_section,
    esc,
    link_list,
    newest_first,
    template,
    text_node,
)
from crawler.demo.text import MONTHS, clock, slugify


class WireDaily(Outlet):
    """A wire-agency-style news site: sober layout, agency bylines, RSS and sitemap index."""

    name = "wiredaily"
    site_name = "Wire Daily"
    utc_offset_hours = 0
    listing_path = "/latest/"
    allow = (r"/(?:world|us|business|science|sport|health)/\d{4}/\d{2}/\d{2}/[a-z0-9-]+\.html$",)
    section_labels: ClassVar[Mapping[str, str]] = {
        "world": "World",
        "us": "U.S.",
        "business": "Business",
        "science": "Science",
        "sport": "Sport",
        "health": "Health",
    }
    feed_path = "/rss/latest.xml"
    index_path = "/sitemap_index.xml"
    articles_sitemap_path = "/sitemaps/articles-2026-11.xml.gz"
    sections_sitemap_path = "/sitemaps/sections.xml"
    static_pages: ClassVar[Mapping[str, tuple[str, str]]] = {
        "/about.html": (
            "About Wire Daily",
            "<p>Wire Daily publishes the day's news from the world's news agencies, "
            "around the clock.</p>",
        ),
        "/contact.html": ("Contact", "<p>Newsroom: desk@wiredaily.example</p>"),
        "/terms.html": ("Terms of Use", "<p>Material on this site is licensed from agencies.</p>"),
        "/privacy.html": ("Privacy", "<p>We keep server logs for 30 days.</p>"),
        "/login": ("Sign in", '<form method="post" action="/login"><input name="email"></form>'),
    }
    missing_path = "/world/2026/11/19/ministers-meet-in-vienna-on-danube-shipping.html"
    missing_title = "Ministers meet in Vienna on Danube shipping"

    def section(self, story_section: str) -> str:
        """Map Pakistan stories to World and local ones to U.S.; keep the rest."""
        return {"pakistan": "world", "local": "us"}.get(story_section, story_section)

    def article_path(self, title: str, section: str, published: datetime, serial: int) -> str:
        """Return ``/world/2026/11/20/slug.html``."""
        slug = slugify(title, max_words=SLUG_WORDS)
        return f"/{section}/{published:%Y/%m/%d}/{slug}.html"

    def _byline(self, page: Placement) -> str:
        agency = page.story.agency
        credit = f'<span class="agency">{esc(AGENCY_NAMES[agency])}</span>' if agency else ""
        if not page.authors:
            return credit
        names = page.authors
        if agency == "AP":  # AP prints its bylines in capitals
            names = tuple(name.upper() for name in names)
        people = " and ".join(f'<span class="author">{esc(name)}</span>' for name in names)
        return f"By {people} {credit}".strip()

    def _tag(self, page: Placement) -> tuple[str, str]:
        agency = page.story.agency or "Wire Daily"
        return f"/tags/{slugify(agency)}/", agency

    def render_article(self, page: Placement, others: Sequence[Placement]) -> str:
        """Return a Wire Daily article page."""
        body = []
        for index, paragraph in enumerate(page.paragraphs):
            text = text_node(paragraph)
            if index == 0 and page.dateline_text:
                text = f'<span class="dateline">{esc(page.dateline_text)}</span> {text}'
            body.append(f"    <p>{text}</p>")
        when = page.published
        tag_href, tag_label = self._tag(page)
        section_label = self.section_labels[page.section]
        most_read = [(other.path, other.title) for other in self._others(others, page, 5)]
        return template(self.name, "article.html").substitute(
            page_title=esc(f"{page.title} - Wire Daily"),
            description=esc(page.summary),
            author_meta=esc(
                ", ".join(page.authors) or AGENCY_NAMES.get(page.story.agency or "", "")
            ),
            url=esc(page.url),
            headline=esc(page.title),
            published=when.isoformat(),
            section=page.section,
            section_label=esc(section_label),
            jsonld=self.jsonld(page),
            byline=self._byline(page),
            time_label=f"{clock(when)} GMT, {MONTHS[when.month - 1]} {when.day}, {when.year}",
            body="\n".join(body),
            tags=(
                f'<a href="{tag_href}">{esc(tag_label)}</a> '
                f'<a href="/{page.section}/">{esc(section_label)}</a>'
            ),
            most_read="\n".join(link_list(most_read)),
        )

    def listing_item(self, page: Placement) -> str:
        """Return a headline, credit, time and summary."""
        credit = page.story.agency or "Wire Daily"
        return (
            f'    <li class="story-item"><a href="{page.path}">{esc(page.title)}</a>'
            f' <span class="meta">{esc(credit)} &middot; {clock(page.published)} GMT</span>'
            f'\n      <p class="summary">{esc(page.summary)}</p></li>'
        )

    def _topics(self, pages: Sequence[Placement]) -> list[str]:
        tags = sorted({self._tag(page) for page in pages})
        return link_list(tags, indent="      ")

    def build(self, pages: Sequence[Placement]) -> OutletBuild:
        """Serve articles, /latest/ (with a dead link), sections, tags, RSS and sitemaps."""
        build = OutletBuild()
        self._serve_articles(build, pages)
        newest = newest_first(pages)
        items = [self.listing_item(page) for page in newest]
        # A story the desk pulled: still linked from the listing, gone from the site.
        items.insert(
            2,
            f'    <li class="story-item"><a href="{self.missing_path}">{self.missing_title}</a>'
            ' <span class="meta">Reuters &middot; 9:12 AM GMT</span></li>',
        )
        topics = self._topics(pages)
        for path, heading in (("/", "Wire Daily"), (self.listing_path, "Latest news")):
            listing = self.render_listing(path, heading, items, topics)
            self._serve_html(build, path, "listing", listing)
        for section, label in self.section_labels.items():
            section_items = [self.listing_item(page) for page in by_section(newest, section)]
            listing = self.render_listing(f"/{section}/", label, section_items, topics)
            self._serve_html(build, f"/{section}/", "page", listing)
        for tag_path, tag_label in sorted({self._tag(page) for page in pages}):
            tagged = [self.listing_item(page) for page in newest if self._tag(page)[0] == tag_path]
            listing = self.render_listing(tag_path, f"Stories from {tag_label}", tagged, topics)
            self._serve_html(build, tag_path, "page", listing)
        for path, (heading, content) in self.static_pages.items():
            self._serve_html(build, path, "page", self.render_page(path, heading, content))
        gone = self.render_page(
            self.missing_path,
            "Page not found",
            "<p>The page you requested has moved or no longer exists. "
            '<a href="/latest/">See the latest news</a>.</p>',
        )
        self._serve_html(build, self.missing_path, "reject", gone, status=NOT_FOUND)
        build.rejects.append(
            DemoReject(self.name, self.url(self.missing_path), NOT_FOUND, "http_404")
        )
        self._serve_discovery(build, pages, newest)
        return build

    def _serve_discovery(
        self, build: OutletBuild, pages: Sequence[Placement], newest: Sequence[Placement]
    ) -> None:
        feed = discovery.rss(
            "Wire Daily - Latest",
            self.url(self.listing_path),
            self.url(self.feed_path),
            "The latest stories from the world's news agencies.",
            [page.entry() for page in newest],
        )
        self._serve_xml(build, self.feed_path, "feed", feed, discovery.RSS_TYPE, pages=pages)
        articles = discovery.urlset([(page.url, page.published) for page in newest])
        gz = gzip.compress(articles, mtime=0)
        self._serve_xml(
            build, self.articles_sitemap_path, "sitemap", gz, discovery.GZIP_TYPE, pages=pages
        )
        sections = discovery.urlset(
            [(self.url(f"/{section}/"), None) for section in self.section_labels]
            + [(self.url(path), None) for path in ("/about.html", "/contact.html")]
        )
        self._serve_xml(
            build, self.sections_sitemap_path, "sitemap", sections, discovery.XML_TYPE, pages=pages
        )
        last = newest[0].published
        index = discovery.sitemap_index(
            [
                (self.url(self.articles_sitemap_path), last),
                (self.url(self.sections_sitemap_path), last),
            ]
        )
        self._serve_xml(
            build, self.index_path, "sitemap_index", index, discovery.XML_TYPE, pages=pages
        )
        self._serve_robots(build, {"*": ["/login", "/search"]}, [self.index_path])

    def source(self) -> DemoSource:
        """Discover through the RSS feed, the sitemap index and /latest/."""
        return DemoSource(
            name=self.name,
            site_name=self.site_name,
            base_url=self.base_url,
            feeds=(self.url(self.feed_path),),
            sitemaps=(self.url(self.index_path),),
            start_urls=(self.url(self.listing_path),),
            allow=self.allow,
        )
