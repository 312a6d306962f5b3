"""Claims in the Redis index: which worker fetches a URL, and which writes an original.

* ``claim_url``/``release_url``: one worker fetches a URL (``SET NX PX``; the claim
  expires when its worker dies);
* ``claim_original``/``commit_original``/``abandon_original``: one Lua script decides
  whether an article is new or a copy of an archived *or pending* one: same article id,
  same exact fingerprint, or a near-copy (``fingerprints.compare_many`` ported to Lua,
  over the signatures sharing an LSH bucket), and if new reserves its id, fingerprint and
  near-dup signature as *pending* with a deadline. The whole decision is one atomic
  script, so of N racing copies exactly one is ``mine``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

from pipelines.dedup.fingerprints import (
    CONTAINMENT_MATCH,
    JACCARD_FLOOR,
    JACCARD_MATCH,
    Signature,
)
from pipelines.index.base import text_hash, url_hash
from pipelines.index.redis_codec import aid_field, key_value, slot
from pipelines.index.redis_tables import RedisTables

ClaimStatus = Literal["mine", "article", "exact", "near"]


@dataclass(frozen=True)
class Claim:
    """The outcome of ``claim_original``: ours to write, or the original it duplicates.

    ``status`` is ``"mine"`` (write it, then ``commit_original`` or ``abandon_original``),
    ``"article"`` (this article id is archived, or in flight with another worker when
    ``pending``), or ``"exact"``/``"near"`` (a copy of ``article_id``, archived or pending).
    """

    status: ClaimStatus
    article_id: str
    key: str
    similarity: float = 1.0
    pending: bool = False
    doc: int = 0
    fingerprint: str = ""
    signature: Signature | None = None
    worker: str = ""

    @property
    def mine(self) -> bool:
        """Tell whether the caller holds the claim."""
        return self.status == "mine"


class RedisClaims(RedisTables):
    """The distributed life of a URL and of an original, across every worker of a crawl."""

    def claim_url(self, url: str, worker: str, ttl: float) -> bool:
        """Claim the fetch of a URL for ``ttl`` seconds; True if it is (now) ours."""
        key = f"{self.prefix}c:{url_hash(url).hex()}"
        if self.r.set(key, worker, nx=True, px=max(1, int(ttl * 1000))):
            return True
        return self.r.get(key) == worker.encode("utf-8")

    def release_url(self, url: str, worker: str) -> bool:
        """Drop a URL claim if it is still ours; True if dropped."""
        key = f"{self.prefix}c:{url_hash(url).hex()}"
        return bool(self._scripts["release_url"](keys=[key], args=[worker]))

    def claim_original(  # noqa: PLR0917 (the StateIndex-style positional signature)
        self,
        article_id: str,
        key: str,
        fingerprint: str,
        signature: Signature | None,
        worker: str,
        ttl: float,
    ) -> Claim:
        """Atomically decide whether an article is new (``mine``) or a copy of another.

        A claim (``mine``) is pending for ``ttl`` seconds: other workers see it as an
        original, and past the deadline the next claimant takes it over. Near copies
        are compared inside the same script (``fingerprints.compare_many`` in Lua) with
        the archived and live pending signatures sharing an LSH bucket.
        """
        aid = aid_field(article_id)
        fp = text_hash(fingerprint)
        band_keys_, band_fields = self._band_args(signature)
        now = int(self.r.time()[0])
        reply = self._scripts["claim_original"](
            keys=[self._hkey("a", aid), self._hkey("t", fp), *band_keys_],
            args=[
                self.prefix,
                aid,
                fp,
                key_value(article_id, key),
                slot(fingerprint, signature, now),
                worker,
                max(1, int(ttl * 1000)),
                repr(JACCARD_MATCH),
                repr(CONTAINMENT_MATCH),
                repr(JACCARD_FLOOR),
                *band_fields,
            ],
        )
        status = reply[0].decode("ascii")
        doc = int(reply[1])
        if status == "mine":
            return Claim("mine", article_id, key, 1.0, False, doc, fingerprint, signature, worker)
        found = self._docs([doc])
        other_id, other_key = (found[0].article_id, found[0].key) if found else ("", "")
        similarity = float(reply[3]) if len(reply) > 3 else 1.0
        return Claim(status, other_id, other_key, similarity, pending=bool(reply[2]), doc=doc)

    def commit_original(
        self, claim: Claim, *, content_sha256: str, urls: Iterable[str], version: int = 1
    ) -> bool:
        """Make a claim permanent after its archive write succeeded.

        False if the claim was lost (expired and taken over, or swept): then the
        article is recorded afresh, as the object is in the archive.
        """
        if not claim.mine:
            raise ValueError("not our claim")
        aid = aid_field(claim.article_id)
        url_keys, url_fields = self._url_args(urls)
        done = self._scripts["commit_original"](
            keys=[self._hkey("a", aid), *url_keys],
            args=[
                self.prefix,
                aid,
                str(claim.doc),
                bytes.fromhex(content_sha256),
                version,
                *url_fields,
            ],
        )
        if done:
            return True
        self._record(
            claim.article_id,
            claim.key,
            claim.fingerprint,
            claim.signature,
            content_sha256=content_sha256,
            urls=urls,
            version=version,
        )
        return False

    def abandon_original(self, claim: Claim) -> bool:
        """Remove our pending claim after a failed write; True if it was still ours."""
        return self._drop_doc(
            claim.doc,
            article_id=claim.article_id,
            fingerprint=claim.fingerprint,
            signature=claim.signature,
            mode="owner",
            worker=claim.worker,
        )

    def sweep(self, limit: int = 1000) -> int:
        """Remove pending claims past their deadline (their workers died); return how many."""
        seconds, micros = self.r.time()
        now = seconds * 1000 + micros // 1000
        members = cast("list[bytes]", self.r.zrangebyscore(self.prefix + "pendz", 0, now, 0, limit))
        expired = [int(d) for d in members]
        removed = 0
        for doc in self._docs(expired):
            if doc.state == "x":
                removed += self._drop_doc(
                    doc.doc,
                    article_id=doc.article_id,
                    fingerprint=doc.fingerprint,
                    signature=doc.signature,
                    mode="expired",
                    worker="",
                )
        return removed

    def pending_count(self) -> int:
        """Return how many claims are pending (live or expired, not yet swept)."""
        return int(self.r.hlen(self.prefix + "pend"))
