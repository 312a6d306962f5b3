"""Metro Observer: a regional paper, heavy furniture in the article; Atom and a sitemap."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from crawler.demo import discovery
from crawler.demo.model import DemoReject, DemoSource
from crawler.demo.outlets.outlet import (
    AGENCY_NAMES,
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
from crawler.demo.text import AP_MONTHS, clock, slugify


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
        return template(self.name, "article.html").substitute(
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
            trending="\n".join(link_list(trending)),
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
        return template(self.name, "video.html").substitute(
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
        newest = newest_first(pages)
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
            section_items = [self.listing_item(page) for page in by_section(newest, section)]
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
