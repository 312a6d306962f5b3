"""The history spider: one source's pages from CC-NEWS or the Wayback Machine, never its site.

``backfill --from ccnews``: the CC-NEWS files of the range are scanned in threads
(crawler/history/feeder.py); each record of the source becomes a request for its page
that ReplayMiddleware answers from the record. A file is the unit of resumption
(crawler/history/units.py): once every record it held is settled, its mark goes into the
archive (crawler/history/progress.py) and later runs skip it.

``backfill --from wayback``: a CDX query lists the source's captures in the range; each is
fetched as its raw ``id_`` bytes, one request at a time, politely.

Either way the pages go through the same pipelines as a crawl's (extract, dedup against
the same index, archive), as the page's own URL and capture time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.distributed.scheduler import retry_later
from crawler.downloadermiddlewares.address_guard import GuardedResolver, settings_policy
from crawler.downloadermiddlewares.skip_archived import ARTICLE_META, PAGE_URL_META
from crawler.failures import failure_reason
from crawler.history import ccnews, wayback
from crawler.history.capture import REPLAY_META, UNIT_META, Capture
from crawler.history.claims import FileClaims
from crawler.history.feeder import ClaimedElsewhere, Event, FileEnded, FileFeeder, Found
from crawler.history.progress import Days, Progress
from crawler.history.remote import Remote, RemoteError, open_remote, range_files
from crawler.history.units import FileUnits
from crawler.sources import Source
from crawler.spiders.wire import DISCOVERY_PRIORITY, WireSpider, _header_pairs
from pipelines.extract.pipeline import default_workers
from pipelines.items import Page
from pipelines.outcomes import (
    HISTORY_CAPTURES,
    HISTORY_FILES_CLAIMED_ELSEWHERE,
    HISTORY_FILES_DONE_BEFORE,
    HISTORY_FILES_LISTED,
    HISTORY_LISTING_FAILED,
    HISTORY_OUT_OF_RANGE,
    is_transient,
)

logger = logging.getLogger(__name__)

CCNEWS = "ccnews"
WAYBACK = "wayback"
KINDS = (CCNEWS, WAYBACK)
EVENT_WAIT = 0.5  # seconds the reactor waits for the scanners before looking again


class HistorySpider(WireSpider):
    """Backfill one source from CC-NEWS or the Wayback Machine (see the module docstring)."""

    name = "history"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = CCNEWS
        self.files: FileUnits | None = None  # the CC-NEWS files of the run, once listed
        self.feeder: FileFeeder | None = None

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Make a Wayback backfill polite: one connection, a pause between requests."""
        super().update_settings(settings)
        # The publisher is never asked, so its robots.txt has nothing to allow; the archives
        # are read through their APIs (robots.txt there addresses search engines), politely.
        settings.set("ROBOTSTXT_OBEY", False, priority="spider")
        if settings.get("WIREARCHIVE_HISTORY") == WAYBACK:
            settings.setdict(wayback.POLITENESS, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> HistorySpider:
        """Read which archive to backfill from; listen for the outcome of each page."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, HistorySpider)
        spider.kind = str(crawler.settings.get("WIREARCHIVE_HISTORY"))
        if spider.kind not in KINDS or len(spider.sources) != 1:
            raise ValueError(f"the history spider backfills one source from {' or '.join(KINDS)}")
        for handler, signal in (
            (spider._item_scraped, signals.item_scraped),
            (spider._item_dropped, signals.item_dropped),
            (spider._item_error, signals.item_error),
            (spider._request_dropped, signals.request_dropped),
            (spider._spider_error, signals.spider_error),
            (spider._closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return spider

    @property
    def source(self) -> Source:
        """The one source this backfill fills."""
        return self.sources[0]

    @property
    def days(self) -> Days:
        """The capture days asked for."""
        return Days(self.range.since, self.range.until)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """List the captures of the range and hand each to the pipeline."""
        if self.kind == WAYBACK:
            for request in self._cdx_requests():
                yield request
            return
        async for request in self._ccnews():
            yield request

    # -- CC-NEWS -------------------------------------------------------------------------------

    def _remote(self) -> Remote:
        settings = self.settings
        resolver = GuardedResolver.installed
        policy = resolver.policy if resolver is not None else settings_policy(settings)
        if self.config is not None and self.config.allow_private_addresses:
            policy.allow_private = True
        return open_remote(
            str(settings.get("WIREARCHIVE_CCNEWS_URL")), policy, str(settings.get("USER_AGENT"))
        )

    def _plan(self, remote: Remote) -> tuple[list[str], list[str], dict[str, Days]]:
        """Return the files of the range, those this source has not finished, and the marks
        of these (a thread)."""
        since, until = self.range.since, self.range.until
        assert since is not None and until is not None
        files = range_files(remote, since, until)
        unfinished, earlier = Progress(self.state.store, self.source).plan(files, self.days)
        return files, unfinished, earlier

    def _claims(self) -> FileClaims | None:
        """Distributed mode: the files' claims in Redis (None on one machine)."""
        shared = self.state.shared
        if shared is None:
            return None
        return FileClaims(
            shared.index.r, shared.index.prefix, self.source.name, shared.worker, shared.ttl
        )

    async def _ccnews(self) -> AsyncIterator[scrapy.Request]:
        try:
            remote = self._remote()
            listed, files, earlier = await asyncio.to_thread(self._plan, remote)
        except RemoteError as err:
            self.counters.error(HISTORY_LISTING_FAILED)
            logger.error("cannot list CC-NEWS: %s", err)
            return
        self.counters.history(HISTORY_FILES_LISTED, len(listed))
        self.counters.history(HISTORY_FILES_DONE_BEFORE, len(listed) - len(files))
        if not files:
            return
        wanted = ccnews.RecordFilter(
            hosts=self.source.hosts(),
            since=self.range.since,
            until=self.range.until,
            accepts=self.source.accepts,
            max_size=self.settings.getint("DOWNLOAD_MAXSIZE"),
        )
        workers = self.settings.get("WIREARCHIVE_WORKERS")
        threads = int(workers) if workers not in (None, "") and int(workers) > 0 else None
        progress = Progress(self.state.store, self.source)
        units = self.files = FileUnits(
            files,
            self.counters,
            progress,
            self.days,
            may_write=self.state.may_write,
            claims=self._claims(),
            earlier=earlier,
        )
        claim = units.take if units.claims is not None else None
        self.feeder = FileFeeder(remote, files, wanted, threads or default_workers(), claim=claim)
        units.start()
        self.feeder.start()
        try:
            while not self.feeder.finished:
                event = await asyncio.to_thread(self.feeder.next_event, EVENT_WAIT)
                if event is not None:
                    for request in self._on_event(event):
                        yield request
        finally:
            self.feeder.stop()
        units.unscanned()

    def _on_event(self, event: Event) -> Iterator[scrapy.Request]:
        assert self.files is not None
        if isinstance(event, Found):
            item = event.item
            if isinstance(item, Capture):
                self.files.units[event.file].pending += 1
                self.counters.history(HISTORY_CAPTURES)
                self.counters.listed(self.source.name)
                yield self._replay_request(event.file, item)
            else:
                self.counters.rejected(self.source.name, item.reason)
                logger.info("skipped %s: %s", item.url[:200], item.reason)
        elif isinstance(event, FileEnded):
            self.files.ended(event)
        elif isinstance(event, ClaimedElsewhere):
            self.files.units.pop(event.file, None)
            self.counters.history(HISTORY_FILES_CLAIMED_ELSEWHERE)

    def _replay_request(self, file: str, capture: Capture) -> scrapy.Request:
        return scrapy.Request(
            capture.url,
            callback=self.parse_article,
            errback=self.on_article_error,
            dont_filter=True,  # the archived-URL skip decides about repeats, and counts them
            meta={
                "source": self.source.name,
                "listed_in": file,
                ARTICLE_META: True,
                REPLAY_META: capture,
                UNIT_META: file,
            },
        )

    def _settle(self, request: Any, *, done: bool) -> None:
        if self.files is not None:
            self.files.settle(request, done=done)

    # -- the outcome of each page ------------------------------------------------------------

    def _item_scraped(self, item: Any, response: Response, spider: Any) -> None:
        self._settle(response.request, done=True)

    def _item_dropped(
        self, item: Any, response: Response, exception: BaseException, spider: Any
    ) -> None:
        self._settle(response.request, done=not retry_later(exception))

    def _item_error(self, item: Any, response: Response, spider: Any, failure: Failure) -> None:
        self._settle(response.request, done=False)

    def _request_dropped(self, request: scrapy.Request, spider: Any) -> None:
        self._settle(request, done=True)  # the scheduler found it needless, and counted it

    def _spider_error(self, failure: Failure, response: Response | None, spider: Any) -> None:
        # No response when start() raised; a Failure when an errback did (its request, if
        # Scrapy set one): settle what can be told, never fail in the handler.
        self._settle(getattr(response, "request", None), done=False)

    def on_article_error(self, failure: Failure) -> None:
        """Count the page as a crawl does; settle its file (a passing failure leaves it open)."""
        super().on_article_error(failure)
        error = failure.value
        assert error is not None
        transient = not getattr(error, "counted", False) and is_transient(failure_reason(error))
        self._settle(failure.request, done=not transient)  # type: ignore[attr-defined]

    async def _closed(self, spider: Any, reason: str) -> None:
        """Stop the scanners; wait for the file marks being written."""
        if self.feeder is not None:
            self.feeder.stop()
        if self.files is not None:
            await self.files.close()

    # -- the Wayback Machine -------------------------------------------------------------------

    def _cdx_requests(self) -> Iterator[scrapy.Request]:
        since, until = self.range.since, self.range.until
        assert since is not None and until is not None
        base = str(self.settings.get("WIREARCHIVE_WAYBACK_URL"))
        for domain in sorted(self.source.hosts()):
            yield self._cdx_request(wayback.cdx_url(base, domain, since, until), domain)

    def _cdx_request(self, url: str, domain: str) -> scrapy.Request:
        self.counters.discovered("cdx")
        return scrapy.Request(
            url,
            callback=self.parse_cdx,
            errback=self.on_cdx_error,
            dont_filter=True,
            priority=DISCOVERY_PRIORITY,
            meta={"source": self.source.name, "domain": domain},
        )

    def parse_cdx(self, response: Response) -> Iterator[scrapy.Request]:
        """Request the raw bytes of each listed capture of the source; then the next page."""
        try:
            captures, resume = wayback.parse_cdx(response.body)
        except ValueError as err:
            self._listing_failed(response.url, f"not a CDX answer: {err}")
            return
        base = str(self.settings.get("WIREARCHIVE_WAYBACK_URL"))
        for capture in captures:
            if ccnews.uri_host(capture.url) not in self.source.hosts():
                continue  # a subdomain the domain match brought in
            if not self.range.contains(capture.captured_at):
                self.counters.history(HISTORY_OUT_OF_RANGE)
                continue
            if not self.source.accepts(capture.url):
                self.counters.discovered("filtered")
                continue
            self.counters.history(HISTORY_CAPTURES)
            self.counters.listed(self.source.name)
            yield scrapy.Request(
                wayback.capture_url(base, capture.timestamp, capture.url),
                callback=self.parse_article,
                errback=self.on_article_error,
                meta={
                    "source": self.source.name,
                    "listed_in": response.url,
                    "wayback_timestamp": capture.timestamp,
                    PAGE_URL_META: capture.url,
                    ARTICLE_META: True,
                },
            )
        if resume:
            since, until = self.range.since, self.range.until
            assert since is not None and until is not None
            domain = response.meta["domain"]
            yield self._cdx_request(wayback.cdx_url(base, domain, since, until, resume), domain)

    def on_cdx_error(self, failure: Failure) -> None:
        """A CDX page that could not be fetched, even after the retries."""
        error = failure.value
        assert error is not None
        self._listing_failed(failure.request.url, failure_reason(error))  # type: ignore[attr-defined]

    def _listing_failed(self, url: str, reason: str) -> None:
        # The captures that page lists (and those of the pages after it) are never read:
        # the run did not do its job, so its status is failed, as for CC-NEWS's listing.
        self.counters.error(HISTORY_LISTING_FAILED)
        logger.error(
            "cannot list the Wayback captures (%s): %s; run the backfill again", reason, url
        )

    def _wayback_capture(self, response: Response) -> Capture:
        return wayback.answer_capture(
            str(self.settings.get("WIREARCHIVE_WAYBACK_URL")),
            str(response.meta[PAGE_URL_META]),
            served_url=response.url,
            asked=response.meta["wayback_timestamp"],
            status=response.status,
            answer_headers=_header_pairs(response.headers),
            body=response.body,
        )

    # -- both ------------------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Page]:
        """Hand a captured page to the pipelines as its own URL, captured when it was."""
        capture = response.meta.get(REPLAY_META) or self._wayback_capture(response)
        self.counters.fetched(self.source.name)
        yield Page(
            source=self.source.name,
            url=capture.url,
            status=capture.status,
            body=capture.body,
            content=response.body,  # a Content-Encoding undone, as for a live page
            request_headers=[],
            response_headers=capture.headers,
            fetched_at=capture.captured_at,
            protocol=capture.protocol,
            ip_address=capture.ip_address,
            listed_in=response.meta.get("listed_in"),
            origin=capture.origin,
            record=capture.record,
        )
