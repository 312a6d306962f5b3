"""Extraction workers: started by the first page that needs one, never by the run itself."""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from pipelines.extract.pipeline import ExtractPipeline
from pipelines.items import Article, Page
from pipelines.outcomes import Counters
from tests.helpers.support import dev_pages


def _page() -> Page:
    body = next(iter(dev_pages().values()))
    return Page(
        source="wire",
        url="https://example.com/news/budget",
        status=200,
        body=body,
        content=body,
        request_headers=[],
        response_headers=[("Content-Type", "text/html")],
        fetched_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
    )


def test_workers_start_with_the_first_page_not_with_the_run() -> None:
    # Most cron runs find nothing new: a run that extracts nothing must not start (and then
    # wait at its end for) worker processes that import the extractor for a second.
    pipeline = ExtractPipeline(Counters(MemoryStatsCollector(get_crawler())), workers=1)
    opened = getattr(pipeline, "open_spider", None)  # what Scrapy calls as the run opens
    if opened is not None:
        opened()
    try:
        assert multiprocessing.active_children() == []
        article = asyncio.run(pipeline.process_item(_page()))
        assert isinstance(article, Article) and article.text
        assert len(multiprocessing.active_children()) == 1
    finally:
        pipeline.close_spider()
    assert multiprocessing.active_children() == []
