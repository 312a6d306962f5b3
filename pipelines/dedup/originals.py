"""Who decides "original or copy", and holds this run's originals while they are written.

The strategies of the dedup decision (pipelines/dedup/decision.py): ``LocalOriginals``
(one machine: the archive's SQLite index plus this run's pending originals in memory) or
``SharedOriginals`` (distributed mode: the Redis index, where one atomic
``claim_original`` decides and reserves across every worker, and URL claims say which
worker fetches a page).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pipelines.archive.spool import record_index_entry
from pipelines.archive.stores import Store
from pipelines.index.near import NearIndex
from pipelines.index.redis import Claim, RedisIndex
from pipelines.index.sqlite import StateIndex
from pipelines.items import Article, Duplicate
from pipelines.urls import canonicalize_url

if TYPE_CHECKING:
    from pipelines.dedup.decision import DedupDecision


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


def default_worker() -> str:
    """Return this process's worker name in distributed mode: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Originals(Protocol):
    """Decide whether an article is a new original and reserve it; then commit or abandon."""

    def admit(self, decision: DedupDecision, article: Article, key: str) -> Duplicate | str | None:
        """Return a Duplicate, ``"unchanged"``/``"revision"``, or None (reserved: ours)."""

    def commit(self, decision: DedupDecision, article: Article, entry: dict[str, Any]) -> None:
        """Index an original after its archive write succeeded."""

    def reserve(self, decision: DedupDecision, article: Article, key: str) -> None:
        """Hold an original or a revision as pending while it is written."""

    def abandon(self, pending: Pending) -> None:
        """Forget a reserved original whose write failed."""

    def claim_url(self, url: str) -> bool:
        """Claim the fetch of a (canonical) URL for this worker."""

    def release_urls(self, urls: Iterable[str]) -> None:
        """Give back the URL claims among ``urls`` this worker holds."""

    def finish(self, store: Store) -> None:
        """Persist the index at the end of a run (the caller closes it)."""


class LocalOriginals:
    """One machine: the archive's SQLite index, plus this run's pending originals in memory."""

    def __init__(self, index: StateIndex) -> None:
        self.index = index
        self.pending_texts: dict[str, str] = {}  # fingerprint -> pending article id
        self.pending_near = NearIndex(sqlite3.connect(":memory:", check_same_thread=False))

    def admit(self, decision: DedupDecision, article: Article, key: str) -> Duplicate | str | None:
        """Look for an exact or near copy (archived or pending); reserve an original."""
        fingerprint = article.fingerprint()
        pending = self.pending_texts.get(fingerprint)
        if pending is not None:
            original_key = decision.pending[pending].key
            return decision.duplicate(article, pending, original_key, "exact", 1.0)
        known = self.index.text(fingerprint)
        if known is not None:
            return decision.duplicate(article, known.article_id, known.key, "exact", 1.0)
        # The in-run index holds only originals still being written: the rest are in SQLite.
        signature = article.signature()
        match = None
        if signature is not None:
            match = self.pending_near.find_signature(signature) or self.index.near_match(
                article.text, signature
            )
        if match is not None:
            return decision.duplicate(
                article, match.article_id, match.key, "near", match.similarity
            )
        self.reserve(decision, article, key)
        return None

    def reserve(self, decision: DedupDecision, article: Article, key: str) -> None:
        """Hold an original (or a revision) as pending while it is written."""
        fingerprint = article.fingerprint()
        decision.hold(Pending(article.id, key, fingerprint), article)
        self.pending_texts.setdefault(fingerprint, article.id)
        signature = article.signature()
        if signature is not None:
            self.pending_near.add_signature(article.id, key, signature, time.time())

    def commit(self, decision: DedupDecision, article: Article, entry: dict[str, Any]) -> None:
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

    def claim_url(self, url: str) -> bool:
        """One machine: every URL is ours to fetch."""
        return True

    def release_urls(self, urls: Iterable[str]) -> None:
        """One machine: no claims to give back."""

    def finish(self, store: Store) -> None:
        """Upload the index to the archive."""
        self.index.save(store)


class SharedOriginals:
    """Distributed mode: one atomic ``claim_original`` in Redis decides and reserves."""

    def __init__(self, index: RedisIndex, worker: str, ttl: float) -> None:
        self.index = index
        self.worker = worker
        self.ttl = ttl
        self.url_claims: set[str] = set()  # canonical URLs this worker claimed to fetch

    def admit(self, decision: DedupDecision, article: Article, key: str) -> Duplicate | str | None:
        """Claim the article: ours, itself (archived or in flight elsewhere), or a copy."""
        fingerprint = article.fingerprint()
        claim = self.index.claim_original(
            article.id, key, fingerprint, article.signature(), self.worker, self.ttl
        )
        if claim.mine:
            decision.hold(Pending(article.id, key, fingerprint, claim), article)
            return None
        if claim.status == "article":
            # Another worker is writing it now; or archived (a revision, with --refresh).
            return "unchanged" if claim.pending else decision.revision(article)
        return decision.duplicate(
            article, claim.article_id, claim.key, claim.status, claim.similarity
        )

    def reserve(self, decision: DedupDecision, article: Article, key: str) -> None:
        """Hold a revision as pending: no claim, the article id is archived already."""
        decision.hold(Pending(article.id, key, article.fingerprint()), article)

    def commit(self, decision: DedupDecision, article: Article, entry: dict[str, Any]) -> None:
        """Make our claim permanent; a revision (no claim) is recorded as on one machine."""
        pending = decision.pending.get(article.id)
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

    def claim_url(self, url: str) -> bool:
        """Claim the fetch of a canonical URL for this worker, for the claim TTL."""
        if not self.index.claim_url(url, self.worker, self.ttl):
            return False
        self.url_claims.add(url)
        return True

    def release_urls(self, urls: Iterable[str]) -> None:
        """Give back the URL claims among ``urls`` (any form) this worker holds."""
        if not self.url_claims:
            return
        for url in {canonicalize_url(u) for u in urls if u} & self.url_claims:
            self.url_claims.discard(url)
            self.index.release_url(url, self.worker)

    def finish(self, store: Store) -> None:
        """Give back the URL claims left; the shared index itself is up to date already."""
        # Claims of pages that failed or were rejected: free now, not at their deadline.
        self.release_urls(list(self.url_claims))
