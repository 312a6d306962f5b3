"""The generic wire spider: feeds, sitemaps and listing pages in, article pages out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from crawler.discovery.budget import Budget
from crawler.discovery.feeds import Link, parse_feed
from crawler.discovery.periods import sitemap_period
from crawler.discovery.sitemaps import BodyTooLarge, gunzip_bounded, parse_sitemap
from crawler.downloadermiddlewares.capture import RAW_META_KEY
from crawler.downloadermiddlewares.skip_archived import ARTICLE_META, PAGE_URL_META
from crawler.failures import article_failed, failure_reason
from crawler.sources import Config, Source, load_config
from pipelines.archive.keys import DEFAULT_ARCHIVE, resolve_archive
from pipelines.daterange import DateRange, parse_day
from pipelines.items import PUBLISHED_RANGE_META, Page
from pipelines.outcomes import BAD_SCHEME, Counters, is_transient
from pipelines.runstate import RunState, run_state
from pipelines.urls import is_web_url

# Discovery documents outrank articles so new links are known early in a run.
DISCOVERY_PRIORITY = 10


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Flatten Scrapy's multi-valued bytes headers into (name, value) strings."""
    pairs = []
    for name, values in headers.items():
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


class WireSpider(scrapy.Spider):
    """Crawl the declared sources of one sources.yaml."""

    name = "wire"

    def __init__(
        self,
        source: str | None = None,
        config: str | None = None,
        *,
        helper: bool = False,
        requeued: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_arg = source
        self.config_arg = config
        # Distributed mode: a helper (no source lease) discovers nothing and only fetches the
        # article pages other workers queued in the shared frontier; ``requeued`` counts the
        # requests of stopped workers queued again before this run.
        self.helper = helper
        self.requeued = requeued
        self.config: Config | None = None
        self.sources: tuple[Source, ...] = ()
        self.archive_uri = DEFAULT_ARCHIVE
        self.limit = 0  # 0: no limit on article requests per run
        # --limit: new links wait here for their source's fair share of the limit.
        self.budget: Budget[tuple[Link, str | None, str]] | None = None
        self.backfill = False  # a one-off history fill: --since/--until, or --urls
        self.range = DateRange()
        self.urls: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WireSpider:
        """Load the config once and pick the sources to crawl."""
        spider: WireSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.config = load_config(spider.config_arg or settings.get("WIREARCHIVE_CONFIG"))
        names = (
            [name.strip() for name in spider.source_arg.split(",") if name.strip()]
            if spider.source_arg
            else settings.getlist("WIREARCHIVE_SOURCES")
        )
        spider.sources = () if spider.helper else spider.config.select(names)
        if not settings.get("WIREARCHIVE_HISTORY"):
            # A source with only `domains` is for history backfills: a crawl has nothing
            # to discover for it.
            for source in spider.sources:
                if not source.discoverable:
                    spider.logger.info("%s declares only domains: not crawled", source.name)
            spider.sources = tuple(source for source in spider.sources if source.discoverable)
        spider.archive_uri = resolve_archive(
            settings.get("WIREARCHIVE_ARCHIVE"), spider.config.archive
        )
        spider.limit = settings.getint("WIREARCHIVE_LIMIT")
        if spider.limit:
            spider.budget = Budget(spider.limit, [source.name for source in spider.sources])
        spider.backfill = settings.get("WIREARCHIVE_MODE") == "backfill"
        since, until = settings.get("WIREARCHIVE_SINCE"), settings.get("WIREARCHIVE_UNTIL")
        spider.range = DateRange(
            parse_day(since, "--since") if since else None,
            parse_day(until, "--until") if until else None,
        )
        spider.urls = settings.getlist("WIREARCHIVE_URLS")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Request every feed, sitemap and listing page of the selected sources."""
        if self.urls:
            # backfill --urls: exactly these pages, as the one named source.
            source = self.sources[0]
            for url in self.urls:
                self.counters.listed(None)
                yield self._article_request(url, source.name, None, "urls", check_date=False)
            return
        # Built all at once, so the --limit budget knows every source is discovering before
        # the first answer comes back.
        requests = [
            request
            for source in self.sources
            for documents, callback in (
                (source.feeds, self.parse_feed),
                (source.sitemaps, self.parse_sitemap),
                (source.start_urls, self.parse_listing),
            )
            for request in self._discovery(source, documents, callback)
        ]
        for request in requests:
            yield request

    @property
    def state(self) -> RunState:
        """The crawl's state: what the archive already holds, validators, pending writes."""
        return run_state(self.crawler)

    @property
    def counters(self) -> Counters:
        """The crawl's outcome counters."""
        assert self.crawler.stats is not None
        return Counters(self.crawler.stats)

    def _discovery(
        self, source: Source, urls: Iterable[str], callback: Any
    ) -> Iterator[scrapy.Request]:
        for url in urls:
            yield self._discovery_request(url, source.name, callback)

    def _discovery_request(self, url: str, source: str, callback: Any) -> scrapy.Request:
        # Conditional GET: an unchanged feed answers 304 and costs nothing. Listing pages
        # are not asked: their links change without their validators saying so.
        headers = {}
        # --refresh and backfills must see every listed article: they ask for documents whole.
        if callback != self.parse_listing and not (self.state.refresh or self.backfill):
            etag, modified = self.state.saved_validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        if self.budget is not None:
            self.budget.started(source)
        # Discovery documents change between runs: never let the dupefilter drop them.
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_discovery_error,
            dont_filter=True,
            priority=DISCOVERY_PRIORITY,
            headers=headers,
            meta={"source": source, "handle_httpstatus_list": [304]},
        )

    def _not_modified(self, response: Response) -> bool:
        if response.status == 304:
            self.counters.not_modified(response.meta["source"])
            return True
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        # A backfill saves no validators: it skipped out-of-range links a cron run needs.
        if (etag or modified) and not self.backfill:
            self.state.remember_validators(
                response.url,
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )
        return False

    def _source(self, response: Response) -> Source:
        name = response.meta["source"]
        return next(source for source in self.sources if source.name == name)

    def _articles(
        self, response: Response, links: Iterable[Link], kind: str | None = None
    ) -> Iterator[scrapy.Request]:
        source = self._source(response)
        for link in links:
            if not is_web_url(link.url):
                # file:, ftp:, data:... never become requests, whatever allow says.
                self.counters.rejected(source.name, BAD_SCHEME)
                self.logger.info("skipped %s: %s", link.url[:200], BAD_SCHEME)
                continue
            if not source.accepts(link.url):
                self.counters.discovered("filtered")
                continue
            # Only new URLs count against --limit, or a limited cron run would stall on the
            # same already-archived links forever.
            new = self.state.refresh or self.state.known_url(link.url) is None
            if new and self.budget is not None:
                self.budget.offer(source.name, (link, kind, response.url))
                continue
            yield from self._listed(source.name, link, kind, response.url)

    def _listed(
        self, source: str, link: Link, kind: str | None, listed_in: str
    ) -> Iterator[scrapy.Request]:
        self.counters.listed(source)
        in_range = self.range.contains(link.date)
        if in_range is False:
            self.counters.out_of_range()
            return
        yield self._article_request(
            link.url, source, link.date, listed_in, check_date=in_range is None, listed_kind=kind
        )

    def _settled(self, response_or_request: Any) -> Iterator[scrapy.Request]:
        """A discovery document was read (or failed): release what --limit now allows."""
        if self.budget is None:
            return
        self.budget.finished(response_or_request.meta["source"])
        for source, (link, kind, listed_in) in self.budget.release():
            yield from self._listed(source, link, kind, listed_in)
        if self.budget.done:
            for _source, _item in self.budget.leftover():
                self.counters.discovered("over_limit")

    def _article_request(
        self,
        url: str,
        source: str,
        listed_date: datetime | None,
        listed_in: str,
        *,
        check_date: bool,
        listed_kind: str | None = None,
    ) -> scrapy.Request:
        meta: dict[str, Any] = {
            "source": source,
            "listed_date": listed_date,
            "listed_in": listed_in,
            "listed_kind": listed_kind,
            ARTICLE_META: True,
        }
        if check_date and not self.range.open:
            # No listed date: the page is kept only if its own publication date is in range.
            meta[PUBLISHED_RANGE_META] = (self.range.since, self.range.until)
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_article_error, meta=meta
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow the article links of an RSS or Atom feed."""
        yield from self._read_feed(response)
        yield from self._settled(response)

    def _read_feed(self, response: Response) -> Iterator[scrapy.Request]:
        self.counters.discovered("feeds")
        if self._not_modified(response):
            return
        parsed = parse_feed(response.body, response.url)
        self._discovery_errors("feed", response, parsed.errors)
        yield from self._articles(response, parsed.links, "feed")

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow a sitemap's pages, and recurse into a sitemap index."""
        yield from self._read_sitemap(response)
        yield from self._settled(response)

    def _read_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        self.counters.discovered("sitemaps")
        if self._not_modified(response):
            return
        try:
            body = gunzip_bounded(response.body, self.settings.getint("DOWNLOAD_MAXSIZE"))
        except BodyTooLarge as err:
            self._discovery_errors("sitemap", response, [str(err)])
            return
        parsed = parse_sitemap(body, response.url)
        self._discovery_errors("sitemap", response, parsed.errors)
        if parsed.sitemaps:
            # An index may stay unchanged while its children change: always read it whole.
            self.state.forget_validators(response.url)
        for child in parsed.sitemaps:
            if not self._sitemap_in_range(child):
                self.counters.sitemap_skipped()
                continue
            yield self._discovery_request(child.url, response.meta["source"], self.parse_sitemap)
        yield from self._articles(response, parsed.pages, "sitemap")

    def _sitemap_in_range(self, child: Link) -> bool:
        if self.range.open:
            return True
        # Modified before the range starts: nothing in it can be published within it.
        if child.date is not None and self.range.since and child.date.date() < self.range.since:
            return False
        period = sitemap_period(child.url)
        return period is None or self.range.overlaps(*period)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow the links of a listing page that the source's allow/deny rules accept."""
        yield from self._read_listing(response)
        yield from self._settled(response)

    def _read_listing(self, response: Response) -> Iterator[scrapy.Request]:
        self.counters.discovered("listings")
        if not isinstance(response, TextResponse):
            self._discovery_errors("listing", response, ["not an HTML page"])
            return
        links = LinkExtractor(unique=True).extract_links(response)
        yield from self._articles(response, (Link(link.url, None) for link in links))

    def _discovery_errors(self, kind: str, response: Response, errors: Iterable[str]) -> None:
        for error in errors:
            self.counters.discovery_error(response.meta["source"], kind)
            self.logger.warning("%s %s: %s", kind, response.url, error)

    def parse_article(self, response: Response) -> Iterator[Page]:
        """Hand the fetched article page to the pipelines, exactly as it was served."""
        self.counters.fetched(response.meta["source"])
        body, headers = response.meta.get(RAW_META_KEY, (response.body, response.headers))
        request = response.request
        assert request is not None
        request_headers = _header_pairs(request.headers)
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers.insert(0, ("Host", urlparse_cached(request).netloc))
        redirects = response.meta.get("redirect_urls") or [None]
        yield Page(
            source=response.meta["source"],
            url=response.url,
            status=response.status,
            body=body,
            content=response.body,
            request_headers=request_headers,
            response_headers=_header_pairs(headers),
            fetched_at=datetime.now(UTC),
            protocol=response.protocol or "HTTP/1.1",
            ip_address=str(response.ip_address) if response.ip_address else None,
            requested_url=redirects[0],
            published_range=response.meta.get(PUBLISHED_RANGE_META),
            listed_date=response.meta.get("listed_date"),
            listed_in=response.meta.get("listed_in"),
            listed_kind=response.meta.get("listed_kind"),
        )

    def on_article_error(self, failure: Failure) -> None:
        """Count an article page that could not be fetched under its reason."""
        error = failure.value
        assert error is not None
        request = failure.request  # type: ignore[attr-defined]
        if getattr(error, "counted", False):
            # A middleware (skip, address guard) counted it already; it is settled.
            self.crawler.signals.send_catch_log(article_failed, request=request, transient=False)
            return
        response = getattr(error, "response", None)
        source = request.meta.get("source")
        if response is not None:
            self.counters.fetched(source)
        reason = failure_reason(error)
        if isinstance(error, IgnoreRequest) and "robots.txt" in str(error).lower():
            reason = "robots_txt"
        transient = is_transient(reason)
        if transient:
            self.state.taint(str(request.meta.get("listed_in")))
        else:
            # Under the URL the listing gave, before redirects: that is what is asked next.
            listed = (request.meta.get("redirect_urls") or [request.url])[0]
            self.state.reject(request.meta.get(PAGE_URL_META) or listed, reason)
        self.counters.rejected(source, reason)
        self.logger.info("skipped %s: %s", request.url, reason)
        self.crawler.signals.send_catch_log(article_failed, request=request, transient=transient)

    def on_discovery_error(self, failure: Failure) -> list[scrapy.Request]:
        """Count a feed, sitemap or listing page that could not be fetched."""
        error = failure.value
        assert error is not None
        released = list(self._settled(failure.request))  # type: ignore[attr-defined]
        if getattr(error, "counted", False):
            return released
        reason = failure_reason(error)
        self.counters.discovery_failed(failure.request.meta.get("source"), reason)  # type: ignore[attr-defined]
        self.logger.warning("discovery %s failed: %s", failure.request.url, reason)  # type: ignore[attr-defined]
        return released
