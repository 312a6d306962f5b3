"""Turn a fetched Page into an Article: decode, extract, and give it its identity."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pipelines.children import die_with_parent
from pipelines.daterange import DateRange
from pipelines.extract.encoding import decode_html
from pipelines.extract.rejection import ExtractionRejected, check_language
from pipelines.items import Article, Page
from pipelines.outcomes import Counters
from pipelines.urls import article_id, canonicalize_url, same_site

if TYPE_CHECKING:
    from pipelines.extract.article import ListedDate

# The extraction rules (trafilatura, htmldate, lxml: 0.15 s to import) are imported where
# they run, in the extraction workers: the crawl's own process never extracts a page.

HTML_TYPES = ("text/html", "application/xhtml+xml")
SNIFF_BYTES = 1024


def is_html(content_type: str | None, content: bytes) -> bool:
    """Tell whether a response is an HTML page, by its type or, when untyped, its first bytes."""
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() in HTML_TYPES
    head = content[:SNIFF_BYTES].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def listed_date(page: Page) -> ListedDate | None:
    """The feed's or sitemap's date for the page, when the spider said which gave it.

    A listing page gives no date; a sitemap's <lastmod> is as good as a feed's pubDate
    here (both are bounded by the fetch time like any other candidate).
    """
    from pipelines.extract.article import ListedDate  # noqa: PLC0415 - see the imports

    if page.listed_date is None or page.listed_kind not in ("feed", "sitemap"):
        return None
    return ListedDate(page.listed_date, page.listed_kind)


def build_article(page: Page) -> Article:
    """Extract an Article from a Page; raise ExtractionRejected when it holds none."""
    from pipelines.extract.article import (  # noqa: PLC0415 - see the imports
        EXTRACTOR_NAME,
        EXTRACTOR_VERSION,
        extract_article,
    )

    content_type = page.header("Content-Type")
    if not is_html(content_type, page.content):
        raise ExtractionRejected("not_html", content_type or "no Content-Type")
    html, _encoding = decode_html(page.content, content_type)
    extraction = extract_article(
        html, page.url, fetched_at=page.fetched_at, listed=listed_date(page)
    )
    declared = extraction.canonical_url
    # A page may only claim a canonical URL on its own site: anything else would let one
    # site overwrite another's article id.
    canonical = canonicalize_url(
        declared if declared and same_site(declared, page.url) else page.url
    )
    article = Article(
        id=article_id(canonical),
        url=page.url,
        canonical_url=canonical,
        source=page.source,
        title=extraction.title,
        text=extraction.text,
        authors=list(extraction.authors),
        published=extraction.published,
        published_from=extraction.published_from,
        modified=extraction.modified,
        fetched_at=page.fetched_at.isoformat(timespec="seconds"),
        language=extraction.language,
        sitename=extraction.sitename,
        wire_agency=extraction.wire_agency,
        wire_dateline=extraction.wire_dateline,
        content_sha256=hashlib.sha256(extraction.text.encode("utf-8")).hexdigest(),
        extractor_name=EXTRACTOR_NAME,
        extractor_version=EXTRACTOR_VERSION,
        page=page,
    )
    # Here, in the extraction worker, not on the reactor: both are read by dedup.
    article.signature()
    article.fingerprint()
    return article


def check_published(article: Article, wanted: DateRange) -> None:
    """Reject an undated listing's page whose own publication date is out of a backfill's range."""
    published = None if article.published_from == "fetched" else article.published
    if not wanted.contains_iso(published):
        found = published or "no publication date"
        raise ExtractionRejected("out_of_range", f"{found} is outside the backfill range")


def extraction_executor(workers: int) -> Executor:
    """Return where extraction runs: ``workers`` processes, or one thread when 0.

    Never several threads: trafilatura evaluates module-level compiled lxml XPath objects,
    which crash the process (SIGBUS) when two threads share them. Processes also put every
    core to work, while the reactor keeps downloading and writing.
    """
    if workers <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
    # spawn, not fork: the reactor's threads and sockets must not be copied into workers.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=die_with_parent,  # a kill -9 of the crawl must not leave workers behind
        initargs=(os.getpid(),),
    )


# An undated story: every step of extraction runs on it, the date search in the text too
# (htmldate loads its date parsers on first use).
WARM_UP_PAGE = (
    "<html><body><article><h1>Warm up</h1><p>Published on 3 March 2021.</p>"
    + "".join(
        f"<p>The council met on day {n} and adjourned until the next week.</p>" for n in range(5)
    )
    + "</article></body></html>"
)


def warm_up() -> None:
    """Load the extraction libraries in a worker process (they take a second or two)."""
    from pipelines.extract.article import extract_article  # noqa: PLC0415 - see the imports

    with contextlib.suppress(ExtractionRejected):
        extract_article(WARM_UP_PAGE, "http://localhost/news/warm-up.html")


def stop_unused(executor: Executor) -> None:
    """Stop a pool that extracted nothing without waiting for its warm-ups to finish.

    Its workers hold nothing but imports; waiting for them cost a run that found nothing
    new 1.1 s of its 3. The executor keeps its workers private (Python 3.14 adds
    terminate_workers()): without them it is shut down the waiting way.
    """
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
    executor.shutdown(wait=True, cancel_futures=True)  # quick: its workers are gone


def default_workers() -> int:
    """Return the default number of extraction processes: one per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ExtractPipeline:
    """Extract each Page off the reactor; count and drop pages that hold no article."""

    def __init__(
        self,
        counters: Counters,
        workers: int = 0,
        languages: dict[str, str] | None = None,
        reject: Callable[[str, str], None] | None = None,
    ) -> None:
        self.counters = counters
        self.workers = workers
        self.languages = languages or {}  # source -> the language its articles must be in
        self.reject = reject  # remembers a listed URL's lasting rejection (url, reason)
        self.executor = extraction_executor(workers)
        self.extracted = False  # a page was handed to the workers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        """Build from the crawler's stats and WIREARCHIVE_WORKERS (None: one per core)."""
        assert crawler.stats is not None
        workers = crawler.settings.get("WIREARCHIVE_WORKERS")
        # Every declared source, not only those this run discovers: in distributed mode a
        # worker fetches pages the other workers found.
        config = getattr(crawler.spider, "config", None)
        sources = config.sources if config is not None else getattr(crawler.spider, "sources", ())
        # Here, not at the top: the extraction workers import this module and need no index.
        from pipelines.runstate import run_state  # noqa: PLC0415

        return cls(
            Counters(crawler.stats),
            default_workers() if workers in (None, "") else int(workers),
            {source.name: source.language for source in sources if source.language},
            run_state(crawler).reject,
        )

    def open_spider(self, spider: Any = None) -> None:
        """Start the workers now, while feeds are fetched: each imports the extractor once."""
        for _ in range(self.workers):
            self.executor.submit(warm_up)

    def close_spider(self, spider: Any = None) -> None:
        """Let the extraction workers go: at once when they never had a page to extract."""
        if self.extracted:
            self.executor.shutdown(wait=True, cancel_futures=True)
        else:
            stop_unused(self.executor)

    async def process_item(self, item: Any) -> Any:
        """Return the Article extracted from a Page; pass anything else through."""
        if not isinstance(item, Page):
            return item
        try:
            article = await self._extract(item)
            check_language(article.language, self.languages.get(item.source))
            if item.published_range is not None:
                check_published(article, DateRange(*item.published_range))
            return article
        except ExtractionRejected as rejected:
            self.counters.rejected(item.source, rejected.reason)
            if self.reject is not None:
                self.reject(item.requested_url or item.url, rejected.reason)
            raise DropItem(f"{item.url}: {rejected.reason} {rejected}".strip()) from rejected

    async def _extract(self, page: Page) -> Article:
        loop = asyncio.get_running_loop()
        executor = self.executor
        self.extracted = True
        try:
            return await loop.run_in_executor(executor, build_article, page)
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in a C library): count the pages it
            # took down, start fresh workers once, and keep the run going.
            if self.executor is executor:
                executor.shutdown(wait=False, cancel_futures=True)
                self.executor = extraction_executor(self.workers)
            raise ExtractionRejected("extractor_crashed", "the extraction worker died") from None
