"""The dedup decision: is a fetched article itself, a copy of an archived one, or an original?

In this order: a revision or an unchanged re-fetch of itself; a ``url`` duplicate (its
canonical or final URL belongs to another article); then the strategy's ``exact`` or
``near`` copy; else an original. Originals being written in this run are held as
*pending* so that copies arriving while the first is still in flight are recognised too;
they join the persistent index only once their archive write succeeded. Who finds exact
and near copies and reserves originals is a strategy (pipelines/dedup/originals.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipelines.archive.keys import article_keys
from pipelines.archive.spool import record_index_entry
from pipelines.dedup.originals import Originals, Pending, duplicate_entry
from pipelines.index.base import Index, Known
from pipelines.items import Article, Duplicate
from pipelines.urls import article_id


class DedupDecision:
    """Classify each article against the index and the originals this run has in flight."""

    def __init__(self, index: Index, originals: Originals, *, refresh: bool = False) -> None:
        self.index = index
        self.originals = originals
        self.refresh = refresh  # --refresh: an archived article fetched again may be revised
        self.pending: dict[str, Pending] = {}
        self.pending_urls: dict[str, str] = {}  # URL -> pending article id

    def known_url(self, url: str) -> Known | None:
        """Return the article a URL leads to, pending ones included."""
        pending = self.pending_urls.get(url)
        if pending is not None:
            return Known(pending, self.pending[pending].key, "article")
        return self.index.url(url)

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

    def index_entry(
        self, article: Article, key: str, aliases: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Return what the index records for an archived original (JSON-ready, for the spool)."""
        pending = self.pending.get(article.id)
        return {
            "kind": "article",
            "article_id": article.id,
            "key": key,
            "content_sha256": article.content_sha256,
            "urls": [*article.urls(), *aliases],
            "fingerprint": pending.fingerprint if pending else article.fingerprint(),
            "text": article.text,
            "version": article.version,
        }

    def commit(self, article: Article, key: str, aliases: Iterable[str] = ()) -> None:
        """Index an original after its archive write succeeded."""
        self.originals.commit(self, article, self.index_entry(article, key, aliases))
        self._drop(article)
        self.originals.release_urls(article.urls())

    def release(self, article: Article) -> None:
        """Forget a pending original whose write failed: the next run fetches it again."""
        pending = self._drop(article)
        if pending is not None:
            self.originals.abandon(pending)
        self.originals.release_urls(article.urls())

    def _drop(self, article: Article) -> Pending | None:
        pending = self.pending.pop(article.id, None)
        if pending is not None:
            self.pending_urls = {u: i for u, i in self.pending_urls.items() if i != article.id}
        return pending

    def record_duplicate(self, duplicate: Duplicate) -> None:
        """Index a duplicate's URLs after its record was written."""
        record_index_entry(self.index, duplicate_entry(duplicate))
        self.originals.release_urls(duplicate.urls or (duplicate.url,))
