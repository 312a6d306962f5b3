"""Incremental crawling: never request an article URL the archive already accounts for.

A downloader middleware, first in the chain (before robots.txt), so a skipped URL costs
no request at all. For each article request:

- a URL the index knows (archived, or recorded as a duplicate) is skipped silently, and so
  is one rejected for a lasting reason until its back-off runs out (``retry_later``);
- a URL never seen before whose canonical form is archived is recorded once as a ``url``
  duplicate without fetching it; so is a listed URL that redirects to an archived one;
- a URL whose canonical form another request of this run already asked for is an alias:
  not fetched, indexed with the article once that is archived.

``crawl --refresh`` lets archived articles through, to look for revisions.

In distributed mode (``crawl --redis``) a new URL is also claimed in Redis (its canonical
form, for the claim TTL): a URL another worker is fetching is skipped here, counted as
``incremental/claimed_elsewhere``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from pipelines.archive.pipeline import write_duplicate
from pipelines.archive.stores import StoreError
from pipelines.items import Duplicate
from pipelines.outcomes import Counters
from pipelines.runstate import RunState, run_state
from pipelines.urls import article_id, canonicalize_url

logger = logging.getLogger(__name__)

ARTICLE_META = "wirearchive_article"
# The page an article request stands for when it asks another URL for it (a Wayback
# Machine capture): the archive knows the page by this URL, never by the archive's.
PAGE_URL_META = "wirearchive_page_url"


def page_url(request: Request) -> str:
    """Return the URL of the page an article request is for."""
    return str(request.meta.get(PAGE_URL_META) or request.url)


class Skipped(IgnoreRequest):
    """An article request the archive already accounts for; counted, not an error."""

    counted = True


class SkipArchivedMiddleware:
    """Skip article URLs the archive already accounts for (see the module docstring)."""

    def __init__(self, state: RunState, counters: Counters) -> None:
        self.state = state
        self.counters = counters

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipArchivedMiddleware:
        """Share the crawl's state."""
        assert crawler.stats is not None
        return cls(run_state(crawler), Counters(crawler.stats))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        """Let a new URL through; skip, alias or record as a duplicate anything else."""
        if not request.meta.get(ARTICLE_META):
            return
        source = str(request.meta.get("source", ""))
        url = page_url(request)
        canonical = canonicalize_url(url)
        first = self.state.requested.get(canonical)
        if first is not None and first != url:
            # Listed again in this run under another form: an alias of this run's request,
            # not "already archived", even if that request's article was written meanwhile.
            self.state.note_request(canonical, url)
            self.counters.alias()
            raise Skipped(f"{url}: same canonical URL as {first}, requested in this run")
        needless = self.state.needless(url)
        if needless is not None:
            self.counters.needless(source, needless)
            if needless == "skipped":
                await self._redirected_to_known(request, source)
            raise Skipped(f"{url}: {needless}")
        # Not needless: the URL itself is unknown (or --refresh asks archived ones again).
        known = None if self.state.refresh else self.state.known_url(canonical)
        if known is not None:
            await self._record_url_duplicate(url, canonical, source, known.article_id, known.key)
            raise Skipped(f"{url}: its canonical form {canonical} is archived")
        first = self.state.note_request(canonical, url)
        if first != url:
            self.counters.alias()
            raise Skipped(f"{url}: same canonical URL as {first}, requested in this run")
        # Distributed mode: one worker fetches a URL; the claim is given back once the page
        # is archived, recorded as a duplicate, or at the end of the run.
        if self.state.shared and not await asyncio.to_thread(self.state.claim_url, canonical):
            self.state.forget_request(canonical)
            self.counters.claimed_elsewhere()
            raise Skipped(f"{url}: another worker is fetching it")

    async def _redirected_to_known(self, request: Request, source: str) -> None:
        """A listed URL that redirects to a known one becomes a ``url`` duplicate of it.

        So the next run skips it without the request that leads to the redirect.
        """
        redirects = request.meta.get("redirect_urls")
        if PAGE_URL_META in request.meta:
            return  # redirects between an archive's captures, not the page's own
        if not redirects or self.state.known_url(redirects[0]) is not None:
            return
        target = self.state.known_url(request.url)
        if target is not None:
            listed = redirects[0]
            await self._record_url_duplicate(
                listed, canonicalize_url(listed), source, target.article_id, target.key
            )

    async def _record_url_duplicate(
        self, url: str, canonical: str, source: str, original: str, original_key: str
    ) -> None:
        duplicate = Duplicate(
            id=article_id(url),
            url=url,
            source=source,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            duplicate_of=original,
            duplicate_of_key=original_key,
            kind="url",
            similarity=1.0,
            canonical_url=canonical,
            urls=(url,),
        )
        if self.state.may_write() is not None:
            self.counters.refused_lock_lost()
            return
        try:
            await asyncio.to_thread(write_duplicate, self.state.store, duplicate)
        except StoreError as err:
            self.counters.write_failed()
            logger.error("archive write failed for the duplicate record of %s: %s", url, err)
            return
        self.state.record_duplicate(duplicate)
        self.counters.duplicate(source, "url")
