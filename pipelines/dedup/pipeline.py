"""Deduplication: one story archived once; every other copy recorded as a duplicate of it.

A fetched Article is, in this order: a revision or an unchanged re-fetch of itself; a
``url`` duplicate (its canonical or final URL belongs to another archived article); an
``exact`` duplicate (same normalised text); a ``near`` duplicate (a syndicated copy); or
an original (see pipelines/dedup/decision.py for the order and the pending originals).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pipelines.items import Article, Duplicate
from pipelines.outcomes import Counters
from pipelines.runstate import RunState, run_state


class DedupPipeline:
    """Classify each Article: original (passed on), or a Duplicate record (passed on)."""

    def __init__(self, state: RunState, counters: Counters) -> None:
        self.state = state
        self.counters = counters

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        """Share the crawl's state."""
        assert crawler.stats is not None
        return cls(run_state(crawler), Counters(crawler.stats))

    def process_item(self, item: Any) -> Any:
        """Return the Article (original or revision) or a Duplicate; drop unchanged pages."""
        if not isinstance(item, Article):
            return item
        outcome = self.state.admit(item)
        if outcome == "unchanged":
            self.counters.unchanged(item.source)
            raise DropItem(f"{item.url}: already archived, text unchanged")
        if isinstance(outcome, Duplicate):
            return outcome
        return item
