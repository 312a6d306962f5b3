"""The state a run shares: the archive's index, what this run asked for, its dedup decision.

One Scrapy extension, after Scrapy's ``extensions/spiderstate.py``: every component finds
it with ``crawler.get_extension(RunState)`` (``run_state(crawler)``) and changes it only
through its methods. It opens the archive's index when it is built, not on
``spider_opened``: Scrapy 2.19 builds extensions before the engine, and opens the
scheduler (the shared frontier lives next to the Redis index) and the item pipelines
before it sends ``spider_opened``. On ``spider_closed`` it saves feed validators after a
clean run, uploads the index and closes it; the run summary waits for that (``closed``),
so it sees a failed upload among the run's errors.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from pipelines.archive import tenure
from pipelines.archive.keys import archive_uri
from pipelines.archive.stores import Store, StoreError, open_store
from pipelines.dedup.decision import DedupDecision
from pipelines.dedup.originals import LocalOriginals, Originals, SharedOriginals, default_worker
from pipelines.index.base import Index, Known
from pipelines.index.redis import RedisIndex
from pipelines.index.rejections import next_rejection
from pipelines.index.sqlite import StateIndex, open_state
from pipelines.items import Article, Duplicate
from pipelines.outcomes import STATE_SYNC, WRITE_FAILED, Counters, is_lasting, value
from pipelines.urls import canonicalize_url

logger = logging.getLogger(__name__)

Validators = tuple[str | None, str | None]  # (ETag, Last-Modified)


class RunState:
    """What one crawl knows: the archive's index plus what this run has in flight."""

    def __init__(
        self,
        store: Store,
        index: Index,
        *,
        originals: Originals | None = None,
        refresh: bool = False,
        retry_base: float = 0.0,
        stats: StatsCollector | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.refresh = refresh
        self.retry_base = retry_base  # seconds before a rejected page is asked again; 0: at once
        if originals is None:
            if not isinstance(index, StateIndex):
                raise TypeError("a shared index needs SharedOriginals")
            originals = LocalOriginals(index)
        self.originals = originals
        self.dedup = DedupDecision(index, originals, refresh=refresh)
        self.stats = stats
        self.requested: dict[str, str] = {}  # canonical URL -> the URL requested for it
        self.aliases: dict[str, list[str]] = {}  # canonical URL -> other URLs listed for it
        self.validators: dict[str, Validators] = {}  # discovery URL -> validators seen now
        self.tainted: set[str] = set()  # discovery URLs with a page that must be retried
        self.closed = asyncio.Event()  # set once the index is saved and closed
        self.run_id: str | None = None  # the run whose archive lock guards the writes

    @classmethod
    def open(
        cls,
        uri: str,
        *,
        refresh: bool = False,
        redis_url: str | None = None,
        worker: str | None = None,
        claim_ttl: float = 600.0,
        retry_base: float = 0.0,
        near_window_days: float = 0.0,
        stats: StatsCollector | None = None,
        fetched: bool = False,
    ) -> RunState:
        """Open the archive at ``uri`` and its index: SQLite, or Redis in distributed mode.

        ``fetched``: the run's start brought the index's cache up to date under its lock.
        """
        store = open_store(uri)
        common: dict[str, Any] = {"refresh": refresh, "retry_base": retry_base, "stats": stats}
        if redis_url:
            shared = RedisIndex(redis_url, uri)
            originals = SharedOriginals(shared, worker or default_worker(), claim_ttl)
            return cls(store, shared, originals=originals, **common)
        index = open_state(store, fetch=not fetched)
        if near_window_days > 0:
            index.prune_near(near_window_days)
        return cls(store, index, **common)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunState:
        """Open the crawl's archive and index from its settings; close them at the end."""
        settings = crawler.settings
        state = cls.open(
            archive_uri(crawler),
            refresh=settings.getbool("WIREARCHIVE_REFRESH"),
            redis_url=settings.get("WIREARCHIVE_REDIS") or None,
            worker=settings.get("WIREARCHIVE_WORKER") or None,
            claim_ttl=settings.getfloat("WIREARCHIVE_CLAIM_TTL"),
            retry_base=settings.getfloat("WIREARCHIVE_REJECTED_RETRY"),
            near_window_days=settings.getfloat("WIREARCHIVE_NEAR_WINDOW_DAYS"),
            stats=crawler.stats,
            fetched=settings.getbool("WIREARCHIVE_INDEX_FETCHED"),
        )
        state.run_id = settings.get("WIREARCHIVE_RUN_ID") or None
        crawler.signals.connect(state.spider_closed, signal=signals.spider_closed)
        return state

    def may_write(self) -> str | None:
        """Say why this run may no longer write the archive (its lock was lost), or None."""
        return tenure.lost(self.run_id)

    @property
    def shared(self) -> SharedOriginals | None:
        """The distributed-mode strategy, or None on one machine."""
        return self.originals if isinstance(self.originals, SharedOriginals) else None

    # -- what to request --------------------------------------------------------------------

    def known_url(self, url: str) -> Known | None:
        """Return the article a URL leads to, pending ones included."""
        return self.dedup.known_url(url)

    def needless(self, url: str) -> str | None:
        """Why a listed URL needs no request now, if it does not.

        ``"skipped"``: the index knows it (archived, or recorded as a duplicate; with
        ``--refresh`` archived articles are asked again); ``"retry_later"``: it was rejected
        for a lasting reason and its back-off has not run out.
        """
        known = self.known_url(url)
        if known is not None and not (self.refresh and known.kind == "article"):
            return "skipped"
        if self.retry_base > 0 and not self.refresh:
            rejection = self.index.rejection(url)
            if rejection is not None and rejection.retry_at > time.time():
                return "retry_later"
        return None

    def reject(self, url: str, reason: str) -> None:
        """Remember a lasting rejection of a listed URL; its back-off doubles each time."""
        if self.retry_base <= 0 or not is_lasting(reason):
            return
        previous = self.index.rejection(url)
        self.index.record_rejection(
            url, next_rejection(previous, reason, time.time(), self.retry_base)
        )

    def note_request(self, canonical: str, url: str) -> str:
        """Note a request of ``url`` for ``canonical``; return the URL requested first for it.

        A later URL of the same canonical form is an alias: not fetched, indexed with the
        article once that is archived.
        """
        first = self.requested.setdefault(canonical, url)
        if first != url:
            self.aliases.setdefault(canonical, []).append(url)
        return first

    def forget_request(self, canonical: str) -> None:
        """Forget a request that will not be made (another worker fetches it)."""
        self.requested.pop(canonical, None)

    def claim_url(self, url: str) -> bool:
        """Claim the fetch of a (canonical) URL for this worker; True on one machine."""
        return self.originals.claim_url(url)

    # -- discovery: conditional GET ---------------------------------------------------------

    def saved_validators(self, url: str) -> Validators:
        """Return the validators an earlier run saved for a discovery URL."""
        return self.index.validators(url)

    def remember_validators(self, url: str, etag: str | None, modified: str | None) -> None:
        """Keep a discovery document's validators, saved if the run ends clean."""
        self.validators[url] = (etag, modified)

    def forget_validators(self, url: str) -> None:
        """Never save validators for a document that must be read whole each run."""
        self.validators.pop(url, None)

    def taint(self, listed_in: str) -> None:
        """Mark a discovery URL whose page must be retried: read it whole next run."""
        self.tainted.add(listed_in)

    # -- the dedup decision and the life of an original --------------------------------------

    def admit(self, article: Article) -> Duplicate | str | None:
        """Return a Duplicate, ``"unchanged"``/``"revision"``, or None (a new original)."""
        return self.dedup.admit(article)

    def index_entry(self, article: Article, key: str) -> dict[str, Any]:
        """Return what the index records for an archived original, its aliases included."""
        return self.dedup.index_entry(article, key, self._take_aliases(article))

    def commit(self, article: Article, key: str) -> None:
        """Index an original after its archive write succeeded."""
        self.dedup.commit(article, key, self._take_aliases(article))

    def release(self, article: Article) -> None:
        """Forget a pending original whose write failed: the next run fetches it again."""
        self.dedup.release(article)

    def record_duplicate(self, duplicate: Duplicate) -> None:
        """Index a duplicate's URLs after its record was written."""
        self.dedup.record_duplicate(duplicate)

    def _take_aliases(self, article: Article) -> list[str]:
        aliases = self.aliases.pop(canonicalize_url(article.url), [])
        if article.page.requested_url:
            aliases += self.aliases.pop(canonicalize_url(article.page.requested_url), [])
        return aliases

    # -- end of run ------------------------------------------------------------------------

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Finish the index off the reactor; count a failed upload among the errors."""
        try:
            failed = self.stats is not None and value(self.stats.get_stats(), WRITE_FAILED)
            try:
                await asyncio.to_thread(self.finish, clean=reason == "finished" and not failed)
            except (StoreError, OSError, sqlite3.Error) as err:
                # The archive is whole; only the index copy in it is stale, so the next
                # run in a fresh place re-fetches pages and finds them already archived.
                logger.error("could not save the archive index to %s: %s", self.store.uri, err)
                if self.stats is not None:
                    Counters(self.stats).error(STATE_SYNC)
        finally:
            self.closed.set()

    def finish(self, *, clean: bool) -> None:
        """Save feed validators after a clean run, upload the index, close it."""
        try:
            lost = self.may_write()
            if lost is not None:
                # Another run may hold the archive and its index: upload nothing over it.
                logger.error("the archive index is not saved: %s", lost)
                return
            if clean:
                self.index.save_validators(
                    (url, etag, modified)
                    for url, (etag, modified) in self.validators.items()
                    if url not in self.tainted
                )
            self.originals.finish(self.store)
        finally:
            self.index.close()


def run_state(crawler: Crawler) -> RunState:
    """Return the crawl's RunState extension; fail clearly when EXTENSIONS lacks it."""
    state = crawler.get_extension(RunState)
    if state is None:
        raise RuntimeError(
            "pipelines.runstate.RunState is not enabled: add it to EXTENSIONS "
            "(crawler/settings.py has it)"
        )
    return state
