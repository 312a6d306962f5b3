"""Count a redirect back into its own chain as ``redirect_loop`` instead of dropping it."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from w3lib.url import safe_url_string


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL the same request already went through."""


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class RedirectLoopMiddleware:
    """Refuse a redirect back to a URL its request already went through, as ``redirect_loop``.

    Without it the loop's second visit is dropped by the duplicate filter, silently: the
    page would be neither archived nor counted. Place it after RedirectMiddleware (600) on
    the way in, i.e. at a higher number (610), so it sees the 3xx first.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        """Raise RedirectLoop when the Location leads back into this request's own chain."""
        location = response.headers.get(b"Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return response
        if request.meta.get("dont_redirect") or request.meta.get("handle_httpstatus_all"):
            return response
        if response.status in request.meta.get("handle_httpstatus_list", ()):
            return response
        text = location.decode("latin-1")
        if text.startswith("//"):
            text = request.url.split(":", 1)[0] + ":" + text
        target = urldefrag(urljoin(request.url, safe_url_string(text)))[0]
        seen = {urldefrag(url)[0] for url in (*request.meta.get("redirect_urls", ()), request.url)}
        if target in seen:
            raise RedirectLoop(f"redirect loop: {request.url} -> {target}")
        return response
