"""What one crawl knows: the archive's index, plus the originals this run has in flight.

Originals being written in this run are held as *pending* so that copies arriving while
the first is still in flight are recognised too; they join the persistent index only once
their archive write succeeded.

Who decides "original or copy" and holds the pending originals is a strategy:
``LocalOriginals`` (one machine: the archive's SQLite index plus this run's pending
originals in memory) or ``SharedOriginals`` (distributed mode: the Redis index, where one
atomic ``claim_original`` decides and reserves across every worker).
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from scrapy.crawler import Crawler

from pipelines.archive.keys import archive_uri, article_keys
from pipelines.archive.spool import IndexRecorder, record_index_entry
from pipelines.archive.stores import Store, open_store
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.index.near import NearIndex
from pipelines.index.redis import Claim, RedisIndex
from pipelines.index.rejections import Rejection, is_lasting, next_rejection
from pipelines.index.sqlite import Known, StateIndex, open_state, sync_state
from pipelines.items import Article, Duplicate
from pipelines.urls import article_id, canonicalize_url

logger = logging.getLogger(__name__)

STATE_ATTRIBUTE = "_wirearchive_state"


@dataclass
class Pending:
    """An original whose archive write has not finished yet."""

    article_id: str
    key: str
    fingerprint: str
    claim: Claim | None = None  # distributed mode: our claim in the shared index


def duplicate_entry(duplicate: Duplicate) -> dict[str, Any]:
    """Return what the index records for a written duplicate (JSON-ready, for the spool)."""
    return {
        "kind": duplicate.kind,
        "urls": list(duplicate.urls or (duplicate.url,)),
        "article_id": duplicate.duplicate_of,
    }


class Index(IndexRecorder, Protocol):
    """The lookups CrawlState needs: ``state.StateIndex`` and ``redisindex.RedisIndex``."""

    def url(self, url: str) -> Known | None:
        """Return the article a URL belongs to."""

    def article(self, article_id: str) -> tuple[str, str, int] | None:
        """Return (key, content_sha256, versions) of an archived article."""

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the validators last seen for a feed URL."""

    def save_validators(self, entries: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Remember validators."""

    def rejection(self, url: str) -> Rejection | None:
        """Return what is remembered of a URL's last rejections."""

    def record_rejection(self, url: str, rejection: Rejection) -> None:
        """Remember a URL's rejection."""

    def close(self) -> None:
        """Close the index."""


def default_worker() -> str:
    """Return this process's worker name in distributed mode: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Originals(Protocol):
    """Decide whether an article is a new original and reserve it; then commit or abandon."""

    def admit(self, state: CrawlState, article: Article, key: str) -> Duplicate | str | None:
        """Return a Duplicate, ``"unchanged"``/``"revision"``, or None (reserved: ours)."""

    def commit(self, state: CrawlState, article: Article, entry: dict[str, Any]) -> None:
        """Index an original after its archive write succeeded."""

    def reserve(self, state: CrawlState, article: Article, key: str) -> None:
        """Hold an original or a revision as pending while it is written."""

    def abandon(self, pending: Pending) -> None:
        """Forget a reserved original whose write failed."""

    def finish(self, state: CrawlState) -> None:
        """Persist the index at the end of a run and close it."""


class LocalOriginals:
    """One machine: the archive's SQLite index, plus this run's pending originals in memory."""

    def __init__(self, index: StateIndex) -> None:
        self.index = index
        self.pending_texts: dict[str, str] = {}  # fingerprint -> pending article id
        self.pending_near = NearIndex(sqlite3.connect(":memory:", check_same_thread=False))

    def admit(self, state: CrawlState, article: Article, key: str) -> Duplicate | str | None:
        """Look for an exact or near copy (archived or pending); reserve an original."""
        fingerprint = exact_fingerprint(article.text)
        pending = self.pending_texts.get(fingerprint)
        if pending is not None:
            return state.duplicate(article, pending, state.pending[pending].key, "exact", 1.0)
        known = self.index.text(fingerprint)
        if known is not None:
            return state.duplicate(article, known.article_id, known.key, "exact", 1.0)
        # The in-run index holds only originals still being written: the rest are in SQLite.
        signature = article.signature()
        match = None
        if signature is not None:
            match = self.pending_near.find_signature(signature) or self.index.near_match(
                article.text, signature
            )
        if match is not None:
            return state.duplicate(article, match.article_id, match.key, "near", match.similarity)
        self.reserve(state, article, key)
        return None

    def reserve(self, state: CrawlState, article: Article, key: str) -> None:
        """Hold an original (or a revision) as pending while it is written."""
        fingerprint = exact_fingerprint(article.text)
        state.hold(Pending(article.id, key, fingerprint), article)
        self.pending_texts.setdefault(fingerprint, article.id)
        signature = article.signature()
        if signature is not None:
            self.pending_near.add_signature(article.id, key, signature, time.time())

    def commit(self, state: CrawlState, article: Article, entry: dict[str, Any]) -> None:
        """Record the article in the SQLite index."""
        record_index_entry(self.index, entry, article.signature())
        self._forget(article.id, entry["fingerprint"])

    def abandon(self, pending: Pending) -> None:
        """Drop a pending original whose write failed (a storage failure)."""
        self._forget(pending.article_id, pending.fingerprint)

    def _forget(self, article_id: str, fingerprint: str) -> None:
        if self.pending_texts.get(fingerprint) == article_id:
            del self.pending_texts[fingerprint]
        # Only this one: the other originals in flight must still catch their copies.
        self.pending_near.remove(article_id)

    def finish(self, state: CrawlState) -> None:
        """Upload the index to the archive."""
        sync_state(self.index, state.store)


class SharedOriginals:
    """Distributed mode: one atomic ``claim_original`` in Redis decides and reserves."""

    def __init__(self, index: RedisIndex, worker: str, ttl: float) -> None:
        self.index = index
        self.worker = worker
        self.ttl = ttl

    def admit(self, state: CrawlState, article: Article, key: str) -> Duplicate | str | None:
        """Claim the article: ours, itself (archived or in flight elsewhere), or a copy."""
        fingerprint = exact_fingerprint(article.text)
        claim = self.index.claim_original(
            article.id, key, fingerprint, article.signature(), self.worker, self.ttl
        )
        if claim.mine:
            state.hold(Pending(article.id, key, fingerprint, claim), article)
            return None
        if claim.status == "article":
            # Another worker is writing it now; or archived (a revision, with --refresh).
            return "unchanged" if claim.pending else state.revision(article)
        return state.duplicate(article, claim.article_id, claim.key, claim.status, claim.similarity)

    def reserve(self, state: CrawlState, article: Article, key: str) -> None:
        """Hold a revision as pending: no claim, the article id is archived already."""
        state.hold(Pending(article.id, key, exact_fingerprint(article.text)), article)

    def commit(self, state: CrawlState, article: Article, entry: dict[str, Any]) -> None:
        """Make our claim permanent; a revision (no claim) is recorded as on one machine."""
        pending = state.pending.get(article.id)
        if pending is None or pending.claim is None:
            record_index_entry(self.index, entry, article.signature())
            return
        self.index.commit_original(
            pending.claim,
            content_sha256=entry["content_sha256"],
            urls=entry["urls"],
            version=entry["version"],
        )

    def abandon(self, pending: Pending) -> None:
        """Give the claim back: the next claimant (or the next run) writes it."""
        if pending.claim is not None:
            self.index.abandon_original(pending.claim)

    def finish(self, state: CrawlState) -> None:
        """Nothing to upload: the shared index is already up to date."""


class CrawlState:
    """What one crawl knows: the archive's index plus what this run has in flight."""

    def __init__(
        self,
        store: Store,
        index: Index,
        *,
        refresh: bool = False,
        originals: Originals | None = None,
        retry_base: float = 0.0,
    ) -> None:
        self.store = store
        self.index = index
        self.refresh = refresh
        self.retry_base = retry_base  # seconds before a rejected page is asked again; 0: at once
        if originals is None:
            if not isinstance(index, StateIndex):
                raise TypeError("a shared index needs SharedOriginals")
            originals = LocalOriginals(index)
        self.originals = originals
        self.pending: dict[str, Pending] = {}
        self.pending_urls: dict[str, str] = {}  # URL -> pending article id
        self.requested: dict[str, str] = {}  # canonical URL -> the URL requested for it
        self.aliases: dict[str, list[str]] = {}  # canonical URL -> other URLs listed for it
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.tainted: set[str] = set()  # discovery URLs with a page that must be retried
        self.url_claims: set[str] = set()  # distributed mode: URLs this worker claimed

    @property
    def shared(self) -> SharedOriginals | None:
        """The distributed-mode strategy, or None on one machine."""
        return self.originals if isinstance(self.originals, SharedOriginals) else None

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> CrawlState:
        """Return the crawl's state, opening the archive's index on first use."""
        state: CrawlState | None = getattr(crawler, STATE_ATTRIBUTE, None)
        if state is None:
            uri = archive_uri(crawler)
            store = open_store(uri)
            refresh = crawler.settings.getbool("WIREARCHIVE_REFRESH")
            redis_url = crawler.settings.get("WIREARCHIVE_REDIS")
            if redis_url:
                shared = RedisIndex(str(redis_url), uri)
                originals = SharedOriginals(
                    shared,
                    crawler.settings.get("WIREARCHIVE_WORKER") or default_worker(),
                    crawler.settings.getfloat("WIREARCHIVE_CLAIM_TTL"),
                )
                state = cls(store, shared, refresh=refresh, originals=originals)
            else:
                index = open_state(store)
                days = crawler.settings.getfloat("WIREARCHIVE_NEAR_WINDOW_DAYS")
                if days > 0:
                    index.prune_near(days)
                state = cls(store, index, refresh=refresh)
            state.retry_base = crawler.settings.getfloat("WIREARCHIVE_REJECTED_RETRY")
            setattr(crawler, STATE_ATTRIBUTE, state)
        return state

    # -- lookups --------------------------------------------------------------------------

    def known_url(self, url: str) -> Known | None:
        """Return the article a URL leads to, pending ones included."""
        pending = self.pending_urls.get(url)
        if pending is not None:
            return Known(pending, self.pending[pending].key, "article")
        return self.index.url(url)

    def needless(self, url: str) -> str | None:
        """Why a listed URL needs no request now, if it does not.

        ``"skipped"``: the index knows it (archived, or recorded as a duplicate; with
        ``--refresh`` archived articles are asked again); ``"retry_later"``: it was rejected
        for a lasting reason and its back-off has not run out.
        """
        known = self.known_url(url)
        if known is not None and not (self.refresh and known.kind == "article"):
            return "skipped"
        if self.retry_base > 0 and not self.refresh:
            rejection = self.index.rejection(url)
            if rejection is not None and rejection.retry_at > time.time():
                return "retry_later"
        return None

    def reject(self, url: str, reason: str) -> None:
        """Remember a lasting rejection of a listed URL; its back-off doubles each time."""
        if self.retry_base <= 0 or not is_lasting(reason):
            return
        previous = self.index.rejection(url)
        self.index.record_rejection(
            url, next_rejection(previous, reason, time.time(), self.retry_base)
        )

    def admit(self, article: Article) -> Duplicate | str | None:
        """Return a Duplicate, ``"unchanged"``/``"revision"`` for the article itself, or None.

        None means a new original, now held as pending until ``commit`` or ``release``.
        """
        key, _raw = article_keys(article)
        for url in (article.canonical_url, article.url):
            known = self.known_url(url)
            if known is None:
                continue
            if known.article_id == article.id:
                return self.revision(article)
            return self.duplicate(article, known.article_id, known.key, "url", 1.0)
        return self.originals.admit(self, article, key)

    def revision(self, article: Article) -> str:
        """Return ``"unchanged"``, or ``"revision"`` (its version set, held as pending)."""
        known = self.index.article(article.id)
        if known is None or not self.refresh:
            return "unchanged"  # in flight in this run, or archived and listed again
        _key, content_sha256, versions = known
        if content_sha256 == article.content_sha256:
            return "unchanged"
        article.version = versions + 1
        self.originals.reserve(self, article, article_keys(article)[0])  # the key has it
        return "revision"

    def duplicate(
        self, article: Article, original: str, original_key: str, kind: str, similarity: float
    ) -> Duplicate:
        """Return the Duplicate record of an article that copies ``original``."""
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

    def hold(self, pending: Pending, article: Article) -> None:
        """Hold an original as pending while it is written (the strategies call this)."""
        self.pending[article.id] = pending
        for url in article.urls():
            self.pending_urls.setdefault(url, article.id)

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
        self.originals.commit(self, article, self.index_entry(article, key))
        self._drop(article)
        self.release_urls(article.urls())

    def release(self, article: Article) -> None:
        """Forget a pending original whose write failed: the next run fetches it again."""
        pending = self._drop(article)
        if pending is not None:
            self.originals.abandon(pending)
        self.release_urls(article.urls())

    def _drop(self, article: Article) -> Pending | None:
        pending = self.pending.pop(article.id, None)
        if pending is not None:
            self.pending_urls = {u: i for u, i in self.pending_urls.items() if i != article.id}
        return pending

    def record_duplicate(self, duplicate: Duplicate) -> None:
        """Index a duplicate's URLs after its record was written."""
        record_index_entry(self.index, duplicate_entry(duplicate))
        self.release_urls(duplicate.urls or (duplicate.url,))

    # -- distributed mode: who fetches a URL ----------------------------------------------

    def claim_url(self, url: str) -> bool:
        """Claim the fetch of a (canonical) URL for this worker; True on one machine."""
        shared = self.shared
        if shared is None:
            return True
        if not shared.index.claim_url(url, shared.worker, shared.ttl):
            return False
        self.url_claims.add(url)
        return True

    def release_urls(self, urls: Iterable[str]) -> None:
        """Give back the URL claims among ``urls`` (canonical forms) this worker holds."""
        shared = self.shared
        if shared is None or not self.url_claims:
            return
        for url in {canonicalize_url(u) for u in urls if u} & self.url_claims:
            self.url_claims.discard(url)
            shared.index.release_url(url, shared.worker)

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
            # Claims of pages that failed or were rejected: free now, not at their deadline.
            self.release_urls(list(self.url_claims))
            self.originals.finish(self)
        finally:
            self.index.close()
