"""Extraction workers: warmed up as a run opens, never waited for when they had no page."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from datetime import UTC, datetime

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from pipelines.dedup.fingerprints import exact_fingerprint, signature_of
from pipelines.extract.pipeline import ExtractPipeline
from pipelines.items import Article, Page
from pipelines.outcomes import Counters
from tests.helpers.support import dev_pages, fetched_page

# Far less than a worker takes to import the extractor (0.6 s on an idle machine).
PROMPT_SECONDS = 0.4


def _page() -> Page:
    return fetched_page(next(iter(dev_pages().values())), datetime(2026, 11, 25, 12, tzinfo=UTC))


def _pipeline() -> ExtractPipeline:
    return ExtractPipeline(Counters(MemoryStatsCollector(get_crawler())), workers=2)


def test_a_run_that_extracts_nothing_does_not_wait_for_its_workers() -> None:
    # Most cron runs find nothing new: their end must not wait for workers still importing.
    pipeline = _pipeline()
    pipeline.open_spider()
    assert len(multiprocessing.active_children()) == 2  # warming up while feeds are read
    started = time.monotonic()
    pipeline.close_spider()
    assert time.monotonic() - started < PROMPT_SECONDS
    assert multiprocessing.active_children() == []


def test_a_run_that_extracted_lets_its_workers_finish() -> None:
    pipeline = _pipeline()
    pipeline.open_spider()
    try:
        article = asyncio.run(pipeline.process_item(_page()))
        assert isinstance(article, Article) and article.text
        # Dedup's keys come made by the worker: the crawl's own process does not hash texts.
        assert article.printed == exact_fingerprint(article.text)
        assert article.signed == (signature_of(article.text),)
    finally:
        pipeline.close_spider()
    assert multiprocessing.active_children() == []
