"""Write each Article to the archive: its raw WARC record first, then its JSON."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pipelines.archive.keys import article_keys, duplicate_key, encode_json
from pipelines.archive.spool import Spool
from pipelines.archive.stores import Store, StoreError
from pipelines.archive.warc import build_warc
from pipelines.dedup.originals import duplicate_entry
from pipelines.items import Article, Duplicate
from pipelines.outcomes import Counters
from pipelines.runstate import RunState, run_state
from pipelines.search.index import SearchIndex, SearchIndexError

logger = logging.getLogger(__name__)


Objects = list[tuple[str, bytes, str]]  # (key, data, content type), in write order


def article_objects(article: Article) -> Objects:
    """Return an article's objects: the raw record first, then the JSON that points at it."""
    json_key, raw_key = article_keys(article)
    article.raw_key = raw_key
    # The raw record goes first: an article JSON is never visible without its raw record.
    return [
        (raw_key, build_warc(article.page), "application/warc"),
        (json_key, encode_json(article.to_record()), "application/json"),
    ]


def duplicate_objects(duplicate: Duplicate) -> Objects:
    """Return a duplicate's one object: its record."""
    return [(duplicate_key(duplicate), encode_json(duplicate.to_record()), "application/json")]


def write_objects(store: Store, objects: Objects) -> bool:
    """Put objects in order; return False when the last one (the record) was already there."""
    written = False
    for key, data, content_type in objects:
        written = store.put(key, data, content_type=content_type)
    return written


def write_duplicate(store: Store, duplicate: Duplicate) -> bool:
    """Store a duplicate record; return False when it was already there."""
    return write_objects(store, duplicate_objects(duplicate))


class NotArchived(DropItem):
    """A page neither archived nor spooled: it is not done, a later run must fetch it again."""


class ArchivePipeline:
    """Archive each Article and Duplicate through the store; index it once written.

    When the store stays down past its retries, the objects and their index entry go to the
    local spool (pipelines/archive/spool.py); the next run flushes them first.
    """

    def __init__(
        self,
        state: RunState,
        counters: Counters,
        spool: Spool,
        threads: int = 16,
        search: SearchIndex | None = None,
    ) -> None:
        self.state = state
        self.store = state.store
        self.counters = counters
        self.spool = spool
        # Writes wait on the network (S3) or the disk (fsync), not the CPU: a bounded pool
        # of its own lets many overlap without starving the other thread work of the crawl.
        self.writers = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="archive")
        # The search index learns each object once it is written, on one thread of its own
        # (one SQLite connection); `serve` and `wirearchive index` catch up on anything missed.
        self.search = search
        self.search_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        """Share the crawl's state and its store."""
        assert crawler.stats is not None
        state = run_state(crawler)
        threads = crawler.settings.getint("WIREARCHIVE_WRITE_THREADS")
        try:
            search: SearchIndex | None = SearchIndex.for_store(state.store)
        except SearchIndexError as err:
            logger.warning("%s; the archive is written, search catches up later", err)
            search = None
        return cls(state, Counters(crawler.stats), Spool.for_store(state.store), threads, search)

    def close_spider(self, spider: Any = None) -> None:
        """Wait for the writes in flight, then let the writer threads go."""
        self.writers.shutdown(wait=True)
        if self.search is not None:
            self.search_writer.submit(self.search.close).result()
        self.search_writer.shutdown(wait=True)

    async def _searchable(
        self,
        add: Callable[[Iterable[tuple[str, Mapping[str, Any]]]], int],
        key: str,
        record: Mapping[str, Any],
    ) -> None:
        """Add a written object to the search index; a failure only delays its search."""
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.search_writer, add, [(key, record)])
        except (sqlite3.Error, SearchIndexError) as err:
            logger.warning("search index: %s not added (%s); `wirearchive index` adds it", key, err)

    async def process_item(self, item: Any) -> Any:
        """Write off the reactor; count the outcome; index only what was written."""
        if isinstance(item, Duplicate):
            objects = await asyncio.to_thread(duplicate_objects, item)
            written = await self._write(objects, duplicate_entry(item), item.url, item.source)
            if written is not None:  # None: spooled, indexed when the spool is flushed
                self.state.record_duplicate(item)
                if self.search is not None:
                    await self._searchable(
                        self.search.add_duplicates, objects[-1][0], item.to_record()
                    )
            self.counters.duplicate(item.source, item.kind)
            return item
        if not isinstance(item, Article):
            return item
        objects = await asyncio.to_thread(article_objects, item)
        key = objects[-1][0]
        try:
            written = await self._write(objects, None, item.url, item.source, item)
        except DropItem:
            self.state.release(item)
            raise
        if written is None:
            self.state.release(item)
            raise DropItem(f"{item.url}: spooled, the archive is unavailable")
        self.state.commit(item, key)
        if self.search is not None:
            await self._searchable(self.search.add_articles, key, item.to_record())
        outcome = "stored" if written else "unchanged"
        if item.version > 1 and written:
            outcome = "revised"
        self.counters.archived(item.source, outcome)
        return item

    async def _write(
        self,
        objects: Objects,
        entry: dict[str, Any] | None,
        url: str,
        source: str,
        article: Article | None = None,
    ) -> bool | None:
        """Put the objects; on a store failure spool them and return None."""
        lost = self.state.may_write()
        if lost is not None:
            # Not written, not spooled, not indexed: the next run fetches the page again.
            self.counters.refused_lock_lost()
            raise NotArchived(f"{url}: not written, the run lock was lost ({lost})")
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.writers, write_objects, self.store, objects)
        except StoreError as err:
            logger.error("archive write failed for %s: %s; spooling it locally", url, err)
            if article is not None:
                entry = self.state.index_entry(article, objects[-1][0])
            try:
                await asyncio.to_thread(self.spool.add, objects, entry or {})
            except OSError as spool_err:
                # Not done, not spooled: nothing is indexed, the next run fetches it again.
                self.counters.write_failed()
                raise NotArchived(f"archive write failed: {err}; spool: {spool_err}") from err
            self.counters.spooled(source)
            return None
