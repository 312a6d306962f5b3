"""The items that flow through the pipelines: a fetched Page, then an Article or a Duplicate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pipelines.dedup.fingerprints import Signature, exact_fingerprint, signature_of

SCHEMA_VERSION = 1
LIVE_ORIGIN = {"kind": "live"}  # a page fetched from its own site
# Request meta: (since, until) a page with no listed date must have been published in.
PUBLISHED_RANGE_META = "wirearchive_published_range"


@dataclass(slots=True)
class Page:
    """One fetched article page, as the spider hands it to the pipelines."""

    source: str
    url: str  # after redirects
    status: int
    body: bytes  # exactly as served: the WARC payload
    content: bytes  # after Content-Encoding was undone: what extraction reads
    request_headers: list[tuple[str, str]]
    response_headers: list[tuple[str, str]]
    fetched_at: datetime
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    requested_url: str | None = None  # before redirects, when they happened
    listed_date: datetime | None = None  # from the feed or sitemap that led here
    listed_in: str | None = None  # the feed, sitemap or listing page that led here
    listed_kind: str | None = None  # "feed" or "sitemap": what gave listed_date
    published_range: tuple[date | None, date | None] | None = None  # backfill, undated pages
    # Where the page came from: {"kind": "live"} (None), or a history archive's capture.
    origin: dict[str, Any] | None = None
    # A history capture's own WARC response record (uncompressed): archived as it is.
    record: bytes | None = None

    def header(self, name: str) -> str | None:
        """Return the first response header called ``name`` (any case), or None."""
        wanted = name.lower()
        for key, value in self.response_headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(slots=True)
class Article:
    """An extracted article: the archive's JSON record, plus the page it came from."""

    id: str
    url: str
    canonical_url: str
    source: str
    title: str | None
    text: str
    authors: list[str]
    published: str | None
    modified: str | None
    fetched_at: str
    language: str | None
    sitename: str | None
    wire_agency: str | None
    wire_dateline: str | None
    content_sha256: str
    extractor_name: str
    extractor_version: str
    page: Page = field(repr=False)
    raw_key: str | None = None
    version: int = 1  # > 1: a revision stored next to the first (crawl --refresh)
    extra: dict[str, Any] = field(default_factory=dict)
    # The near-duplicate signature of ``text``, made once by ``signature()``: in the
    # extraction worker, off the reactor. A 1-tuple, so "too short to sign" is kept too.
    signed: tuple[Signature | None] | None = field(default=None, repr=False, compare=False)
    # Where `published` came from: jsonld, meta, feed, sitemap, text or fetched.
    published_from: str | None = None
    # The exact-copy fingerprint of ``text``, made once by ``fingerprint()``, like ``signed``.
    printed: str | None = field(default=None, repr=False, compare=False)

    def signature(self) -> Signature | None:
        """Return the near-duplicate signature of the text (None: too short to compare)."""
        if self.signed is None:
            self.signed = (signature_of(self.text),)
        return self.signed[0]

    def fingerprint(self) -> str:
        """Return the exact-copy fingerprint of the text (its normalised form's hash)."""
        if self.printed is None:
            self.printed = exact_fingerprint(self.text)
        return self.printed

    def urls(self) -> list[str]:
        """Return every URL that leads to this article: canonical, fetched, requested."""
        found = [self.canonical_url, self.url, self.page.requested_url]
        return [url for url in dict.fromkeys(found) if url]

    def to_record(self) -> dict[str, Any]:
        """Return the archive JSON object (schema_version 1)."""
        record: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "url": self.url,
            "canonical_url": self.canonical_url,
            "source": self.source,
            "title": self.title,
            "text": self.text,
            "authors": list(self.authors),
            "published": self.published,
            "published_from": self.published_from if self.published else None,
            "modified": self.modified,
            "fetched_at": self.fetched_at,
            "language": self.language,
            "sitename": self.sitename,
            "wire": {"agency": self.wire_agency, "dateline": self.wire_dateline},
            "content_sha256": self.content_sha256,
            "raw_key": self.raw_key,
            "extractor": {"name": self.extractor_name, "version": self.extractor_version},
            "http": {"status": self.page.status, "listed_in": self.page.listed_in},
            "origin": dict(self.page.origin or LIVE_ORIGIN),
        }
        if self.version > 1:
            record["version"] = self.version
        record.update(self.extra)
        return record


@dataclass(slots=True)
class Duplicate:
    """A page whose story is already archived: recorded, pointing at the archived article."""

    id: str
    url: str
    source: str
    fetched_at: str
    duplicate_of: str
    duplicate_of_key: str
    kind: str  # url, exact or near
    similarity: float
    canonical_url: str | None = None
    title: str | None = None
    content_sha256: str | None = None
    urls: tuple[str, ...] = ()  # every URL to index as leading to duplicate_of

    def to_record(self) -> dict[str, Any]:
        """Return the archive JSON object of a duplicate (schema_version 1)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "url": self.url,
            "canonical_url": self.canonical_url,
            "source": self.source,
            "title": self.title,
            "fetched_at": self.fetched_at,
            "duplicate_of": self.duplicate_of,
            "duplicate_of_key": self.duplicate_of_key,
            "kind": self.kind,
            "similarity": round(self.similarity, 4),
            "content_sha256": self.content_sha256,
        }
