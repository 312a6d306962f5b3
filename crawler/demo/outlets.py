"""The demo site's outlets: each one's URLs, page templates, furniture and discovery documents."""

from __future__ import annotations

import gzip
import html
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from string import Template
from typing import Any, ClassVar

from crawler.demo import discovery
from crawler.demo.discovery import Entry
from crawler.demo.loopback import Resource, Route
from crawler.demo.model import DemoDocument, DemoReject, DemoSource, DocumentKind
from crawler.demo.stories import Edition, Story, edited_paragraphs
from crawler.demo.text import (
    AP_MONTHS,
    MONTHS,
    clock,
    dateline,
    every_word_capitalised,
    first_words,
    headline_case,
    ordinal,
    slugify,
)

HTML_UTF8 = "text/html; charset=utf-8"
NOT_FOUND = 404
SUMMARY_CHARS = 160
SLUG_WORDS = 8
AGENCY_NAMES = {
    "AP": "Associated Press",
    "Reuters": "Reuters",
    "AFP": "Agence France-Presse",
    "Xinhua": "Xinhua News Agency",
    "APP": "Associated Press of Pakistan",
    "Sputnik": "Sputnik",
    "Bloomberg": "Bloomberg News",
}


def esc(text: str) -> str:
    """Escape text for an HTML text node or a double-quoted attribute value."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def text_node(text: str) -> str:
    """Escape body text the way CMSs print it: markup characters only, quotes left as typed."""
    return html.escape(text, quote=False)


@cache
def _template(outlet: str, name: str) -> Template:
    path = resources.files("crawler.demo").joinpath("templates", outlet, name)
    return Template(path.read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Placement:
    """One story as one outlet prints it: the page's URL, headline, byline and body."""

    story: Story
    edition: Edition
    outlet: str
    path: str
    url: str
    published: datetime  # in the outlet's time zone
    title: str
    paragraphs: tuple[str, ...]  # without the dateline credit
    place: str | None
    dateline_text: str | None
    authors: tuple[str, ...]
    section: str  # the outlet's section slug
    serial: int  # the page's position in the outlet's publishing order

    @property
    def printed_paragraphs(self) -> tuple[str, ...]:
        """Return the body as printed: the dateline credit opens the first paragraph."""
        if self.dateline_text is None:
            return self.paragraphs
        return (f"{self.dateline_text} {self.paragraphs[0]}", *self.paragraphs[1:])

    @property
    def summary(self) -> str:
        """Return the description used in meta tags, listings and feeds."""
        return first_words(self.paragraphs[0], SUMMARY_CHARS)

    def entry(self, keywords: tuple[str, ...] = ()) -> Entry:
        """Return this page as a feed or sitemap entry."""
        return Entry(
            url=self.url,
            title=self.title,
            published=self.published,
            summary=self.summary,
            authors=self.authors,
            category=self.section,
            keywords=keywords,
        )


@dataclass
class OutletBuild:
    """Everything one outlet serves, and what the tests should expect of it."""

    routes: dict[str, Route] = field(default_factory=dict)
    documents: list[DemoDocument] = field(default_factory=list)
    rejects: list[DemoReject] = field(default_factory=list)


class Outlet(ABC):
    """One news site of the demo: its look, its URLs and how a crawler discovers them."""

    name: ClassVar[str]
    site_name: ClassVar[str]
    utc_offset_hours: ClassVar[int]
    html_type: ClassVar[str] = HTML_UTF8
    house_credit: ClassVar[str | None] = None  # the outlet's own credit in datelines
    listing_path: ClassVar[str]
    allow: ClassVar[tuple[str, ...]]
    section_labels: ClassVar[Mapping[str, str]]

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.tz = timezone(timedelta(hours=self.utc_offset_hours))

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on this outlet."""
        return self.base_url + path

    # --- what the outlet does to a story ---------------------------------------------

    def headline(self, story: Story, edition: Edition) -> str:
        """Return the headline this outlet prints for ``story``."""
        return edition.headline or story.headline

    def authors(self, story: Story, edition: Edition, serial: int) -> tuple[str, ...]:
        """Return the people this outlet's byline names."""
        return edition.authors if edition.authors is not None else story.authors

    @abstractmethod
    def section(self, story_section: str) -> str:
        """Return this outlet's section slug for a story section."""

    @abstractmethod
    def article_path(self, title: str, section: str, published: datetime, serial: int) -> str:
        """Return the URL path of an article page."""

    def place(self, story: Story, edition: Edition, serial: int) -> Placement:
        """Return ``story`` as this outlet prints it."""
        published = story.edition_published(edition).astimezone(self.tz)
        title = self.headline(story, edition)
        section = self.section(story.section)
        place = edition.place or story.place
        path = self.article_path(title, section, published, serial)
        return Placement(
            story=story,
            edition=edition,
            outlet=self.name,
            path=path,
            url=self.url(path),
            published=published,
            title=title,
            paragraphs=edited_paragraphs(story, edition),
            place=place,
            dateline_text=dateline(story.agency, place, published.date(), self.house_credit),
            authors=self.authors(story, edition, serial),
            section=section,
            serial=serial,
        )

    # --- pages ------------------------------------------------------------------------

    def jsonld(self, page: Placement) -> str:
        """Return the page's schema.org NewsArticle, safe to embed in a script element."""
        if page.authors:
            authors: list[dict[str, str]] = [
                {"@type": "Person", "name": name} for name in page.authors
            ]
        else:
            credited = AGENCY_NAMES[page.story.agency] if page.story.agency else self.site_name
            authors = [{"@type": "Organization", "name": credited}]
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": page.url},
            "headline": page.title,
            "description": page.summary,
            "datePublished": page.published.isoformat(),
            "dateModified": page.published.isoformat(),
            "author": authors,
            "publisher": {
                "@type": "Organization",
                "name": self.site_name,
                "logo": {"@type": "ImageObject", "url": self.url("/logo.png")},
            },
            "articleSection": self.section_labels[page.section],
            "inLanguage": "en",
            "isAccessibleForFree": True,
        }
        return json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")

    @abstractmethod
    def render_article(self, page: Placement, others: Sequence[Placement]) -> str:
        """Return the HTML of an article page; ``others`` feed its related-links boxes."""

    @abstractmethod
    def listing_item(self, page: Placement) -> str:
        """Return one listing entry linking ``page``."""

    def render_listing(
        self, path: str, heading: str, items: Iterable[str], topics: Iterable[str]
    ) -> str:
        """Return a listing page: a heading, entries, and non-article topic links."""
        return _template(self.name, "listing.html").substitute(
            page_title=esc(f"{heading} - {self.site_name}"),
            url=esc(self.url(path)),
            path=path,
            heading=esc(heading),
            items="\n".join(items),
            topics="\n".join(topics),
            banner_date=self.today().isoformat(),
        )

    def render_page(self, path: str, heading: str, content: str) -> str:
        """Return a static page (about, contact, login, tag pages)."""
        return _template(self.name, "page.html").substitute(
            page_title=esc(f"{heading} | {self.site_name}"),
            url=esc(self.url(path)),
            heading=esc(heading),
            content=content,
        )

    def today(self) -> datetime:
        """Return the site's frozen 'now': the demo is set on the evening of 20 November 2026."""
        return datetime(2026, 11, 21, 4, 45, tzinfo=UTC).astimezone(self.tz)

    # --- everything the outlet serves --------------------------------------------------

    @abstractmethod
    def build(self, pages: Sequence[Placement]) -> OutletBuild:
        """Return the outlet's routes: articles, listings, pages, feeds, sitemaps, robots."""

    @abstractmethod
    def source(self) -> DemoSource:
        """Return how a crawler discovers this outlet's articles."""

    def _serve(
        self,
        build: OutletBuild,
        path: str,
        kind: DocumentKind,
        body: bytes,
        content_type: str,
        *,
        status: int = 200,
        route: Route | None = None,
    ) -> None:
        if path in build.routes:
            raise ValueError(f"{self.name}: two documents at {path}")
        build.routes[path] = route or Resource(body, content_type, status=status)
        build.documents.append(DemoDocument(self.name, self.url(path), kind, status, content_type))

    def _serve_html(
        self, build: OutletBuild, path: str, kind: DocumentKind, text: str, status: int = 200
    ) -> None:
        self._serve(build, path, kind, text.encode("utf-8"), self.html_type, status=status)

    def _serve_articles(self, build: OutletBuild, pages: Sequence[Placement]) -> None:
        for page in pages:
            self._serve_html(build, page.path, "article", self.render_article(page, pages))

    def _serve_xml(
        self,
        build: OutletBuild,
        path: str,
        kind: DocumentKind,
        body: bytes,
        content_type: str,
        *,
        pages: Sequence[Placement],
    ) -> None:
        last = max(page.published for page in pages)
        route = discovery.conditional(body, content_type, last)
        self._serve(build, path, kind, body, content_type, route=route)

    def _serve_robots(
        self, build: OutletBuild, groups: Mapping[str, Sequence[str]], sitemaps: Sequence[str]
    ) -> None:
        body = discovery.robots(groups, [self.url(path) for path in sitemaps])
        self._serve(build, "/robots.txt", "robots", body, discovery.ROBOTS_TYPE)

    def _others(self, pages: Sequence[Placement], page: Placement, count: int) -> list[Placement]:
        """Return ``count`` other pages after ``page``, for related and most-read boxes."""
        index = pages.index(page)
        rotated = [*pages[index + 1 :], *pages[:index]]
        return rotated[:count]


def _link_list(links: Iterable[tuple[str, str]], indent: str = "    ") -> list[str]:
    return [f'{indent}<li><a href="{esc(href)}">{esc(label)}</a></li>' for href, label in links]


def _by_section(pages: Sequence[Placement], section: str) -> list[Placement]:
    return [page for page in pages if page.section == section]


def _newest_first(pages: Iterable[Placement]) -> list[Placement]:
    return sorted(pages, key=lambda page: (page.published, page.path), reverse=True)


# ---------------------------------------------------------------------------------------
# Wire Daily: a news-agency-style site carrying the big wires; RSS and a gzipped sitemap.
# ---------------------------------------------------------------------------------------


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
        return _template(self.name, "article.html").substitute(
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
            most_read="\n".join(_link_list(most_read)),
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
        return _link_list(tags, indent="      ")

    def build(self, pages: Sequence[Placement]) -> OutletBuild:
        """Serve articles, /latest/ (with a dead link), sections, tags, RSS and sitemaps."""
        build = OutletBuild()
        self._serve_articles(build, pages)
        newest = _newest_first(pages)
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
            section_items = [self.listing_item(page) for page in _by_section(newest, section)]
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


# ---------------------------------------------------------------------------------------
# The Lahore Ledger: a republisher in the UrduPoint mould; Google News sitemap; no charset.
# ---------------------------------------------------------------------------------------


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
        return _template(self.name, "article.html").substitute(
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
            recent="\n".join(_link_list(recent)),
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
        newest = _newest_first(pages)
        items = [self.listing_item(page) for page in newest]
        topics = self._topics(pages)
        for path, heading in (("/", "The Lahore Ledger"), (self.listing_path, "Latest News")):
            self._serve_html(
                build, path, "listing", self.render_listing(path, heading, items, topics)
            )
        for section, label in self.section_labels.items():
            path = f"/news/category/{section}"
            section_items = [self.listing_item(page) for page in _by_section(newest, section)]
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


# ---------------------------------------------------------------------------------------
# Metro Observer: a regional paper, heavy furniture inside the article; Atom and a sitemap.
# ---------------------------------------------------------------------------------------


class MetroObserver(Outlet):
    """A regional daily: cookie banner, share bars, newsletter and related boxes in the body."""

    name = "metroobserver"
    site_name = "Metro Observer"
    utc_offset_hours = -5
    listing_path = "/news/"
    allow = (r"/(?:news|local|business|sports)/article/[a-z0-9-]+-\d{7}(?:$|\?)",)
    section_labels: ClassVar[Mapping[str, str]] = {
        "news": "News",
        "local": "Local",
        "business": "Business",
        "sports": "Sports",
    }
    feed_path = "/feeds/atom.xml"
    sitemap_path = "/sitemap.xml"
    tracking = "utm_source=atom&utm_medium=feed"
    first_id = 4_810_021
    id_step = 113
    video_path = "/news/article/watch-first-snow-over-riverton-from-above-4819999"
    video_title = "WATCH: First snow over Riverton, from above"
    copyrights: ClassVar[Mapping[str, str]] = {
        "AP": "Copyright 2026 The Associated Press. All rights reserved. This material may "
        "not be published, broadcast, rewritten or redistributed without permission.",
        "Reuters": "© 2026 Thomson Reuters. All rights reserved.",
        "Bloomberg": "©2026 Bloomberg L.P.",
    }
    credits: ClassVar[Mapping[str, str]] = {
        "AP": "The Associated Press",
        "Reuters": "Reuters",
        "Bloomberg": "Bloomberg",
    }
    topics = (
        ("/tag/weather/", "Weather"),
        ("/tag/transit/", "Transit"),
        ("/tag/riverton-city-hall/", "City Hall"),
        ("/tag/high-school-sports/", "High school sports"),
    )
    static_pages: ClassVar[Mapping[str, tuple[str, str]]] = {
        "/about/": (
            "About the Metro Observer",
            "<p>Serving Riverton and the Tri-County area since 1921.</p>",
        ),
        "/about/contact/": ("Contact the newsroom", "<p>Tips: newsroom@metroobserver.example</p>"),
        "/about/privacy/": ("Privacy policy", "<p>How we use cookies and your data.</p>"),
        "/about/terms/": ("Terms of service", "<p>Terms for readers and subscribers.</p>"),
        "/about/community-guidelines/": ("Community guidelines", "<p>Be civil.</p>"),
        "/obituaries/": ("Obituaries", "<p>Recent obituaries from the Tri-County area.</p>"),
        "/newsletters/": ("Newsletters", "<p>Sign up for the Morning Briefing.</p>"),
        "/weather/": ("Weather", "<p>Riverton: cloudy, high 44, low 31.</p>"),
        "/subscribe/": ("Subscribe", "<p>Digital access for $1 a week.</p>"),
        "/account/login": ("Log in", '<form method="post"><input name="email"></form>'),
    }

    def section(self, story_section: str) -> str:
        """Keep local, business and sports; everything else runs under News."""
        return {"local": "local", "business": "business", "sport": "sports"}.get(
            story_section, "news"
        )

    def article_path(self, title: str, section: str, published: datetime, serial: int) -> str:
        """Return ``/local/article/slug-4810021``."""
        number = self.first_id + self.id_step * serial
        return f"/{section}/article/{slugify(title, max_words=SLUG_WORDS)}-{number}"

    def _byline(self, page: Placement) -> str:
        agency = page.story.agency
        if not page.authors:
            return esc(AGENCY_NAMES[agency]) if agency else "Observer staff"
        people = " and ".join(page.authors)
        credit = self.credits.get(agency, AGENCY_NAMES[agency]) if agency else "Observer staff"
        return f"By {esc(people)} | {esc(credit)}"

    def _time_label(self, when: datetime) -> str:
        month = AP_MONTHS[when.month - 1]
        return f"Published {month} {when.day}, {when.year} at {clock(when, dotted=True)} EST"

    def render_article(self, page: Placement, others: Sequence[Placement]) -> str:
        """Return an Observer article page, boxes inserted between the paragraphs."""
        related = self._others(others, page, 3)
        body = []
        for index, paragraph in enumerate(page.paragraphs):
            text = text_node(paragraph)
            if index == 0 and page.dateline_text:
                text = f"<strong>{esc(page.dateline_text)}</strong> {text}"
            body.append(f"    <p>{text}</p>")
            if index == 0:
                body.append('    <div class="ad-slot" aria-hidden="true">Advertisement</div>')
            elif index == 1:
                body.append(
                    '    <aside class="newsletter-signup"><h3>Get the Morning Briefing</h3>'
                    "<p>Riverton's top stories in your inbox every weekday at 6 a.m.</p>"
                    '<form action="/newsletters/" method="post"><input type="email" name="email" '
                    'placeholder="Email address"><button>Sign up</button></form></aside>'
                )
            elif index == 3:
                links = "".join(
                    f'<li><a href="{other.path}">{esc(other.title)}</a></li>' for other in related
                )
                body.append(
                    '    <aside class="related-links"><h3>Related stories</h3>'
                    f"<ul>{links}</ul></aside>"
                )
        agency = page.story.agency
        notice = self.copyrights.get(agency or "", "")
        trending = [(other.path, other.title) for other in self._others(others, page, 5)[3:]]
        return _template(self.name, "article.html").substitute(
            page_title=esc(f"{page.title} | Metro Observer"),
            description=esc(page.summary),
            url=esc(page.url),
            headline=esc(page.title),
            published=page.published.isoformat(),
            author_meta=esc(", ".join(page.authors)),
            jsonld=self.jsonld(page),
            section=page.section,
            section_label=esc(self.section_labels[page.section]),
            byline=self._byline(page),
            time_label=self._time_label(page.published),
            comment_count=str((page.serial * 7 + 3) % 60),
            body="\n".join(body),
            copyright=f'<p class="copyright-notice">{esc(notice)}</p>' if notice else "",
            trending="\n".join(_link_list(trending)),
        )

    def listing_item(self, page: Placement) -> str:
        """Return a story card: headline, summary, byline."""
        return (
            f'    <div class="card"><h3><a href="{page.path}">{esc(page.title)}</a></h3>'
            f'<p class="dek">{esc(page.summary)}</p>'
            f'<span class="card-byline">{self._byline(page)}</span></div>'
        )

    def _video_page(self) -> str:
        when = datetime(2026, 11, 20, 7, 50, tzinfo=self.tz)
        data = {
            "@context": "https://schema.org",
            "@type": "VideoObject",
            "name": self.video_title,
            "uploadDate": when.isoformat(),
            "contentUrl": self.url("/media/first-snow-riverton.mp4"),
            "thumbnailUrl": self.url("/media/first-snow-poster.jpg"),
            "duration": "PT1M12S",
        }
        return _template(self.name, "video.html").substitute(
            page_title=esc(f"{self.video_title} | Metro Observer"),
            url=esc(self.url(self.video_path)),
            headline=esc(self.video_title),
            jsonld=json.dumps(data, indent=2),
            published=when.isoformat(),
            time_label=self._time_label(when),
        )

    def build(self, pages: Sequence[Placement]) -> OutletBuild:
        """Serve articles, /news/ (with a video-only page), sections, Atom and a sitemap."""
        build = OutletBuild()
        self._serve_articles(build, pages)
        newest = _newest_first(pages)
        items = [self.listing_item(page) for page in newest]
        items.insert(
            1,
            f'    <div class="card card--video"><h3><a href="{self.video_path}">'
            f'{esc(self.video_title)}</a></h3><span class="card-byline">Video</span></div>',
        )
        topics = [f'    <a href="{href}">{esc(label)}</a>' for href, label in self.topics]
        for path, heading in (("/", "Metro Observer"), (self.listing_path, "News")):
            self._serve_html(
                build, path, "listing", self.render_listing(path, heading, items, topics)
            )
        for section, label in self.section_labels.items():
            if section == "news":
                continue  # /news/ is the listing above
            path = f"/{section}/"
            section_items = [self.listing_item(page) for page in _by_section(newest, section)]
            self._serve_html(
                build, path, "page", self.render_listing(path, label, section_items, topics)
            )
        for path, label in self.topics:
            self._serve_html(
                build, path, "page", self.render_listing(path, label, items[:3], topics)
            )
        for path, (heading, content) in self.static_pages.items():
            self._serve_html(build, path, "page", self.render_page(path, heading, content))
        self._serve_html(build, self.video_path, "reject", self._video_page())
        build.rejects.append(DemoReject(self.name, self.url(self.video_path), 200, "video_only"))
        feed = discovery.atom(
            "Metro Observer",
            "tag:metroobserver.example,2026:feed",
            self.url("/"),
            self.url(self.feed_path),
            [page.entry() for page in newest],
            tracking=self.tracking,
        )
        self._serve_xml(build, self.feed_path, "feed", feed, discovery.ATOM_TYPE, pages=pages)
        sitemap = discovery.urlset(
            [(page.url, page.published) for page in newest]
            + [(self.url(f"/{section}/"), None) for section in self.section_labels]
            + [(self.url(path), None) for path in ("/obituaries/", "/weather/")]
        )
        self._serve_xml(
            build, self.sitemap_path, "sitemap", sitemap, discovery.XML_TYPE, pages=pages
        )
        self._serve_robots(build, {"*": ["/account/", "/subscribe/"]}, [self.sitemap_path])
        return build

    def source(self) -> DemoSource:
        """Discover through the Atom feed, the sitemap and /news/."""
        return DemoSource(
            name=self.name,
            site_name=self.site_name,
            base_url=self.base_url,
            feeds=(self.url(self.feed_path),),
            sitemaps=(self.url(self.sitemap_path),),
            start_urls=(self.url(self.listing_path),),
            allow=self.allow,
        )


OUTLETS: tuple[type[Outlet], ...] = (WireDaily, LahoreLedger, MetroObserver)
