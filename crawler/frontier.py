"""The shared frontier of distributed mode: article requests queued in Redis for N workers.

Any worker pops the next article request, whichever worker discovered it, so one large
source (a backfill of years of sitemaps) is fetched by every worker at once. Feeds,
sitemaps and listing pages never enter it: the worker holding a source's lease reads them
each run (they would otherwise be fetched by every worker, see DESIGN.md).

Unlike scrapy-redis's queue, a popped request is not forgotten: it stays *in flight*
with a deadline until its worker reports it done, so a killed worker's requests come back.

Keys (under the archive's Redis prefix, next to the dedup index):

* ``f:r``: hash fingerprint -> the serialized request; a fingerprint is here from the
  moment the request is queued until it is done, so this is also the seen filter: a URL
  listed again while queued or in flight is not queued twice;
* ``f:q``: list of fingerprints waiting for a worker, oldest first;
* ``f:fly``: sorted set fingerprint -> deadline (ms, Redis clock) of popped requests.
  Past its deadline a request is put back in the queue by the next worker to start
  (``requeue_expired``); a worker renews the deadlines of what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import redis

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: r, q; ARGV: fingerprint, request
_PUSH = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""

# KEYS: q, fly, r; ARGV: ttl_ms. Returns {fingerprint, request} or nil.
_POP = (
    _NOW
    + """
for _ = 1, 100 do
  local fp = redis.call('LPOP', KEYS[1])
  if not fp then return nil end
  local data = redis.call('HGET', KEYS[3], fp)
  if data then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), fp)
    return {fp, data}
  end
end
return nil
"""
)

# KEYS: fly; ARGV: delay_ms, fingerprints... (only those still in flight)
_DEFER = (
    _NOW
    + """
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
return n
"""
)

# KEYS: fly, q; ARGV: fingerprints... -> back at the head of the queue
_GIVE_BACK = """
local n = 0
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[i])
    n = n + 1
  end
end
return n
"""

# KEYS: fly, q; ARGV: limit
_REQUEUE = (
    _NOW
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, fp in ipairs(expired) do
  redis.call('ZREM', KEYS[1], fp)
  redis.call('RPUSH', KEYS[2], fp)
end
return #expired
"""
)


class Frontier:
    """The shared request queue of one archive (see the module docstring)."""

    def __init__(self, client: redis.Redis, prefix: str, ttl: float) -> None:
        self.r = client
        self.ttl_ms = max(1, int(ttl * 1000))
        self.requests = prefix + "f:r"
        self.queue = prefix + "f:q"
        self.flying = prefix + "f:fly"
        self._push = client.register_script(_PUSH)
        self._pop = client.register_script(_POP)
        self._defer = client.register_script(_DEFER)
        self._give_back = client.register_script(_GIVE_BACK)
        self._requeue = client.register_script(_REQUEUE)

    def push(self, fingerprint: str, request: bytes) -> bool:
        """Queue a request; False if the same request is already queued or in flight."""
        return bool(self._push(keys=[self.requests, self.queue], args=[fingerprint, request]))

    def pop(self) -> tuple[str, bytes] | None:
        """Take the next request, in flight until ``done``; None when the queue is empty."""
        found = self._pop(keys=[self.queue, self.flying, self.requests], args=[self.ttl_ms])
        if not found:
            return None
        fingerprint, request = cast("list[bytes]", found)
        return fingerprint.decode("ascii"), request

    def done(self, fingerprints: Iterable[str]) -> None:
        """Forget requests whose pages are archived, recorded or rejected for good."""
        names = list(fingerprints)
        if names:
            with self.r.pipeline(transaction=True) as batch:
                batch.zrem(self.flying, *names)
                batch.hdel(self.requests, *names)
                batch.execute()

    def defer(self, fingerprints: Iterable[str], delay: float) -> int:
        """Keep requests in flight for ``delay`` more seconds, then let a worker retry them."""
        names = list(fingerprints)
        if not names:
            return 0
        return int(self._defer(keys=[self.flying], args=[max(1, int(delay * 1000)), *names]))

    def renew(self, fingerprints: Iterable[str]) -> int:
        """Push back the deadlines of requests this worker still holds."""
        return self.defer(fingerprints, self.ttl_ms / 1000)

    def give_back(self, fingerprints: Iterable[str]) -> int:
        """Put requests this worker will not finish back at the head of the queue."""
        names = list(fingerprints)
        if not names:
            return 0
        return int(self._give_back(keys=[self.flying, self.queue], args=names))

    def requeue_expired(self, limit: int = 10_000) -> int:
        """Queue again the requests of workers that died holding them; return how many."""
        return int(self._requeue(keys=[self.flying, self.queue], args=[limit]))

    def queued(self) -> int:
        """Return how many requests wait for a worker."""
        return int(self.r.llen(self.queue))

    def in_flight(self) -> int:
        """Return how many requests workers hold (live or past their deadline)."""
        return int(self.r.zcard(self.flying))
