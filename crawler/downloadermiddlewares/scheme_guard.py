"""The scheme guard: only http and https URLs are requested, however they arrived.

Scrapy's link extractor keeps ``file:`` and ``ftp:`` links, and a redirect or a meta
refresh may point anywhere. The spider drops such links as it reads them; this middleware,
first in the chain, refuses whatever else reaches the downloader (a redirect, a meta
refresh, a child sitemap) before any other middleware or download handler sees it. The
``file``, ``ftp``, ``s3`` and ``data`` download handlers are also off (settings.py).
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh

from pipelines.outcomes import BAD_SCHEME, Counters
from pipelines.urls import is_web_url

logger = logging.getLogger(__name__)


class BadScheme(IgnoreRequest):
    """A request for a URL that is not http(s); already counted, so errbacks skip it."""

    counted = True


class SchemeGuardMiddleware:
    """Refuse and count every request whose URL is not http(s) with a host."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemeGuardMiddleware:
        """Count through the crawl's stats."""
        assert crawler.stats is not None
        return cls(Counters(crawler.stats))

    def _refuse(self, request: Request, url: str) -> BadScheme:
        self.counters.rejected(request.meta.get("source"), BAD_SCHEME)
        logger.warning("refused %s: only http and https URLs are fetched", url[:200])
        return BadScheme(f"{url[:200]}: not an http(s) URL")

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        """Let an http(s) request through; refuse any other before it is downloaded."""
        if not is_web_url(request.url):
            raise self._refuse(request, request.url)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        """Count a redirect or meta refresh to another scheme as what it is, not a page.

        Scrapy's redirect middlewares do not follow them, but would hand the 3xx (or the
        refresh page) on, to be counted as ``http_302`` or ``no_body``.
        """
        target = None
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            target = urljoin(response.url, location.decode("latin-1"))
        elif isinstance(response, HtmlResponse):
            target = get_meta_refresh(response)[1]
        if target and not is_web_url(target):
            raise self._refuse(request, target)
        return response
