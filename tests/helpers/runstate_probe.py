"""A crawl with a probe extension that records which RunState each component holds.

Run as ``python -m tests.helpers.runstate_probe CONFIG ARCHIVE OUT`` (a Twisted reactor runs once
per process); ``OUT`` receives the probe's findings as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings

from crawler.distributed.scheduler import FrontierScheduler
from crawler.downloadermiddlewares.skip_archived import SkipArchivedMiddleware
from crawler.spiders.wire import WireSpider
from pipelines.archive.pipeline import ArchivePipeline
from pipelines.dedup.pipeline import DedupPipeline
from pipelines.extract.pipeline import ExtractPipeline
from pipelines.runstate import RunState


class SharedStateProbe:
    """Record, once the spider is open, whether every component holds the one RunState."""

    def __init__(self, crawler: Crawler, out: str) -> None:
        self.crawler = crawler
        self.out = Path(out)
        self.found: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedStateProbe:
        probe = cls(crawler, crawler.settings["PROBE_OUT"])
        crawler.signals.connect(probe.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(probe.spider_closed, signal=signals.spider_closed)
        return probe

    def spider_opened(self, spider: Spider) -> None:
        crawler = self.crawler
        state = crawler.get_extension(RunState)
        extract = crawler.get_item_pipeline(ExtractPipeline)
        scheduler = crawler.engine._slot.scheduler  # no public accessor for the scheduler
        holders = {
            "spider": getattr(spider, "state", None),
            "skip_archived": getattr(
                crawler.get_downloader_middleware(SkipArchivedMiddleware), "state", None
            ),
            "dedup": getattr(crawler.get_item_pipeline(DedupPipeline), "state", None),
            "archive": getattr(crawler.get_item_pipeline(ArchivePipeline), "state", None),
            "extract": getattr(getattr(extract, "reject", None), "__self__", None),
            "scheduler": scheduler.state if isinstance(scheduler, FrontierScheduler) else None,
        }
        self.found = {
            "is_run_state": isinstance(state, RunState),
            "same": {name: holder is state for name, holder in holders.items()},
            "on_crawler": sorted(
                name for name, value in vars(crawler).items() if isinstance(value, RunState)
            ),
            # Open before spider_opened: the index answers already.
            "index_open": state is not None and state.known_url("http://example.org/") is None,
        }

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        state = self.crawler.get_extension(RunState)
        assert state is not None
        await state.closed.wait()
        self.found["closed"] = state.closed.is_set()
        self.out.write_text(json.dumps(self.found), encoding="utf-8")


def main(config: str, archive: str, out: str) -> None:
    """Crawl ``config`` into ``archive`` with the probe on."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    extensions = {**settings.getdict("EXTENSIONS"), f"{__name__}.SharedStateProbe": 900}
    settings.setdict(
        {
            "EXTENSIONS": extensions,
            "WIREARCHIVE_CONFIG": config,
            "WIREARCHIVE_ARCHIVE": archive,
            "WIREARCHIVE_ALLOW_PRIVATE_ADDRESSES": True,
            "WIREARCHIVE_WORKERS": 0,
            "WIREARCHIVE_PROGRESS_INTERVAL": 0,
            "AUTOTHROTTLE_START_DELAY": 0,
            "LOG_LEVEL": "WARNING",
            "PROBE_OUT": out,
        },
        priority="cmdline",
    )
    process = AsyncCrawlerProcess(settings)
    process.crawl(WireSpider)
    process.start()


if __name__ == "__main__":
    main(*sys.argv[1:4])
