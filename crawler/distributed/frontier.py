"""The shared frontier of distributed mode: article requests queued in Redis for N workers.

Any worker may fetch an article page, whichever worker discovered it, so one large source
(a backfill of years of sitemaps) is fetched by several workers at once. Feeds, sitemaps
and listing pages never enter it: the worker holding a source's lease reads them each run
(they would otherwise be fetched by every worker, see DESIGN.md).

One queue per source: the worker that discovered a source fetches from that source's
queue, so a cron run ends once its own sources are done, however long another source's
backfill queue is; a helper takes from a random non-empty queue, so a backfill does not
starve fresh pages.

Unlike scrapy-redis's queue, a popped request is not forgotten: it stays *in flight*
with a deadline until its worker reports it done, so a killed worker's requests come back.

Keys (under the archive's Redis prefix, next to the dedup index):

* ``f:r``: hash fingerprint -> ``<source>\\n<serialized request>``; a fingerprint is here
  from the moment it is queued until it is done, so this is also the seen filter: a URL
  listed again while queued or in flight is not queued twice;
* ``f:q:<source>``: list of fingerprints waiting for a worker, oldest first;
* ``f:src``: set of the sources whose queue is not empty;
* ``f:fly``: sorted set fingerprint -> deadline (ms, Redis clock) of popped requests.
  Past its deadline a request is put back in its queue by the next worker to start
  (``requeue_expired``); a worker renews the deadlines of what it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import redis

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Put a fingerprint back at the head (or tail) of its source's queue.
_REQUEUE_ONE = """
local function requeue(prefix, fp, head)
  local data = redis.call('HGET', prefix .. 'f:r', fp)
  if not data then return 0 end
  local source = string.sub(data, 1, string.find(data, '\\n', 1, true) - 1)
  redis.call(head and 'LPUSH' or 'RPUSH', prefix .. 'f:q:' .. source, fp)
  redis.call('SADD', prefix .. 'f:src', source)
  return 1
end
"""

# KEYS: r, q, src; ARGV: fingerprint, source, request
_PUSH = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2] .. '\\n' .. ARGV[3]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
  return 1
end
return 0
"""

# KEYS: r, fly, src; ARGV: prefix, ttl_ms, source ('' for any). Returns {fp, request} or nil.
_POP = (
    _NOW
    + """
local prefix, wanted = ARGV[1], ARGV[3]
for _ = 1, 100 do
  local source = wanted
  if source == '' then
    source = redis.call('SRANDMEMBER', KEYS[3])
    if not source then return nil end
  end
  local queue = prefix .. 'f:q:' .. source
  local fp = redis.call('LPOP', queue)
  if redis.call('LLEN', queue) == 0 then redis.call('SREM', KEYS[3], source) end
  if fp then
    local data = redis.call('HGET', KEYS[1], fp)
    if data then
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), fp)
      return {fp, string.sub(data, string.find(data, '\\n', 1, true) + 1)}
    end
  elseif wanted ~= '' then
    return nil
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

# KEYS: fly; ARGV: prefix, fingerprints... -> back at the head of their queues
_GIVE_BACK = (
    _REQUEUE_ONE
    + """
local n = 0
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then n = n + requeue(ARGV[1], ARGV[i], true) end
end
return n
"""
)

# KEYS: fly; ARGV: prefix, limit
_REQUEUE = (
    _NOW
    + _REQUEUE_ONE
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, fp in ipairs(expired) do
  redis.call('ZREM', KEYS[1], fp)
  n = n + requeue(ARGV[1], fp, true)
end
return n
"""
)


class Frontier:
    """The shared request queues of one archive (see the module docstring)."""

    def __init__(self, client: redis.Redis, prefix: str, ttl: float) -> None:
        self.r = client
        self.prefix = prefix
        self.ttl_ms = max(1, int(ttl * 1000))
        self.requests = prefix + "f:r"
        self.sources = prefix + "f:src"
        self.flying = prefix + "f:fly"
        self._push = client.register_script(_PUSH)
        self._pop = client.register_script(_POP)
        self._defer = client.register_script(_DEFER)
        self._give_back = client.register_script(_GIVE_BACK)
        self._requeue = client.register_script(_REQUEUE)

    def queue(self, source: str) -> str:
        """Return the key of a source's queue."""
        return f"{self.prefix}f:q:{source}"

    def push(self, fingerprint: str, source: str, request: bytes) -> bool:
        """Queue a source's request; False if it is already queued or in flight."""
        keys = [self.requests, self.queue(source), self.sources]
        return bool(self._push(keys=keys, args=[fingerprint, source, request]))

    def pop(self, source: str | None = None) -> tuple[str, bytes] | None:
        """Take the next request of ``source`` (None: of any source), in flight until done."""
        found = self._pop(
            keys=[self.requests, self.flying, self.sources],
            args=[self.prefix, self.ttl_ms, source or ""],
        )
        if not found:
            return None
        fingerprint, request = cast("list[bytes]", found)
        return fingerprint.decode("ascii"), request

    def with_work(self, sources: Sequence[str] | None = None) -> list[str]:
        """Return which of ``sources`` (None: all) have requests waiting."""
        if sources is None:
            return sorted(s.decode() for s in cast("set[bytes]", self.r.smembers(self.sources)))
        if not sources:
            return []
        flags = cast("list[int]", self.r.smismember(self.sources, list(sources)))
        return [source for source, flag in zip(sources, flags, strict=True) if flag]

    def has_work(self, sources: Sequence[str] | None = None) -> bool:
        """Tell whether any of ``sources`` (None: any source) has requests waiting."""
        if sources is None:
            return bool(self.r.scard(self.sources))
        return bool(self.with_work(sources))

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
        """Put requests this worker will not finish back at the head of their queues."""
        names = list(fingerprints)
        if not names:
            return 0
        return int(self._give_back(keys=[self.flying], args=[self.prefix, *names]))

    def requeue_expired(self, limit: int = 10_000) -> int:
        """Queue again the requests of workers that died holding them; return how many."""
        return int(self._requeue(keys=[self.flying], args=[self.prefix, limit]))

    def queued(self, source: str | None = None) -> int:
        """Return how many requests wait for a worker (in one source's queue, or in all)."""
        names = [source] if source is not None else self.with_work()
        if not names:
            return 0
        with self.r.pipeline(transaction=False) as batch:
            for name in names:
                batch.llen(self.queue(name))
            return sum(cast("list[int]", batch.execute()))

    def in_flight(self) -> int:
        """Return how many requests workers hold (live or past their deadline)."""
        return int(self.r.zcard(self.flying))
