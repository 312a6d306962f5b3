"""What every demo outlet shares: placing a story, page helpers, and serving its documents."""

from __future__ import annotations

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
from crawler.demo.text import dateline, first_words

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
def template(outlet: str, name: str) -> Template:
    """Return one of an outlet's page templates (``templates/{outlet}/{name}``)."""
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
        return template(self.name, "listing.html").substitute(
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
        return template(self.name, "page.html").substitute(
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


def link_list(links: Iterable[tuple[str, str]], indent: str = "    ") -> list[str]:
    """Return one ``<li>`` link per (href, label), indented for the page's markup."""
    return [f'{indent}<li><a href="{esc(href)}">{esc(label)}</a></li>' for href, label in links]


def by_section(pages: Sequence[Placement], section: str) -> list[Placement]:
    """Return the pages of one of the outlet's sections."""
    return [page for page in pages if page.section == section]


def newest_first(pages: Iterable[Placement]) -> list[Placement]:
    """Return the pages newest first, as listings and feeds show them."""
    return sorted(pages, key=lambda page: (page.published, page.path), reverse=True)
