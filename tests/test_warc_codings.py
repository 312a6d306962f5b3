"""Raw records read back as the crawl's client read them: every Content-Encoding undone in
order, the request found among other records, the URL's query kept in the request line."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from pipelines.archive.warc import build_warc, decode_content, read_warc
from pipelines.items import Page

TEXT = b"<html><body><p>" + "Wire copy, \u00e9t\u00e9, \u65b0\u534e\u793e.".encode() * 40 + b"</p>"
FETCHED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("body", "coding"),
    [
        (TEXT, ""),
        (TEXT, "identity"),
        (gzip.compress(TEXT), "gzip"),
        (gzip.compress(TEXT), "x-gzip"),
        (gzip.compress(TEXT), " GZIP "),
        (zlib.compress(TEXT), "deflate"),  # zlib-wrapped, as the RFC says
        (_raw_deflate(TEXT), "deflate"),  # raw, as some servers send it
        (brotli.compress(TEXT), "br"),
        # Codings are listed in the order they were applied: undone last first.
        (brotli.compress(gzip.compress(TEXT)), "gzip, br"),
        (gzip.compress(zlib.compress(TEXT)), "deflate,gzip"),
        (gzip.compress(TEXT), "identity, gzip"),
    ],
)
def test_decode_content(body: bytes, coding: str) -> None:
    assert decode_content(body, coding) == TEXT


@pytest.mark.parametrize("coding", ["compress", "zstd", "gzip, lzma"])
def test_an_unknown_coding_is_named(coding: str) -> None:
    with pytest.raises(ValueError, match="unknown Content-Encoding") as caught:
        decode_content(gzip.compress(TEXT), coding)
    assert repr(coding.rsplit(",", maxsplit=1)[-1].strip()) in str(caught.value)


def _page(url: str, body: bytes, coding: str | None) -> Page:
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if coding:
        headers.append(("Content-Encoding", coding))
    return Page(
        source="wire",
        url=url,
        status=200,
        body=body,
        content=TEXT,
        request_headers=[("Host", "example.org"), ("User-Agent", "wirearchive-test")],
        response_headers=headers,
        fetched_at=FETCHED,
        ip_address="192.0.2.7",
    )


@pytest.mark.parametrize(
    ("body", "coding"),
    [(TEXT, None), (gzip.compress(TEXT), "gzip"), (brotli.compress(TEXT), "br")],
)
def test_a_record_reads_back_as_the_page_it_was_written_from(body: bytes, coding: str) -> None:
    page = _page("https://example.org/world/story.html?id=7&lang=en", body, coding)
    again = read_warc(build_warc(page), source="wire", fetched_at=FETCHED)
    assert again.url == page.url
    assert again.status == 200
    assert again.body == body  # the bytes as sent
    assert again.content == TEXT  # what extraction reads
    assert again.request_headers == page.request_headers
    assert again.response_headers == page.response_headers
    assert again.ip_address == "192.0.2.7"
    assert again.protocol == "HTTP/1.1"


@pytest.mark.parametrize("kind", ["warcinfo", "metadata"])
def test_the_request_is_found_after_other_records(kind: str) -> None:
    # A WARC file may hold warcinfo or metadata records (CC-NEWS files do): they are
    # neither the response nor the request.
    page = _page("https://example.org/a.html", TEXT, None)
    out = BytesIO()
    writer = WARCWriter(out, gzip=True)
    if kind == "warcinfo":
        writer.write_record(writer.create_warcinfo_record("a.warc.gz", {"software": "test"}))
        out.write(build_warc(page))
    else:
        # The response, then a metadata record about it, then the request.
        records = list(ArchiveIterator(BytesIO(build_warc(page))))
        assert [r.rec_type for r in records] == ["response", "request"]
        response_only, request_only = _split_members(build_warc(page))
        out.write(response_only)
        metadata = writer.create_warc_record(
            page.url,
            "metadata",
            payload=BytesIO(b"outlinks: none\r\n"),
            warc_content_type="application/warc-fields",
        )
        writer.write_record(metadata)
        out.write(request_only)
    again = read_warc(out.getvalue(), source="wire", fetched_at=FETCHED)
    assert again.request_headers == page.request_headers
    assert again.content == TEXT


def _split_members(data: bytes) -> tuple[bytes, bytes]:
    """Split a two-record WARC into its records' bytes (each record is its own gzip member)."""
    offsets = [record.offset for record in _offsets(data)]
    assert len(offsets) == 2
    return data[offsets[0] : offsets[1]], data[offsets[1] :]


def _offsets(data: bytes) -> list[Any]:
    iterator = ArchiveIterator(BytesIO(data))
    found = []
    for record in iterator:
        record.offset = iterator.get_record_offset()
        found.append(record)
    return found


@pytest.mark.parametrize(("status", "line"), [(200, b"200 OK"), (599, b"599 Unknown")])
def test_the_status_line_gives_the_reason_or_unknown(status: int, line: bytes) -> None:
    page = _page("https://example.org/a.html", TEXT, None)
    page.status = status
    response = next(ArchiveIterator(BytesIO(build_warc(page))))
    assert response.http_headers.statusline.encode() == line
    again = read_warc(build_warc(page), source="wire", fetched_at=FETCHED)
    assert again.status == status


def test_a_file_without_a_response_is_refused() -> None:
    out = BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("a.warc.gz", {"software": "test"}))
    with pytest.raises(ValueError, match="no response record"):
        read_warc(out.getvalue(), source="wire", fetched_at=FETCHED)
