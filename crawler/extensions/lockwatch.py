"""Stop a run whose archive lock was lost: another run may be writing the archive now."""

from __future__ import annotations

import asyncio
import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from pipelines.archive import tenure

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 0.5  # seconds between looks at the lock's tenure
LOST_REASON = "lock_lost"  # the close reason: the summary says failed, the exit status 1


class LockWatch:
    """Close the spider (reason ``lock_lost``) once the run's lock is lost (tenure.py)."""

    def __init__(self, crawler: Crawler, run_id: str, interval: float = CHECK_INTERVAL) -> None:
        self.crawler = crawler
        self.run_id = run_id
        self.task = LoopingCall(self.check)
        self.interval = interval
        self.closing: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LockWatch:
        """Watch the run named by WIREARCHIVE_RUN_ID."""
        run_id = crawler.settings.get("WIREARCHIVE_RUN_ID")
        if not run_id:
            raise NotConfigured  # no run lock to watch (a crawl outside the CLI)
        extension = cls(crawler, str(run_id))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Start looking."""
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Stop looking."""
        if self.task.running:
            self.task.stop()

    def check(self) -> None:
        """Close the spider gracefully once the lock is lost; writes are refused already."""
        why = tenure.lost(self.run_id)
        if why is None or self.closing is not None:
            return
        logger.error(
            "run %s lost the archive lock (%s): stopping, writing nothing more", self.run_id, why
        )
        self.task.stop()
        assert self.crawler.engine is not None
        self.closing = asyncio.ensure_future(
            self.crawler.engine.close_spider_async(reason=LOST_REASON)
        )
