"""Distributed history backfills: the workers of one source share its CC-NEWS files.

A worker claims a file in Redis before scanning it (SET NX with the claim TTL, so a dead
worker's file comes free again) and gives the claim back once the file is finished or
given up; a finished file is skipped by its mark in the archive (progress.py).
"""

from __future__ import annotations

import logging

import redis

logger = logging.getLogger(__name__)

# Delete the claim only if it is still this worker's (it may have expired and been retaken).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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

    def claim(self, file: str) -> bool:
        """Claim a file; False when another worker holds it. Redis down: scan it here."""
        try:
            return bool(self.client.set(self.prefix + file, self.worker, nx=True, px=self.ttl_ms))
        except redis.RedisError as err:
            logger.error("cannot claim %s in redis, scanning it here: %s", file, err)
            return True

    def release(self, file: str) -> None:
        """Give a claim back (the file is finished, or left for a later run)."""
        try:
            self.client.eval(RELEASE, 1, self.prefix + file, self.worker)
        except redis.RedisError as err:
            logger.error("cannot release the claim on %s (it expires): %s", file, err)
