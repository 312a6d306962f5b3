"""Deduplication: one story archived once; every other copy recorded as a duplicate of it.

A fetched Article is, in this order: a revision or an unchanged re-fetch of itself; a
``url`` duplicate (its canonical or final URL belongs to another archived article); an
``exact`` duplicate (same normalised text); a ``near`` duplicate (a syndicated copy); or
an original (see pipelines/dedup/originals.py for the order and the pending originals).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from pipelines.dedup.originals import CrawlState
from pipelines.items import Article, Duplicate


class DedupPipeline:
    """Classify each Article: original (passed on), or a Duplicate record (passed on)."""

    def __init__(self, state: CrawlState, stats: StatsCollector) -> None:
        self.state = state
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        """Share the crawl's state."""
        assert crawler.stats is not None
        return cls(CrawlState.for_crawler(crawler), crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Return the Article (original or revision) or a Duplicate; drop unchanged pages."""
        if not isinstance(item, Article):
            return item
        outcome = self.state.admit(item)
        if outcome == "unchanged":
            self.stats.inc_value("archive/unchanged")
            self.stats.inc_value(f"source/{item.source}/unchanged")
            raise DropItem(f"{item.url}: already archived, text unchanged")
        if isinstance(outcome, Duplicate):
            return outcome
        return item
