"""Answer a history record's request from the record itself: no network, no publisher.

A CC-NEWS record becomes a request for its page's URL, so everything a live page goes
through (the archived-URL skip, URL claims, the extraction, dedup and archive pipelines)
applies unchanged; this middleware, right after the skip, answers it with the captured
response instead of letting it reach robots.txt, the guard or a download handler.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from crawler.history.capture import REPLAY_META, Capture

__all__ = ["REPLAY_META", "ReplayMiddleware"]


def replayed_response(request: Request, capture: Capture) -> Response:
    """Return the response a capture holds, as Scrapy's downloader would have built it."""
    headers = Headers()
    for name, value in capture.headers:
        headers.appendlist(name, value)
    cls = responsetypes.from_args(headers=headers, url=capture.url, body=capture.body[:5000])
    return cls(
        url=capture.url,
        status=capture.status,
        headers=headers,
        body=capture.body,
        request=request,
        protocol=capture.protocol,
    )


class ReplayMiddleware:
    """Return a history request's captured response (see the module docstring)."""

    def process_request(self, request: Request, spider: Spider | None = None) -> Response | None:
        """Answer a request that carries a capture; let any other go on."""
        capture = request.meta.get(REPLAY_META)
        if capture is None:
            return None
        return replayed_response(request, capture)
