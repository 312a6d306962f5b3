"""What every dedup index offers, whichever backend holds it, and the values it returns.

Two backends implement ``Index``: ``sqlite.StateIndex`` (one machine, an embedded file)
and ``redis.RedisIndex`` (N workers sharing one Redis); ``backends.open_index`` picks one.
Both key URLs and texts by the same short hashes, defined here once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pipelines.archive.stores import Store
from pipelines.dedup.fingerprints import Signature
from pipelines.index.rejections import Rejection

URL_HASH_BYTES = 12
TEXT_HASH_BYTES = 16


def url_hash(url: str) -> bytes:
    """Return the 12-byte key of a URL in the index (collisions: ~1 in 10^14 at 1M URLs)."""
    return hashlib.sha256(url.encode("utf-8")).digest()[:URL_HASH_BYTES]


def text_hash(fingerprint: str) -> bytes:
    """Return the index key of an exact-text fingerprint (hex)."""
    return bytes.fromhex(fingerprint)[:TEXT_HASH_BYTES]


@dataclass(frozen=True)
class Known:
    """What the index knows of a URL or a text: the article it belongs to."""

    article_id: str
    key: str
    kind: str


@dataclass(frozen=True, slots=True)
class NearMatch:
    """The indexed article a text is a near-copy of."""

    article_id: str
    key: str
    similarity: float


class Index(Protocol):
    """The dedup index of one archive: lookups, and records made after archive writes."""

    # -- lookups (archived articles only) ------------------------------------------------

    def url(self, url: str) -> Known | None:
        """Return the article a URL belongs to, if the index knows the URL."""

    def text(self, fingerprint: str) -> Known | None:
        """Return the archived article with this exact-text fingerprint, if any."""

    def near_match(self, text: str, signature: Signature | None = None) -> NearMatch | None:
        """Return the archived article this text is a near-copy of (``signature``: of text)."""

    def article(self, article_id: str) -> tuple[str, str, int] | None:
        """Return (key, content_sha256, versions) of an archived article."""

    def articles(self) -> list[tuple[str, str]]:
        """Return (article id, JSON key) of every indexed article."""

    # -- records (after the archive write they describe succeeded) ------------------------

    def record_article(
        self,
        *,
        article_id: str,
        key: str,
        content_sha256: str,
        urls: Iterable[str],
        fingerprint: str,
        text: str,
        version: int = 1,
        signature: Signature | None = None,
    ) -> None:
        """Index an archived article (``signature``: of ``text``, if already made)."""

    def record_urls(self, urls: Iterable[str], article_id: str, kind: str) -> None:
        """Index URLs that lead to an archived article (duplicates, aliases)."""

    def replace_text(
        self, article_id: str, key: str, content_sha256: str, fingerprint: str, text: str
    ) -> None:
        """Re-index an article whose text was re-extracted: new fingerprint and signature."""

    def forget(self, article_id: str) -> None:
        """Drop an article and everything pointing at it (its object is gone): refetch it."""

    def prune_near(self, days: float) -> int:
        """Forget near-dup entries indexed over ``days`` ago (returns: see each backend)."""

    # -- conditional GET and lasting rejections -------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the (ETag, Last-Modified) last seen for a feed or sitemap URL."""

    def save_validators(self, entries: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Remember validators; the caller saves them only after a run that lost nothing."""

    def rejection(self, url: str) -> Rejection | None:
        """Return what is remembered of a URL's last rejections, if any."""

    def record_rejection(self, url: str, rejection: Rejection) -> None:
        """Remember a URL's rejection until it may be asked for again."""

    def save(self, store: Store, *, rebuild: bool = False) -> None:
        """Make what was recorded durable beside the archive in ``store``.

        ``rebuild``: the index was rebuilt from the archive's objects (``verify --repair``):
        write it whole rather than as changes.
        """

    def close(self) -> None:
        """Close the index."""
