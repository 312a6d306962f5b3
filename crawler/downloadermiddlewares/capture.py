"""Keep each page's bytes as served, for the archive's raw WARC record."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response

RAW_META_KEY = "wirearchive_raw"


class RawCaptureMiddleware:
    """Keep the body and headers as served, before HttpCompressionMiddleware decodes them."""

    def process_response(self, request: Request, response: Response) -> Response:
        """Remember the raw body when a content coding is about to be undone."""
        if response.headers.get(b"Content-Encoding"):
            request.meta[RAW_META_KEY] = (response.body, response.headers.copy())
        return response
