"""Scrapy's scheduler plus, in distributed mode, the shared frontier for article pages.

On one machine this is Scrapy's own scheduler. With ``crawl --redis`` a newly discovered
article request goes to the frontier in Redis instead of the local queue, and when the
local queue (feeds, sitemaps, listings, retries, redirects) is empty the next request
comes from the frontier, whichever worker queued it. A popped request is reported done
once its page is archived, recorded as a duplicate or rejected for good; a page that
failed for a passing reason (a 5xx, a timeout, a store that refused the write) is left in
flight until its deadline, when a later run retries it; requests a stopped run did not
finish go back to the head of the queue.

A worker fetches from the queues of the sources it leased (round robin), so its run ends
once their pages are done. A *helper*, a worker that holds no source lease, fetches from
every queue: it waits for work while other workers still hold leases (they may queue
more), up to ``WIREARCHIVE_JOIN_WAIT`` seconds of idleness.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections import deque
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.request import request_from_dict
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from crawler.distributed.frontier import Frontier
from crawler.distributed.leases import SourceLeases
from crawler.downloadermiddlewares.replay import REPLAY_META
from crawler.downloadermiddlewares.skip_archived import ARTICLE_META, page_url
from crawler.failures import article_failed
from pipelines.archive.pipeline import NotArchived
from pipelines.outcomes import FRONTIER_UNREACHABLE, Counters
from pipelines.runstate import RunState, run_state

logger = logging.getLogger(__name__)

FRONTIER_META = "wirearchive_frontier"  # the fingerprint of a request popped from the frontier
POLL_INTERVAL = 0.2  # seconds between looks at the frontier while a helper waits


def retry_later(exception: BaseException) -> bool:
    """Tell whether a dropped page is unfinished business rather than a final outcome."""
    if isinstance(exception, NotArchived):
        return True
    return getattr(exception.__cause__, "reason", None) == "extractor_crashed"


class FrontierScheduler(Scheduler):
    """See the module docstring."""

    crawler: Crawler
    state: RunState
    counters: Counters

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frontier: Frontier | None = None
        self.holding: set[str] = set()  # popped by this worker, not yet done
        self.helper = False
        self.own: tuple[str, ...] = ()  # the sources whose queues this worker drains
        self.rotation: deque[str] = deque()  # those of them with requests waiting
        self.idle_since: float | None = None
        self.poller: LoopingCall | None = None
        self.renewer: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        """Build Scrapy's scheduler and listen for the outcomes of article pages."""
        scheduler = super().from_crawler(crawler)
        assert crawler.stats is not None
        scheduler.state = run_state(crawler)
        scheduler.counters = Counters(crawler.stats)
        for handler, signal in (
            (scheduler._item_scraped, signals.item_scraped),
            (scheduler._item_dropped, signals.item_dropped),
            (scheduler._item_error, signals.item_error),
            (scheduler._article_failed, article_failed),
            (scheduler._spider_idle, signals.spider_idle),
        ):
            crawler.signals.connect(handler, signal=signal)
        return scheduler

    def open(self, spider: Spider) -> Any:
        """Open the local queues and, in distributed mode, the frontier."""
        opened = super().open(spider)
        shared = self.state.shared
        if shared is not None:
            self.frontier = Frontier(shared.index.r, shared.index.prefix, shared.ttl)
            self.leases = SourceLeases(shared.index.r, shared.index.prefix, shared.worker, 0)
            self.helper = bool(getattr(spider, "helper", False))
            self.own = tuple(source.name for source in getattr(spider, "sources", ()))
            # Requests of stopped workers, queued again before this run started.
            requeued = int(getattr(spider, "requeued", 0))
            if requeued:
                self.counters.frontier("requeued", requeued)
            if self.helper:
                self.counters.frontier("helper")  # in the summary: this run discovered nothing
            self.renewer = LoopingCall(self._renew)
            self.renewer.start(max(shared.ttl / 3, 0.1), now=False)
        return opened

    def close(self, reason: str) -> Any:
        """Hand back what this worker popped and did not finish."""
        for loop in (self.poller, self.renewer):
            if loop is not None and loop.running:
                loop.stop()
        if self.frontier is not None and self.holding:
            try:
                if reason == "finished":
                    # Unaccounted for on a clean finish (an error in a callback): retry in a
                    # later run rather than at once, so a page that breaks us cannot spin.
                    self.frontier.defer(self.holding, self.frontier.ttl_ms / 1000)
                else:
                    given = self.frontier.give_back(self.holding)
                    self.counters.frontier("given_back", given)
            except redis.RedisError as err:
                logger.error("could not hand back %d frontier requests: %s", len(self.holding), err)
            self.holding.clear()
        return super().close(reason)

    # -- the queues ---------------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        """Queue a new article request in the frontier, anything else locally.

        A listed article URL the archive accounts for is dropped here, before it takes a
        place in the dupefilter: a page that redirects to it must still reach
        SkipArchivedMiddleware, which records the redirecting URL as its duplicate.
        """
        if not request.meta.get(ARTICLE_META):
            return super().enqueue_request(request)
        source = request.meta.get("source")
        # A retry or redirect of a request this worker holds (popped, or listed here).
        follow_up = FRONTIER_META in request.meta or "redirect_urls" in request.meta
        if not follow_up:
            needless = self.state.needless(page_url(request))
            if needless is not None:
                self.counters.needless(source, needless)
                return False
        # A CC-NEWS record travels with its bytes: it stays with the worker that read its file
        # (files, not records, are what distributed backfills share).
        if self.frontier is None or follow_up or REPLAY_META in request.meta:
            if super().enqueue_request(request):
                return True
            if "redirect_urls" in request.meta:
                self.counters.redirected_to_fetched()  # fetched earlier this run
            self._finished(request)
            return False
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request).hex()
        # Pickled like scrapy-redis does: only our own workers write to this Redis.
        data = pickle.dumps(request.to_dict(spider=self.spider), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            queued = self.frontier.push(fingerprint, str(source), data)
        except redis.RedisError as err:
            # Redis is gone: fetch it here rather than lose it.
            logger.error("frontier unreachable, fetching %s locally: %s", request.url, err)
            self.counters.error(FRONTIER_UNREACHABLE)
            return super().enqueue_request(request)
        self.counters.frontier("queued" if queued else "already_queued")
        if queued and source in self.own and source not in self.rotation:
            self.rotation.append(str(source))
        return queued

    def next_request(self) -> Request | None:
        """Return the next local request, else the next one from the frontier."""
        request = super().next_request()
        if request is not None or self.frontier is None:
            return request
        return self._pop()

    def has_pending_requests(self) -> bool:
        """Pending locally or in the shared queue."""
        if super().has_pending_requests():
            return True
        if self.frontier is None:
            return False
        if self.rotation:
            return True
        try:
            return self.frontier.has_work(None if self.helper else self.own)
        except redis.RedisError as err:
            logger.error("frontier unreachable: %s", err)
            self.counters.error(FRONTIER_UNREACHABLE)
            return False

    def _pop(self) -> Request | None:
        assert self.frontier is not None
        try:
            popped = self.frontier.pop() if self.helper else self._pop_own()
        except redis.RedisError as err:
            logger.error("frontier unreachable: %s", err)
            self.counters.error(FRONTIER_UNREACHABLE)
            return None
        if popped is None:
            return None
        fingerprint, data = popped
        request = request_from_dict(pickle.loads(data), spider=self.spider)  # noqa: S301
        request.meta[FRONTIER_META] = fingerprint
        self.holding.add(fingerprint)
        self.idle_since = None
        self.counters.frontier("popped")
        return request

    def _pop_own(self) -> tuple[str, bytes] | None:
        """Pop from the queues of this worker's own sources, in turn."""
        assert self.frontier is not None
        if not self.rotation:
            self.rotation.extend(self.frontier.with_work(self.own))
        while self.rotation:
            source = self.rotation.popleft()
            popped = self.frontier.pop(source)
            if popped is not None:
                self.rotation.append(source)
                return popped
        return None

    # -- outcomes -----------------------------------------------------------------------------

    def _finished(self, request: Request | None, *, later: bool = False) -> None:
        fingerprint = request.meta.get(FRONTIER_META) if request is not None else None
        if self.frontier is None or fingerprint not in self.holding:
            return
        self.holding.discard(fingerprint)
        try:
            if later:
                self.frontier.defer([fingerprint], self.frontier.ttl_ms / 1000)
                self.counters.frontier("deferred")
            else:
                self.frontier.done([fingerprint])
        except redis.RedisError as err:
            # Left in flight: it comes back after its deadline, fetched again or skipped.
            logger.error("frontier unreachable, %s stays in flight: %s", request, err)
            self.counters.error(FRONTIER_UNREACHABLE)

    def _item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        self._finished(response.request)

    def _item_dropped(
        self, item: Any, response: Response, exception: BaseException, spider: Spider
    ) -> None:
        self._finished(response.request, later=retry_later(exception))

    def _item_error(self, item: Any, response: Response, spider: Spider, failure: Failure) -> None:
        self._finished(response.request, later=True)

    def _article_failed(self, request: Request, transient: bool) -> None:
        self._finished(request, later=transient)

    # -- a helper waits for work while discovery goes on elsewhere -------------------------

    def _spider_idle(self, spider: Spider) -> None:
        if self.frontier is None or not self.helper:
            return
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        wait = self.crawler.settings.getfloat("WIREARCHIVE_JOIN_WAIT")
        if now - self.idle_since >= wait or not self._discovering_elsewhere():
            return
        if self.poller is None or not self.poller.running:
            self.poller = LoopingCall(self._poll)
            self.poller.start(POLL_INTERVAL, now=False)
        raise DontCloseSpider

    def _discovering_elsewhere(self) -> bool:
        config = getattr(self.spider, "config", None)
        names = [source.name for source in config.sources] if config is not None else []
        try:
            return bool(self.leases.held_elsewhere(names))
        except redis.RedisError:
            return False

    def _poll(self) -> None:
        """While idle: wake the engine when work arrives or when it is time to stop."""
        request = self._pop()
        assert self.poller is not None
        if request is not None:
            self.poller.stop()
            self.crawler.engine.crawl(request)
            return
        assert self.idle_since is not None
        wait = self.crawler.settings.getfloat("WIREARCHIVE_JOIN_WAIT")
        if time.monotonic() - self.idle_since >= wait or not self._discovering_elsewhere():
            self.poller.stop()
            engine = self.crawler.engine
            assert engine is not None
            if engine.spider_is_idle():  # close now rather than at the next 5 s heartbeat
                deferred_from_coro(engine.close_spider_async(reason="finished"))

    def _renew(self) -> None:
        if self.frontier is not None and self.holding:
            try:
                self.frontier.renew(self.holding)
            except redis.RedisError as err:
                logger.error("could not renew frontier deadlines: %s", err)
