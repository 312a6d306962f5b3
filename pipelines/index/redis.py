"""The dedup index in Redis: shared by N crawl workers, with atomic check-and-set.

``RedisIndex`` is an ``Index`` like ``sqlite.StateIndex`` (same lookups, records and
repairs), plus what a single process does not need: URL and original claims
(``redis_claims.py``), near-duplicate blocks pruned as a whole (``redis_near.py``). The
byte layout is in ``redis_codec.py``; every multi-key change is one Lua script in ``lua/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import cast

from pipelines.dedup.fingerprints import Signature, signature_of
from pipelines.index.base import Known, NearMatch, text_hash, url_hash
from pipelines.index.redis_claims import Claim, RedisClaims
from pipelines.index.redis_codec import (
    KEYS_PER_HASH,
    aid_field,
    parse_key_value,
    signature_part,
)
from pipelines.index.redis_near import RedisNear
from pipelines.index.rejections import Rejection

# Importable from here too: the claim is part of this index's API (see redis_claims.py).
__all__ = ["Claim", "RedisIndex", "ReplaceConflict"]

FORGET_BATCH = 1024  # URL buckets read by one forget script: a few ms of Redis time each
REPLACE_TRIES = 3


class ReplaceConflict(RuntimeError):
    """An article's index entry kept changing while its text was being replaced."""


class RedisIndex(RedisClaims, RedisNear):
    """The dedup index of one archive in Redis, shared by every worker of a crawl."""

    # -- lookups (archived articles only, as StateIndex) -----------------------------------

    def url(self, url: str) -> Known | None:
        """Return the article a URL belongs to, if the index knows the URL."""
        field = url_hash(url)
        value = cast("bytes | None", self.r.hget(self._hkey("u", field), field))
        if value is None:
            return None
        if value.startswith(b"="):
            aid, _, kind = value[1:].decode("utf-8").rpartition(":")
            return Known(aid, "", kind)
        doc, _, kind_b = value.partition(b":")
        kind = kind_b.decode("utf-8") or "article"
        found = self._docs([int(doc)])
        if not found:
            return None
        return Known(found[0].article_id, found[0].key, kind)

    def text(self, fingerprint: str) -> Known | None:
        """Return the archived article with this exact-text fingerprint, if any."""
        doc = self._doc_of("t", text_hash(fingerprint))
        found = self._docs([doc]) if doc is not None else []
        if not found or found[0].state != "c":
            return None
        return Known(found[0].article_id, found[0].key, "exact")

    def near_match(
        self, text: str, signature: Signature | None = None, *, pending: bool = False
    ) -> NearMatch | None:
        """Return the archived article (or, with ``pending``, in-flight claim) text copies.

        ``signature``: the text's, when the caller made it already.
        """
        sig = signature_of(text) if signature is None else signature
        if sig is None:
            return None
        best = self._near(sig, pending=pending)
        if best is None:
            return None
        return NearMatch(best[0].article_id, best[0].key, best[1].jaccard)

    def article(self, article_id: str) -> tuple[str, str, int] | None:
        """Return (key, content_sha256, versions) of an archived article."""
        doc = self._doc_of("a", aid_field(article_id))
        found = self._docs([doc]) if doc is not None else []
        if not found or found[0].state != "c":
            return None
        return found[0].key, found[0].sha.hex(), found[0].version

    def articles(self) -> list[tuple[str, str]]:
        """Return (article id, JSON key) of every indexed article (reads every doc's key)."""
        last = int(self.r.get(self.prefix + "seq") or 0)
        pipe = self.r.pipeline(transaction=False)
        for block in range(last // KEYS_PER_HASH + 1):
            pipe.hgetall(self._keytab(block * KEYS_PER_HASH))
        pipe.hkeys(self.prefix + "pend")
        *tables, pending = pipe.execute()
        held = set(pending)  # claims in flight are not archived articles
        return sorted(
            parse_key_value(value)
            for table in tables
            for doc, value in table.items()
            if doc not in held
        )

    # -- records (after the archive write succeeded) ---------------------------------------

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
        """Index an archived article: its URLs, its exact text, and its near-dup signature.

        ``signature``: the text's, when the caller made it already.
        """
        sig = None if version != 1 else signature or signature_of(text)
        self._record(
            article_id,
            key,
            fingerprint,
            sig,
            content_sha256=content_sha256,
            urls=urls,
            version=version,
        )

    def record_urls(self, urls: Iterable[str], article_id: str, kind: str) -> None:
        """Index URLs that lead to an archived article (duplicates, aliases)."""
        doc = self._doc_of("a", aid_field(article_id))
        suffix = "" if kind == "article" else f":{kind}"
        value = f"={article_id}:{kind}" if doc is None else f"{doc}{suffix}"
        keys, fields = self._url_args(urls)
        pipe = self.r.pipeline(transaction=False)
        for key, field in zip(keys, fields, strict=True):
            pipe.hsetnx(key, field, value)
        pipe.execute()

    # -- repairs (verify, reextract) -------------------------------------------------------

    def replace_text(
        self, article_id: str, key: str, content_sha256: str, fingerprint: str, text: str
    ) -> None:
        """Re-index an article whose text was re-extracted: new fingerprint and signature.

        The doc keeps its key (``key`` is the one it was archived under); an article the
        index does not know stays unknown (``verify --repair`` indexes it).
        """
        aid = aid_field(article_id)
        new_fp = text_hash(fingerprint)
        sig = signature_of(text)
        new_keys, new_fields = self._band_args(sig)
        for _ in range(REPLACE_TRIES):
            doc = self._doc_of("a", aid)
            found = self._docs([doc]) if doc is not None else []
            if not found or found[0].state != "c":
                return
            old = found[0]
            old_keys, old_fields = self._band_args(old.signature)
            if self._scripts["replace_text"](
                keys=[
                    self._hkey("a", aid),
                    self._hkey("t", old.fingerprint),
                    self._hkey("t", new_fp),
                    *old_keys,
                    *new_keys,
                ],
                args=[
                    self.prefix,
                    aid,
                    str(old.doc),
                    old.fingerprint,
                    new_fp,
                    bytes.fromhex(content_sha256),
                    signature_part(sig),
                    len(old_keys),
                    *old_fields,
                    *new_fields,
                ],
            ):
                return
        raise ReplaceConflict(
            f"the index entry of article {article_id} kept changing while its text was "
            "replaced; run the re-extraction again"
        )

    def forget(self, article_id: str) -> None:
        """Drop an article and everything pointing at it (its object is gone): refetch it.

        A repair: the URLs leading to it are found by reading every URL bucket.
        """
        doc = self._doc_of("a", aid_field(article_id))
        for found in self._docs([doc] if doc is not None else []):
            self._drop_doc(
                found.doc,
                article_id=article_id,
                fingerprint=found.fingerprint,
                signature=found.signature,
                mode="any",
                worker="",
            )
        buckets = self._hkeys("u")
        for at in range(0, len(buckets), FORGET_BATCH):
            self._scripts["forget_urls"](
                keys=buckets[at : at + FORGET_BATCH],
                args=["" if doc is None else str(doc), article_id],
            )

    # -- conditional GET and metadata ------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the (ETag, Last-Modified) last seen for a feed or sitemap URL."""
        value = self.r.hget(self.prefix + "v", url)
        if value is None:
            return None, None
        etag, modified = json.loads(value)
        return etag, modified

    def save_validators(self, entries: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Remember validators; the caller saves them only after a run that lost nothing."""
        pipe = self.r.pipeline(transaction=True)
        for url, etag, modified in entries:
            pipe.hset(self.prefix + "v", url, json.dumps([etag, modified]))
        pipe.execute()

    # -- pages rejected for a lasting reason (see pipelines/index/rejections.py) ---------------

    def rejection(self, url: str) -> Rejection | None:
        """Return what is remembered of a URL's last rejections, if any."""
        value = cast("bytes | None", self.r.hget(self.prefix + "rj", url_hash(url)))
        if value is None:
            return None
        reason, attempts, retry_at = value.decode("utf-8").split(" ")
        return Rejection(reason, int(attempts), float(retry_at))

    def record_rejection(self, url: str, rejection: Rejection) -> None:
        """Remember a URL's rejection until it may be asked for again."""
        value = f"{rejection.reason} {rejection.attempts} {rejection.retry_at:.0f}"
        self.r.hset(self.prefix + "rj", url_hash(url), value)

    def get_meta(self, name: str) -> str | None:
        """Return a metadata value."""
        value = cast("bytes | None", self.r.hget(self.prefix + "m", name))
        return None if value is None else value.decode("utf-8")

    def set_meta(self, name: str, value: str) -> None:
        """Set a metadata value."""
        self.r.hset(self.prefix + "m", name, value)
