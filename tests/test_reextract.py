"""reextract: re-derive articles from their raw records; change exactly what changed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pipelines.archive.warc import build_warc, read_warc
from pipelines.items import Page
from tests.helpers.support import (
    FAST_CRAWL,
    archive_objects,
    load_json,
    news_site,
    run_cli,
    write_config,
)

PAGES = 5


def test_read_warc_gives_back_the_page_that_was_written() -> None:
    page = Page(
        source="wire",
        url="https://example.org/a.html",
        status=200,
        body=b"<html><body><p>Hello</p></body></html>",
        content=b"<html><body><p>Hello</p></body></html>",
        request_headers=[("Host", "example.org"), ("User-Agent", "wirearchive")],
        response_headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
        fetched_at=datetime.fromisoformat("2026-11-25T10:00:00+00:00"),
        ip_address="93.184.216.34",
    )
    again = read_warc(build_warc(page), source="wire", fetched_at=page.fetched_at)
    assert again.url == page.url
    assert again.body == page.body
    assert again.content == page.content
    assert again.status == 200
    assert again.response_headers == page.response_headers
    assert again.request_headers == page.request_headers
    assert again.ip_address == page.ip_address


def test_reextract_changes_exactly_the_articles_whose_extraction_changed(tmp_path: Path) -> None:
    server = news_site(PAGES)
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        crawl = run_cli(["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL])
        assert crawl.status == 0, crawl.stderr
        fetched = len(server.requests)
    keys = archive_objects(archive, "articles")
    assert len(keys) == PAGES
    # Two articles as an older extractor left them: other text and metadata.
    stale = keys[:2]
    for path in stale:
        record = load_json(path)
        record["text"] = record["text"] + "\nSubscribe to our newsletter for more stories."
        record["authors"] = ["By Staff"]
        path.write_text(json.dumps(record), encoding="utf-8")
    untouched = {path: path.read_bytes() for path in keys[2:]}
    # One raw record whose page is now an error page: it would be rejected today.
    gone = load_json(keys[2])
    raw = archive / gone["raw_key"]
    page = read_warc(raw.read_bytes(), source="wire", fetched_at=datetime.now().astimezone())
    page.body = page.content = (
        b"<html><head><title>404 Not Found</title></head><body></body></html>"
    )
    raw.write_bytes(build_warc(page))

    report_path = tmp_path / "report.json"
    result = run_cli(
        [
            *("reextract", "--config", str(config), "--archive", str(archive)),
            *("--summary", str(report_path)),
        ]
    )
    assert result.status == 0, result.stderr
    report = load_json(report_path)
    assert report["seen"] == PAGES
    assert report["changed"] == 2
    assert report["unchanged"] == PAGES - 3
    assert report["newly_rejected"] == 1
    assert sorted(report["changed_keys"]) == sorted(str(p.relative_to(archive)) for p in stale)
    for path in stale:
        record = load_json(path)
        assert "Subscribe to our newsletter" not in record["text"]
        assert record["authors"] != ["By Staff"]
    for path, data in untouched.items():
        assert path.read_bytes() == data  # unchanged and newly rejected: left as they were
    assert len(server.requests) == fetched  # never fetches (the server is even stopped)
    assert "2 changed" in result.stdout
