"""Write each Article to the archive: its raw WARC record first, then its JSON."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from pipelines.crawlstate import CrawlState
from pipelines.items import Article, Duplicate
from pipelines.keys import article_keys, duplicate_key, encode_json
from pipelines.stores import Store, StoreError
from pipelines.warc import build_warc

logger = logging.getLogger(__name__)


def write_article(store: Store, article: Article) -> bool:
    """Store an article's raw record, then its JSON; return False when it was already there."""
    json_key, raw_key = article_keys(article)
    article.raw_key = raw_key
    # The raw record goes first: an article JSON is never visible without its raw record.
    store.put(raw_key, build_warc(article.page), content_type="application/warc")
    return store.put(json_key, encode_json(article.to_record()), content_type="application/json")


def write_duplicate(store: Store, duplicate: Duplicate) -> bool:
    """Store a duplicate record; return False when it was already there."""
    record = encode_json(duplicate.to_record())
    return store.put(duplicate_key(duplicate), record, content_type="application/json")


class ArchivePipeline:
    """Archive each Article and Duplicate through the store; index it once written."""

    def __init__(self, state: CrawlState, stats: StatsCollector) -> None:
        self.state = state
        self.store = state.store
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        """Share the crawl's state and its store."""
        assert crawler.stats is not None
        return cls(CrawlState.for_crawler(crawler), crawler.stats)

    async def process_item(self, item: Any) -> Any:
        """Write off the reactor; count the outcome; index only what was written."""
        if isinstance(item, Duplicate):
            await self._write(item, write_duplicate, item.url)
            self.state.record_duplicate(item)
            self.stats.inc_value(f"dedup/{item.kind}")
            self.stats.inc_value(f"source/{item.source}/duplicates")
            return item
        if not isinstance(item, Article):
            return item
        try:
            written = await self._write(item, write_article, item.url)
        except DropItem:
            self.state.release(item)
            raise
        self.state.commit(item, article_keys(item)[0])
        outcome = "stored" if written else "unchanged"
        if item.version > 1 and written:
            outcome = "revised"
        self.stats.inc_value(f"archive/{outcome}")
        self.stats.inc_value(f"source/{item.source}/{outcome}")
        return item

    async def _write(self, item: Any, write: Callable[[Store, Any], bool], url: str) -> bool:
        try:
            return await asyncio.to_thread(write, self.store, item)
        except StoreError as err:
            # Not done: nothing is indexed, so the next run fetches this page again.
            self.stats.inc_value("archive/failed")
            logger.error("archive write failed for %s: %s", url, err)
            raise DropItem(f"archive write failed: {err}") from err
