"""``--max-time``: stop a run gracefully, as on SIGTERM, once it has lasted that long."""

from __future__ import annotations

import asyncio
import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import CallLaterResult, call_later

logger = logging.getLogger(__name__)


class Deadline:
    """Stop the crawler after ``seconds``: the engine closes with reason ``shutdown``."""

    def __init__(self, crawler: Crawler, seconds: float) -> None:
        self.crawler = crawler
        self.seconds = seconds
        self.timer: CallLaterResult | None = None
        self.stopping: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Deadline:
        """Read WIREARCHIVE_MAX_TIME; 0 (the default) sets no deadline."""
        seconds = crawler.settings.getfloat("WIREARCHIVE_MAX_TIME")
        if seconds <= 0:
            raise NotConfigured  # the default: no message, so Scrapy logs no warning
        extension = cls(crawler, seconds)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Start the clock."""
        self.timer = call_later(self.seconds, self.expire)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """A run that ended by itself needs no stop."""
        if self.timer is not None and self.stopping is None:
            self.timer.cancel()

    def expire(self) -> None:
        """Stop the crawl the way SIGTERM does: in-flight pages finish, the summary follows."""
        logger.warning("--max-time %gs reached: stopping the run gracefully", self.seconds)
        # The same path as Scrapy's SIGTERM handler: the engine closes with "shutdown".
        self.stopping = asyncio.ensure_future(self.crawler.stop_async())
