"""The raw record's request line is `GET /path?query HTTP/1.1`, as replay tools parse it."""

from __future__ import annotations

import gzip
from datetime import datetime

import pytest

from pipelines.archive.warc import build_warc
from pipelines.items import Page


@pytest.mark.parametrize(
    ("url", "line"),
    [
        ("https://example.org/a.html", b"GET /a.html HTTP/1.1\r\n"),
        ("https://example.org/a?b=1&c=2", b"GET /a?b=1&c=2 HTTP/1.1\r\n"),
        ("https://example.org", b"GET / HTTP/1.1\r\n"),
    ],
)
def test_request_record_starts_with_method_path_protocol(url: str, line: bytes) -> None:
    body = b"<html><body><p>story</p></body></html>"
    page = Page(
        source="wire",
        url=url,
        status=200,
        body=body,
        content=body,
        request_headers=[("Host", "example.org"), ("User-Agent", "wirearchive")],
        response_headers=[("Content-Type", "text/html")],
        fetched_at=datetime.fromisoformat("2026-11-25T10:00:00+00:00"),
    )
    raw = gzip.decompress(build_warc(page))
    request = raw[raw.index(b"WARC-Type: request") :]
    block = request[request.index(b"\r\n\r\n") + 4 :]
    assert block.startswith(line)
