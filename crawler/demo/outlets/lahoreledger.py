"""The Lahore Ledger: a republisher in the UrduPoint mould; Google News sitemap; no charset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from crawler.demo import discovery
from crawler.demo.model import DemoSource
from crawler.demo.outlets.outlet import (
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
from crawler.demo.stories import Edition, Story
from crawler.demo.text import MONTHS, clock, every_word_capitalised, headline_case, ordinal, slugify


class LahoreLedger(Outlet):
    """A republisher: site banner, uploader byline with a relative time, repeated headline."""

    name = "lahoreledger"
    site_name = "The Lahore Ledger"
    utc_offset_hours = 5
    # The charset is only in the page's meta tag: clients must detect the encoding.
    html_type = "text/html"
    house_credit = "Ledger News"
    listing_path = "/news/"
    allow = (r"/news/\d{6}-[a-z0-9-]+$",)
    section_labels: ClassVar[Mapping[str, str]] = {
        "world": "World",
        "pakistan": "Pakistan",
        "business": "Business",
        "sports": "Sports",
        "science": "Science & Health",
    }
    news_sitemap_path = "/sitemap-news.xml"
    first_id = 845_103
    id_step = 37
    slug_chars = 50
    uploaders = (
        ("Bilal Ahmed", "@BilalAhmed_LN"),
        ("Usman Tariq", "@UsmanTariqLN"),
        ("Ayesha Malik", "@AyeshaMalik_LN"),
    )
    staff_handles: ClassVar[Mapping[str, str]] = {"Sana Qureshi": "@SanaQureshi_LN"}
    ages = ("42 seconds ago", "7 minutes ago", "1 hour ago", "3 hours ago", "1 day ago")
    static_pages: ClassVar[Mapping[str, tuple[str, str]]] = {
        "/about-us": (
            "About Us",
            "<p>The Lahore Ledger brings you news from Pakistan and the world.</p>",
        ),
        "/contact-us": ("Contact Us", "<p>Email: editor@ledgernews.example</p>"),
        "/privacy-policy": ("Privacy Policy", "<p>We respect your privacy.</p>"),
        "/login": ("Login", '<form method="post" action="/login"><input name="user"></form>'),
        "/urdu/": (
            "اردو خبریں",
            '<p lang="ur" dir="rtl">لاہور لیجر کی اردو خبریں جلد دستیاب ہوں گی۔</p>',
        ),
    }

    def section(self, story_section: str) -> str:
        """Fold the story sections into the Ledger's five categories."""
        return {
            "us": "world",
            "local": "pakistan",
            "sport": "sports",
            "health": "science",
        }.get(story_section, story_section)

    def headline(self, story: Story, edition: Edition) -> str:
        """Capitalise Every Word, as the Ledger's desk does."""
        return edition.headline or every_word_capitalised(story.headline)

    def _uploader(self, story: Story, serial: int) -> tuple[str, str]:
        if story.agency is None and story.authors:
            name = story.authors[0]
            return name, self.staff_handles[name]
        return self.uploaders[serial % len(self.uploaders)]

    def authors(self, story: Story, edition: Edition, serial: int) -> tuple[str, ...]:
        """Name the desk member who posted the story: the Ledger's byline is the uploader."""
        return (self._uploader(story, serial)[0],)

    def article_path(self, title: str, section: str, published: datetime, serial: int) -> str:
        """Return ``/news/845103-slug-cut-at-fifty-characters``."""
        number = self.first_id + self.id_step * serial
        return f"/news/{number}-{slugify(title, max_chars=self.slug_chars)}"

    def _tags(self, page: Placement) -> list[tuple[str, str]]:
        tags = [(f"/news/tag/{slugify(page.section)}", self.section_labels[page.section])]
        if page.story.agency:
            tags.append((f"/news/tag/{slugify(page.story.agency)}", page.story.agency))
        return tags

    def render_article(self, page: Placement, others: Sequence[Placement]) -> str:
        """Return a Ledger article page, banner and byline line included."""
        when = page.published
        uploader, handle = self._uploader(page.story, page.serial)
        recent = [(other.path, other.title) for other in self._others(others, page, 6)]
        return template(self.name, "article.html").substitute(
            page_title=esc(f"{page.title} - The Lahore Ledger"),
            description=esc(page.summary),
            keywords=esc(", ".join(label for _, label in self._tags(page))),
            url=esc(page.url),
            headline=esc(page.title),
            jsonld=self.jsonld(page),
            banner_date=when.date().isoformat(),
            category=page.section,
            category_label=esc(self.section_labels[page.section]),
            uploader=esc(uploader),
            handle=esc(handle),
            time_ago=self.ages[page.serial % len(self.ages)],
            date_line=(
                f"{when:%a} {ordinal(when.day)} {MONTHS[when.month - 1]} {when.year}"
                f" | {clock(when)}"
            ),
            repeated_headline=esc(headline_case(page.title)),
            body="\n".join(f"    <p>{text_node(text)}</p>" for text in page.printed_paragraphs),
            topics="\n".join(
                f'    <a class="tag" href="{href}">{esc(label)}</a>'
                for href, label in self._tags(page)
            ),
            recent="\n".join(link_list(recent)),
        )

    def listing_item(self, page: Placement) -> str:
        """Return a thumbnail headline link and the posting time."""
        when = page.published
        return (
            f'    <li><a href="{page.path}"><img src="/images/thumb/{page.serial}.jpg" alt="">'
            f' {esc(page.title)}</a> <span class="time">{when:%d %b %Y} {clock(when)}</span></li>'
        )

    def _topics(self, pages: Sequence[Placement]) -> list[str]:
        tags = sorted({tag for page in pages for tag in self._tags(page)})
        return [f'    <a class="tag" href="{href}">{esc(label)}</a>' for href, label in tags]

    def build(self, pages: Sequence[Placement]) -> OutletBuild:
        """Serve articles, /news/, categories, tags, the news sitemap and robots.txt."""
        build = OutletBuild()
        self._serve_articles(build, pages)
        newest = newest_first(pages)
        items = [self.listing_item(page) for page in newest]
        topics = self._topics(pages)
        for path, heading in (("/", "The Lahore Ledger"), (self.listing_path, "Latest News")):
            self._serve_html(
                build, path, "listing", self.render_listing(path, heading, items, topics)
            )
        for section, label in self.section_labels.items():
            path = f"/news/category/{section}"
            section_items = [self.listing_item(page) for page in by_section(newest, section)]
            self._serve_html(
                build, path, "page", self.render_listing(path, label, section_items, topics)
            )
        for tag_path, tag_label in sorted({tag for page in pages for tag in self._tags(page)}):
            tagged = [
                self.listing_item(page)
                for page in newest
                if (tag_path, tag_label) in self._tags(page)
            ]
            listing = self.render_listing(tag_path, f"{tag_label} News", tagged, topics)
            self._serve_html(build, tag_path, "page", listing)
        for path, (heading, content) in self.static_pages.items():
            self._serve_html(build, path, "page", self.render_page(path, heading, content))
        sitemap = discovery.news_sitemap(
            self.site_name,
            [page.entry(tuple(label for _, label in self._tags(page))) for page in newest],
        )
        self._serve_xml(
            build, self.news_sitemap_path, "sitemap", sitemap, discovery.XML_TYPE, pages=pages
        )
        self._serve_robots(
            build,
            {"*": ["/admin/", "/login", "/search"], "GPTBot": ["/"]},
            [self.news_sitemap_path],
        )
        return build

    def source(self) -> DemoSource:
        """Discover through the Google News sitemap and /news/."""
        return DemoSource(
            name=self.name,
            site_name=self.site_name,
            base_url=self.base_url,
            feeds=(),
            sitemaps=(self.url(self.news_sitemap_path),),
            start_urls=(self.url(self.listing_path),),
            allow=self.allow,
        )
