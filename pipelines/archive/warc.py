"""The raw record of a page: its HTTP exchange as a gzipped WARC file."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import brotli
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from pipelines.items import Page

# The payload we keep has already been de-chunked by the HTTP client: replay tools would
# try to de-chunk it again if the header stayed, so it is kept under pywb's renaming.
RENAMED_HEADERS = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}
# warcio compresses at level 9: on the dev pages level 6 is 1.5x faster for 0.6% more bytes.
GZIP_LEVEL = 6


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _RecordWriter(WARCWriter):  # type: ignore[misc]
    """warcio's writer, each record gzipped as its own member at GZIP_LEVEL."""

    def __init__(self, out: BytesIO) -> None:
        super().__init__(out, gzip=False)
        self.sink = out

    def write_record(self, record: Any, params: Any = None) -> None:
        plain = BytesIO()
        self.out = plain
        try:
            super().write_record(record, params)
        finally:
            self.out = self.sink
        self.sink.write(gzip_member(plain.getvalue()))


def _kept_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(RENAMED_HEADERS.get(name.lower(), name), value) for name, value in headers]


def gzip_member(data: bytes) -> bytes:
    """Return ``data`` as one gzip member at GZIP_LEVEL (a WARC record's own member)."""
    gzipper = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return gzipper.compress(data) + gzipper.flush()


def build_warc(page: Page) -> bytes:
    """Return a gzipped WARC: the page's response record, then the request that fetched it.

    A history capture (CC-NEWS, the Wayback Machine) keeps its own response record: no
    request of ours was made, so none is recorded.
    """
    if page.record is not None:
        return gzip_member(page.record)
    out = BytesIO()
    writer = _RecordWriter(out)
    warc_date = datetime_to_iso_date(page.fetched_at.replace(tzinfo=None))
    common = {"WARC-Date": warc_date}
    if page.ip_address:
        common["WARC-IP-Address"] = page.ip_address

    response_headers = StatusAndHeaders(
        f"{page.status} {_reason(page.status)}",
        _kept_headers(page.response_headers),
        protocol=page.protocol,
    )
    response = writer.create_warc_record(
        page.url,
        "response",
        payload=BytesIO(page.body),
        length=len(page.body),
        http_headers=response_headers,
        warc_headers_dict=dict(common),
    )
    writer.write_record(response)

    target = urlsplit(page.url)
    path = target.path or "/"
    if target.query:
        path += "?" + target.query
    # A request line is method, path, protocol; warcio puts `protocol` first (a status line).
    request_headers = StatusAndHeaders(
        f"GET {path} {page.protocol}", page.request_headers, is_http_request=True
    )
    request = writer.create_warc_record(
        page.url,
        "request",
        http_headers=request_headers,
        warc_headers_dict={
            **common,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(request)
    return out.getvalue()


def response_record(
    url: str,
    status_line: str,
    headers: list[tuple[str, str]],
    body: bytes,
    date: datetime,
    *,
    extra: dict[str, str] | None = None,
    protocol: str = "HTTP/1.1",
) -> bytes:
    """Return one uncompressed WARC response record of a page, dated ``date``."""
    out = BytesIO()
    writer = WARCWriter(out, gzip=False)
    record = writer.create_warc_record(
        url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders(status_line, headers, protocol=protocol),
        warc_headers_dict={
            "WARC-Date": datetime_to_iso_date(date.astimezone(UTC).replace(tzinfo=None)),
            **(extra or {}),
        },
    )
    writer.write_record(record)
    return out.getvalue()


def read_warc(data: bytes, *, source: str, fetched_at: datetime) -> Page:
    """Rebuild the Page a raw record was written from (for re-extraction, without fetching)."""
    response = request = None
    for record in ArchiveIterator(BytesIO(data)):
        if record.rec_type == "response" and response is None:
            body = record.raw_stream.read()
            encoding = record.http_headers.get_header("Content-Encoding") or ""
            response = (record, body, decode_content(body, encoding))
        elif record.rec_type == "request" and request is None:
            request = record
            request.content_stream().read()
    if response is None:
        raise ValueError("no response record in the raw file")
    record, body, content = response
    headers = record.http_headers
    original = {value.lower(): name.title() for name, value in RENAMED_HEADERS.items()}
    return Page(
        source=source,
        url=record.rec_headers.get_header("WARC-Target-URI"),
        status=int(headers.get_statuscode()),
        body=body,
        content=content,
        request_headers=list(request.http_headers.headers) if request is not None else [],
        response_headers=[(original.get(n.lower(), n), v) for n, v in headers.headers],
        fetched_at=fetched_at,
        protocol=headers.protocol or "HTTP/1.1",
        ip_address=record.rec_headers.get_header("WARC-IP-Address"),
    )


def decode_content(body: bytes, content_encoding: str) -> bytes:
    """Undo a Content-Encoding (gzip, deflate, br; applied in order), as the crawl's client did."""
    data = body
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            try:
                data = zlib.decompress(data)
            except zlib.error:  # raw deflate, as some servers send it
                data = zlib.decompress(data, -zlib.MAX_WBITS)
        elif coding == "br":
            data = brotli.decompress(data)
        elif coding != "identity":
            raise ValueError(f"unknown Content-Encoding {coding!r}")
    return data
