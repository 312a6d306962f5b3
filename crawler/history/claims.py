"""Distributed history backfills: the workers of one source share its CC-NEWS files.

A worker claims a file in Redis before scanning it (SET NX with the claim TTL, so a dead
worker's file comes free again) and gives the claim back once the file is finished or
given up; a finished file is skipped by its mark in the archive (progress.py). A file
can take longer than the TTL to scan and settle (a gigabyte over a slow link): the claims
a worker holds are renewed every third of the TTL meanwhile (FileUnits runs a LeaseKeeper).
"""

from __future__ import annotations

import logging
import threading

import redis

logger = logging.getLogger(__name__)

# Delete the claim only if it is still this worker's (it may have expired and been retaken).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Extend the claims still this worker's; return the keys that are not (expired, retaken).
RENEW = """
local lost = {}
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2])
  else table.insert(lost, key) end
end
return lost
"""


class FileClaims:
    """Claims on one source's CC-NEWS files, shared by the workers of a backfill."""

    def __init__(
        self, client: redis.Redis, prefix: str, source: str, worker: str, ttl: float
    ) -> None:
        self.client = client
        self.prefix = f"{prefix}:history:ccnews:{source}:"
        self.worker = worker
        self.ttl_ms = max(1, int(ttl * 1000))
        self.held: set[str] = set()  # the files claimed and not given back yet
        self.lock = threading.Lock()  # claimed by scanners, released by markers, renewed

    @property
    def renew_interval(self) -> float:
        """Seconds between renewals: a third of the TTL, so one missed renewal is no loss."""
        return self.ttl_ms / 3000

    def claim(self, file: str) -> bool:
        """Claim a file; False when another worker holds it. Redis down: scan it here."""
        try:
            taken = self.client.set(self.prefix + file, self.worker, nx=True, px=self.ttl_ms)
        except redis.RedisError as err:
            logger.error("cannot claim %s in redis, scanning it here: %s", file, err)
            return True
        if taken:
            with self.lock:
                self.held.add(file)
        return bool(taken)

    def release(self, file: str) -> None:
        """Give a claim back (the file is finished, or left for a later run)."""
        with self.lock:
            self.held.discard(file)
        try:
            self.client.eval(RELEASE, 1, self.prefix + file, self.worker)
        except redis.RedisError as err:
            logger.error("cannot release the claim on %s (it expires): %s", file, err)

    def renew(self) -> None:
        """Extend every claim held (a LeaseKeeper calls it); never raises."""
        with self.lock:
            files = sorted(self.held)
        if not files:
            return
        try:
            lost = self.client.eval(
                RENEW, len(files), *(self.prefix + f for f in files), self.worker, self.ttl_ms
            )
        except redis.RedisError as err:
            # The next renewal may reach it: a claim lasts three of these intervals.
            logger.error("cannot renew the claims on %d CC-NEWS files: %s", len(files), err)
            return
        for key in lost:
            file = (key.decode() if isinstance(key, bytes) else str(key))[len(self.prefix) :]
            with self.lock:
                self.held.discard(file)
            logger.warning(
                "the claim on %s expired (this worker was paused?): another worker may scan "
                "it too; raise WIREARCHIVE_CLAIM_TTL if this recurs",
                file,
            )
