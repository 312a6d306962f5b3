"""What one crawl knows: the archive's index, plus the originals this run has in flight.

Originals being written in this run are held as *pending* so that copies arriving while
the first is still in flight are recognised too; they join the persistent index only once
their archive write succeeded.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler

from pipelines.items import Article, Duplicate
from pipelines.keys import archive_uri, article_keys
from pipelines.neardup import exact_fingerprint
from pipelines.nearindex import NearIndex
from pipelines.spool import record_index_entry
from pipelines.state import Known, StateIndex, open_state, sync_state
from pipelines.stores import Store, open_store
from pipelines.urls import article_id, canonicalize_url

logger = logging.getLogger(__name__)

STATE_ATTRIBUTE = "_wirearchive_state"


@dataclass
class Pending:
    """An original whose archive write has not finished yet."""

    article_id: str
    key: str
    fingerprint: str


def duplicate_entry(duplicate: Duplicate) -> dict[str, Any]:
    """Return what the index records for a written duplicate (JSON-ready, for the spool)."""
    return {
        "kind": duplicate.kind,
        "urls": list(duplicate.urls or (duplicate.url,)),
        "article_id": duplicate.duplicate_of,
    }


class CrawlState:
    """What one crawl knows: the archive's index plus what this run has in flight."""

    def __init__(self, store: Store, index: StateIndex, *, refresh: bool = False) -> None:
        self.store = store
        self.index = index
        self.refresh = refresh
        self.pending: dict[str, Pending] = {}
        self.pending_urls: dict[str, str] = {}  # URL -> pending article id
        self.pending_texts: dict[str, str] = {}  # fingerprint -> pending article id
        self.pending_near = NearIndex(sqlite3.connect(":memory:", check_same_thread=False))
        self.requested: dict[str, str] = {}  # canonical URL -> the URL requested for it
        self.aliases: dict[str, list[str]] = {}  # canonical URL -> other URLs listed for it
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.tainted: set[str] = set()  # discovery URLs with a page that must be retried

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> CrawlState:
        """Return the crawl's state, opening the archive's index on first use."""
        state: CrawlState | None = getattr(crawler, STATE_ATTRIBUTE, None)
        if state is None:
            store = open_store(archive_uri(crawler))
            state = cls(
                store,
                open_state(store),
                refresh=crawler.settings.getbool("WIREARCHIVE_REFRESH"),
            )
            days = crawler.settings.getfloat("WIREARCHIVE_NEAR_WINDOW_DAYS")
            if days > 0:
                state.index.prune_near(days)
            setattr(crawler, STATE_ATTRIBUTE, state)
        return state

    # -- lookups --------------------------------------------------------------------------

    def known_url(self, url: str) -> Known | None:
        """Return the article a URL leads to, pending ones included."""
        pending = self.pending_urls.get(url)
        if pending is not None:
            return Known(pending, self.pending[pending].key, "article")
        return self.index.url(url)

    def classify(self, article: Article) -> Duplicate | str | None:
        """Return a Duplicate, ``"unchanged"``/``"revision"`` for the article itself, or None."""
        for url in (article.canonical_url, article.url):
            known = self.known_url(url)
            if known is None:
                continue
            if known.article_id == article.id:
                return self._revision(article)
            return self._duplicate(article, known.article_id, known.key, "url", 1.0)
        fingerprint = exact_fingerprint(article.text)
        pending = self.pending_texts.get(fingerprint)
        if pending is not None:
            return self._duplicate(article, pending, self.pending[pending].key, "exact", 1.0)
        known = self.index.text(fingerprint)
        if known is not None:
            return self._duplicate(article, known.article_id, known.key, "exact", 1.0)
        match = self.pending_near.find(article.text)
        if match is None or match.article_id not in self.pending:
            match = self.index.near_match(article.text) or match
        if match is not None:
            return self._duplicate(article, match.article_id, match.key, "near", match.similarity)
        return None

    def _revision(self, article: Article) -> str:
        known = self.index.article(article.id)
        if known is None or not self.refresh:
            return "unchanged"  # in flight in this run, or archived and listed again
        _key, content_sha256, versions = known
        if content_sha256 == article.content_sha256:
            return "unchanged"
        article.version = versions + 1
        return "revision"

    def _duplicate(
        self, article: Article, original: str, original_key: str, kind: str, similarity: float
    ) -> Duplicate:
        return Duplicate(
            id=article_id(article.url),
            url=article.url,
            source=article.source,
            fetched_at=article.fetched_at,
            duplicate_of=original,
            duplicate_of_key=original_key,
            kind=kind,
            similarity=similarity,
            canonical_url=article.canonical_url,
            title=article.title,
            content_sha256=article.content_sha256,
            urls=tuple(article.urls()),
        )

    # -- the life of an original --------------------------------------------------------

    def reserve(self, article: Article) -> None:
        """Hold an original as pending while it is written."""
        key, _raw = article_keys(article)
        fingerprint = exact_fingerprint(article.text)
        self.pending[article.id] = Pending(article.id, key, fingerprint)
        for url in article.urls():
            self.pending_urls.setdefault(url, article.id)
        self.pending_texts.setdefault(fingerprint, article.id)
        self.pending_near.add(article.id, key, article.text, time.time())

    def index_entry(self, article: Article, key: str) -> dict[str, Any]:
        """Return what the index records for an archived original (JSON-ready, for the spool)."""
        pending = self.pending.get(article.id)
        urls = [*article.urls(), *self.aliases.pop(canonicalize_url(article.url), [])]
        if article.page.requested_url:
            urls += self.aliases.pop(canonicalize_url(article.page.requested_url), [])
        return {
            "kind": "article",
            "article_id": article.id,
            "key": key,
            "content_sha256": article.content_sha256,
            "urls": urls,
            "fingerprint": pending.fingerprint if pending else exact_fingerprint(article.text),
            "text": article.text,
            "version": article.version,
        }

    def commit(self, article: Article, key: str) -> None:
        """Index an original after its archive write succeeded."""
        record_index_entry(self.index, self.index_entry(article, key))
        self._drop(article)

    def release(self, article: Article) -> None:
        """Forget a pending original whose write failed: the next run fetches it again."""
        self._drop(article)
        # Rebuild the in-run near index without it (rare: only after a storage failure).
        self.pending_near = NearIndex(sqlite3.connect(":memory:", check_same_thread=False))

    def _drop(self, article: Article) -> None:
        pending = self.pending.pop(article.id, None)
        if pending is None:
            return
        self.pending_urls = {u: i for u, i in self.pending_urls.items() if i != article.id}
        if self.pending_texts.get(pending.fingerprint) == article.id:
            del self.pending_texts[pending.fingerprint]

    def record_duplicate(self, duplicate: Duplicate) -> None:
        """Index a duplicate's URLs after its record was written."""
        record_index_entry(self.index, duplicate_entry(duplicate))

    # -- end of run ------------------------------------------------------------------------

    def finish(self, *, clean: bool) -> None:
        """Save feed validators after a clean run, upload the index, close it."""
        try:
            if clean:
                self.index.save_validators(
                    (url, etag, modified)
                    for url, (etag, modified) in self.validators.items()
                    if url not in self.tainted
                )
            sync_state(self.index, self.store)
        finally:
            self.index.close()
