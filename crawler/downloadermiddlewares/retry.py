"""Polite retries: exponential back-off that honours Retry-After; article timeouts once only."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadTimeoutError
from scrapy.http import Response

from crawler.downloadermiddlewares.skip_archived import ARTICLE_META

RETRY_JITTER = 0.25  # spread retries of many requests so they don't return in lockstep


def retry_delay(
    retry_after: str | None,
    attempt: int,
    *,
    base: float,
    cap: float,
    now: datetime | None = None,
) -> float:
    """Return seconds to wait before retry ``attempt`` (1-based), honouring ``Retry-After``."""
    backoff = min(cap, base * 2.0 ** (attempt - 1))
    if not retry_after:
        return backoff
    value = retry_after.strip()
    if value.isdigit():
        return min(cap, max(backoff, float(value)))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(cap, max(backoff, wait))


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry 5xx, 429 and network errors after an exponential, Retry-After-aware pause."""

    def __init__(self, settings: Any, base: float = 1.0, cap: float = 60.0) -> None:
        super().__init__(settings)
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        """Read the backoff settings."""
        middleware = cls(
            crawler.settings,
            base=crawler.settings.getfloat("WIREARCHIVE_RETRY_BACKOFF_BASE", 1.0),
            cap=crawler.settings.getfloat("WIREARCHIVE_RETRY_MAX_DELAY", 60.0),
        )
        middleware.crawler = crawler
        return middleware

    async def _pause(self, request: Request, retry_after: str | None) -> None:
        attempt = int(request.meta.get("retry_times", 0)) + 1
        delay = retry_delay(retry_after, attempt, base=self.base, cap=self.cap)
        if delay > 0:
            # Sleeping here holds this request only; the reactor keeps serving the others.
            await asyncio.sleep(delay * (1 + random.uniform(0, RETRY_JITTER)))  # noqa: S311

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        """Retry a retryable status after a pause."""
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, f"http_{response.status}")
        if retry is None:
            return response
        header = response.headers.get(b"Retry-After")
        await self._pause(request, header.decode("latin-1") if header else None)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        """Retry a network error after a pause; an article page that timed out is not retried."""
        if request.meta.get("dont_retry", False) or not isinstance(
            exception, self.exceptions_to_retry
        ):
            return None
        if request.meta.get(ARTICLE_META) and isinstance(
            exception, (DownloadTimeoutError, TimeoutError)
        ):
            # A page that sends nothing for DOWNLOAD_TIMEOUT would send nothing again: three
            # retries made one stalled page cost four timeouts (2 min at 30 s). The timeout is
            # counted as transient, so the next run fetches the page again; discovery
            # documents (few, and a run's only source of links) keep their retries.
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._pause(request, None)
        return retry
