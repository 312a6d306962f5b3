"""Ground-truth records of the demo site: what each page is, for tests to assert on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

DocumentKind = Literal[
    "article", "reject", "listing", "page", "feed", "sitemap", "sitemap_index", "robots"
]


@dataclass(frozen=True, slots=True)
class DemoArticle:
    """One article page of the demo site, and what an archive should record for it."""

    outlet: str  # the source name: wiredaily, lahoreledger, metroobserver
    site_name: str
    url: str  # absolute; also the page's canonical URL
    story_id: str  # shared by every copy of one story; follow-ups get their own
    title: str  # the headline as this outlet printed it
    paragraphs: tuple[str, ...]  # the body as printed, the dateline credit opening the first
    dateline: str | None  # the dateline place as printed (``HAYWARD, Calif.``), or None
    dateline_text: str | None  # the whole credit as printed (``HAYWARD, Calif. (AP) —``)
    agency: str | None  # AP, Reuters, AFP, Xinhua, APP, Sputnik, Bloomberg; None: staff
    authors: tuple[str, ...]  # people named in the byline
    published: str  # ISO 8601 with the outlet's UTC offset
    section: str
    edits: tuple[str, ...]  # what this copy changed from the agency's text
    is_wire_copy: bool  # the page carries a wire agency's story (not staff-written)
    first_edition: bool  # the earliest page of its story across outlets

    @property
    def published_at(self) -> datetime:
        """Return the publication time as an aware datetime."""
        return datetime.fromisoformat(self.published)

    @property
    def text(self) -> str:
        """Return the body as an archive should store it: one paragraph a line, as trafilatura."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class DemoReject:
    """A page linked like an article that holds none: the pipeline must count, not archive, it."""

    outlet: str
    url: str
    status: int
    reason: str  # http_404 (the fetch fails), video_only (a video page with no body text)


@dataclass(frozen=True, slots=True)
class HardNegative:
    """Two different stories that share some text: dedup must not merge them."""

    kind: str  # follow_up, shared_boilerplate, same_event
    story_ids: tuple[str, str]  # the earlier story, then the one that shares its text
    shared_paragraphs: tuple[str, ...]  # paragraphs printed word for word in both


@dataclass(frozen=True, slots=True)
class DemoSource:
    """How a crawler discovers one outlet's articles."""

    name: str
    site_name: str
    base_url: str
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    start_urls: tuple[str, ...]
    allow: tuple[str, ...]  # regexes (re.search on the absolute URL) matching article URLs only


@dataclass(frozen=True, slots=True)
class DemoDocument:
    """One route of the demo site, as a client should see it."""

    outlet: str
    url: str
    kind: DocumentKind
    status: int
    content_type: str
