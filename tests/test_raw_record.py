"""The raw record keeps the bytes on the wire: a gzip, chunked page replays and re-extracts."""

from __future__ import annotations

import gzip
from datetime import datetime
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.demo.loopback import LoopbackServer, Resource
from pipelines.archive.warc import build_warc
from pipelines.items import Page
from tests.helpers.support import archive_objects, crawl, dev_pages, load_json, rss, run_cli

CHUNK = 4096


def gzip_chunked_site() -> tuple[LoopbackServer, bytes, bytes]:
    """Serve one dev page gzip-encoded in chunks; return the server, the page, its wire bytes."""
    page = next(iter(dev_pages().values()))
    wire = gzip.compress(page, mtime=0)
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    server.routes["/news/story.html"] = Resource(
        b"",
        "text/html; charset=utf-8",
        headers={"Content-Encoding": "gzip"},
        stream=lambda: [wire[i : i + CHUNK] for i in range(0, len(wire), CHUNK)],
    )
    server.routes["/feed.xml"] = Resource(
        rss([(server.url("/news/story.html"), None)]), "application/rss+xml"
    )
    return server, page, wire


def test_a_gzip_chunked_page_is_kept_as_sent_and_read_back(tmp_path: Path) -> None:
    server, page, wire = gzip_chunked_site()
    feed = server.url("/feed.xml")
    with server.running():
        result, summary, archive = crawl(tmp_path, [{"name": "wire", "feeds": [feed]}])
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == 1
    [raw] = archive_objects(archive, "raw")
    responses = []
    for record in ArchiveIterator(BytesIO(raw.read_bytes())):
        if record.rec_type == "response":  # read it now: the iterator moves past it
            responses.append((record.http_headers, record.raw_stream.read()))
    assert len(responses) == 1
    headers, payload = responses[0]
    # The payload is the content-coded body as sent (de-chunked by the client, still gzip),
    # so the record's Content-Encoding stays true and replay tools decode it once.
    assert payload == wire
    assert headers.get_header("Content-Encoding") == "gzip"
    # The payload is de-chunked: a Transfer-Encoding header would make readers de-chunk again.
    assert headers.get_header("Transfer-Encoding") is None
    # warcio decodes it back to the page, and re-extraction from the record gives the same text.
    again = ArchiveIterator(BytesIO(raw.read_bytes()))
    decoded = next(r for r in again if r.rec_type == "response").content_stream().read()
    assert decoded == page
    [article_path] = archive_objects(archive, "articles")
    before = load_json(article_path)
    reextract = run_cli(
        ["reextract", "--archive", str(archive), "--config", str(tmp_path / "sources.yaml")]
    )
    assert reextract.status == 0, reextract.stderr
    after = load_json(article_path)
    assert after["text"] == before["text"]
    assert after["content_sha256"] == before["content_sha256"]


def test_a_chunked_response_header_is_kept_under_another_name() -> None:
    """Replay tools would de-chunk the (already de-chunked) payload again if it stayed."""
    body = b"<html><body><p>" + b"x" * 100 + b"</p></body></html>"
    page = Page(
        source="wire",
        url="https://example.org/a.html",
        status=200,
        body=body,
        content=body,
        request_headers=[("Host", "example.org")],
        response_headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
        fetched_at=datetime.fromisoformat("2026-11-25T10:00:00+00:00"),
    )
    records = []
    for record in ArchiveIterator(BytesIO(build_warc(page))):
        if record.rec_type == "response":
            records.append((record.http_headers, record.content_stream().read()))
    [(headers, content)] = records
    assert headers.get_header("Transfer-Encoding") is None
    assert headers.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert content == body
