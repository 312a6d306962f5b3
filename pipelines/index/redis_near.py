"""Near-duplicate lookups in the Redis index, and pruning signatures past the window.

A text's LSH buckets name candidate docs; their stored signatures are compared with
``fingerprints.compare_many`` and the best match wins. Only a recent window needs
signatures (syndication happens within days): docs are numbered in indexing order, so
whole signature blocks go, oldest first, and the near floor rises past them.
"""

from __future__ import annotations

import struct
from typing import cast

from pipelines.dedup.fingerprints import Comparison, Signature, compare_many
from pipelines.index.redis_codec import PER_SIG, SIG_BYTES, Doc
from pipelines.index.redis_tables import RedisTables

PRUNE_BLOCKS = 256  # signature blocks a prune call may drop: ~12k docs, about a second


class RedisNear(RedisTables):
    """The near-duplicate part of the Redis index: LSH candidates and the near window."""

    def _near(self, sig: Signature, *, pending: bool) -> tuple[Doc, Comparison] | None:
        """Return the best near match of a signature: archived, or pending too."""
        keys, fields = self._band_args(sig)
        if not keys:
            return None
        pipe = self.r.pipeline(transaction=False)
        for key, field in zip(keys, fields, strict=True):
            pipe.hget(key, field)
        docs: set[int] = set()
        for value in pipe.execute():
            if value:
                docs.update(struct.unpack(f">{len(value) // 4}I", value))
        states = {"c", "p"} if pending else {"c"}
        candidates = [
            d for d in self._docs(sorted(docs)) if d.state in states and d.signature is not None
        ]
        best: tuple[Doc, Comparison] | None = None
        sigs = [d.signature for d in candidates if d.signature is not None]
        for cand, result in zip(candidates, compare_many(sig, sigs), strict=True):
            if result.match and (best is None or result.jaccard > best[1].jaccard):
                best = (cand, result)
        return best

    def prune_near(
        self, days: float, *, now: float | None = None, max_blocks: int = PRUNE_BLOCKS
    ) -> int:
        """Forget the near-duplicate signatures of docs indexed more than ``days`` ago.

        Docs are numbered in indexing order, so whole signature blocks go, oldest first:
        their docs leave the LSH buckets, the blocks are deleted, then the near floor is
        raised past them (lookups ignore older docs; a signature block that is gone reads
        as no signature, so a prune cut short is finished by the next). At most ``max_blocks``
        blocks a call, so each run does a share. An old article keeps its URL and
        exact-text entries. Returns the floor.
        """
        seconds = float(self.r.time()[0]) if now is None else now
        cutoff = int(seconds - days * 86400)
        old, floor = (
            int(v) for v in self._scripts["plan_near_floor"](args=[self.prefix, cutoff, max_blocks])
        )
        for block in range(old // PER_SIG, floor // PER_SIG):
            key = f"{self.prefix}s:{block}"
            data = cast("bytes | None", self.r.get(key)) or b""
            keys: list[str] = []
            fields: list[bytes] = []
            for at in range(0, len(data) - SIG_BYTES + 1, SIG_BYTES):
                band_keys_, band_fields = self._band_args(data[at : at + SIG_BYTES])
                keys += band_keys_
                fields += band_fields
            if keys:
                self._scripts["unband_below_floor"](keys=keys, args=[floor, *fields])
            self.r.delete(key)
        if floor > old:
            self._scripts["raise_near_floor"](keys=[self.prefix + "nf"], args=[floor])
        return floor
