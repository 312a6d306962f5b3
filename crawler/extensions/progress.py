"""Progress lines while a run goes on: counts so far, pages/s, and a bar with an ETA."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from pipelines import outcomes

BAR_WIDTH = 24  # characters of the progress bar


class Progress:
    """Print a progress line every few seconds: counts so far and pages/s."""

    def __init__(self, crawler: Crawler, interval: float, out: TextIO = sys.stderr) -> None:
        self.crawler = crawler
        self.interval = interval
        self.out = out
        self.started = time.monotonic()
        self.drawn = False  # a bar is on the terminal line: end it before the summary
        self.task = LoopingCall(self.report)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        """Read the interval; 0 turns progress lines off."""
        interval = crawler.settings.getfloat("WIREARCHIVE_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("WIREARCHIVE_PROGRESS_INTERVAL is 0")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        """Start the periodic report."""
        self.started = time.monotonic()
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Stop the periodic report, with a last line that agrees with the summary."""
        if self.task.running:
            self.task.stop()
            # The last periodic line may be up to an interval old: counts changed since.
            self.report()
        if self.drawn:
            self.out.write("\n")
            self.out.flush()

    def report(self) -> None:
        """Write the progress: a bar redrawn in place on a terminal, else one line."""
        assert self.crawler.stats is not None
        line = progress_line(self.crawler.stats.get_stats(), time.monotonic() - self.started)
        if self.out.isatty():
            self.out.write(f"\r\x1b[K{line}")
            self.drawn = True
        else:
            self.out.write(f"progress: {line}\n")
        self.out.flush()


def progress_line(stats: Mapping[str, Any], elapsed: float) -> str:
    """Return the progress of a run: a bar over the links found so far, counts, rate, ETA."""
    pages = outcomes.value(stats, outcomes.PAGES_FETCHED)
    found = outcomes.value(stats, outcomes.ARTICLE_LINKS)
    done = pages + sum(
        outcomes.value(stats, key)
        for key in (
            outcomes.SKIPPED,
            outcomes.ALIASES,
            outcomes.OUT_OF_RANGE,
            outcomes.DUPEFILTER_FILTERED,  # the same link listed twice is fetched once
        )
    )
    # Refused before any request: counted as rejected, never fetched.
    done += sum(
        outcomes.value(stats, outcomes.REJECTED + reason)
        for reason in ("blocked_address", "robots_txt")
    )
    rate = pages / elapsed if elapsed > 0 else 0.0
    # The summary's counters, read by the same readers, under the summary's names.
    counts = (
        f"{pages} pages fetched, {outcomes.value(stats, outcomes.STORED)} articles archived, "
        f"{outcomes.duplicate_total(stats)} duplicates, "
        f"{outcomes.value(stats, outcomes.SKIPPED)} already archived (not fetched), "
        f"{outcomes.rejected_total(stats)} rejected, {rate:.1f} pages/s"
    )
    if found <= 0:
        return counts
    share = min(done / found, 1.0)
    filled = round(share * BAR_WIDTH)
    remaining = max(found - done, 0)
    eta = f"ETA {remaining / rate:.0f}s" if rate > 0 and remaining else "ETA -"
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{found} · {counts} · {eta}"
