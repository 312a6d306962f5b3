"""Per-source leases of distributed mode: the worker holding a source's lease discovers it.

Discovery (feeds, sitemaps, listing pages, their validators) is one worker's job per
source; the article pages it finds go to the shared frontier, which every worker drains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import redis

from pipelines.archive.lock import LockLost


class SourceLeases:
    """Per-source leases in Redis: a source is crawled by the one worker holding its lease.

    ``SET <ns>lease:<source> <worker> NX PX <ttl>``, renewed while the crawl runs (see
    LeaseKeeper) and released at the end; a killed worker's leases expire after ``ttl``.
    """

    _RENEW = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('PEXPIRE', KEYS[1], ARGV[2])
    end
    return 0
    """
    _RELEASE = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """

    def __init__(self, client: redis.Redis, prefix: str, worker: str, ttl: float) -> None:
        self.r = client
        self.prefix = prefix
        self.worker = worker
        self.ttl_ms = max(1, int(ttl * 1000))
        self.names: list[str] = []  # the sources whose lease is ours
        self._renew = client.register_script(self._RENEW)
        self._release = client.register_script(self._RELEASE)

    @property
    def renew_interval(self) -> float:
        """Seconds between renewals: a third of the lease."""
        return self.ttl_ms / 3000

    def key(self, source: str) -> str:
        """Return the Redis key of a source's lease."""
        return f"{self.prefix}lease:{source}"

    def acquire(self, sources: Sequence[str]) -> dict[str, str]:
        """Take every free lease among ``sources``; return the others' holders by source."""
        held: dict[str, str] = {}
        for source in sources:
            key = self.key(source)
            if self.r.set(key, self.worker, nx=True, px=self.ttl_ms):
                self.names.append(source)
                continue
            holder = cast("bytes | None", self.r.get(key))
            if holder == self.worker.encode("utf-8"):
                # Left by an earlier run of the same worker name: ours again.
                self.r.set(key, self.worker, xx=True, px=self.ttl_ms)
                self.names.append(source)
            elif holder is None and self.r.set(key, self.worker, nx=True, px=self.ttl_ms):
                self.names.append(source)  # expired in between
            else:
                held[source] = (holder or b"?").decode("utf-8", "replace")
        return held

    def held_elsewhere(self, sources: Sequence[str]) -> dict[str, str]:
        """Return the other workers holding leases among ``sources``, by source."""
        if not sources:
            return {}
        values = cast("list[bytes | None]", self.r.mget([self.key(s) for s in sources]))
        mine = self.worker.encode("utf-8")
        return {
            source: holder.decode("utf-8", "replace")
            for source, holder in zip(sources, values, strict=True)
            if holder is not None and holder != mine
        }

    def renew(self) -> None:
        """Extend every lease; raise LockLost when one is no longer ours."""
        for source in self.names:
            if not self._renew(keys=[self.key(source)], args=[self.worker, self.ttl_ms]):
                raise LockLost(f"the lease of source {source} expired or was taken over")

    def release(self) -> None:
        """Give every lease back."""
        for source in self.names:
            self._release(keys=[self.key(source)], args=[self.worker])
        self.names = []
