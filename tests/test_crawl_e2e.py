"""End to end through the CLI: real pages on loopback, the real engine, a real archive."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.loopback import LoopbackServer
from tests.support import (
    DEV_SET,
    FAST_CRAWL,
    archive_objects,
    dev_pages,
    dev_site,
    load_json,
    run_cli,
    write_config,
)

pytestmark = pytest.mark.skipif(not DEV_SET.exists(), reason="shared/data/extraction-dev missing")

ARTICLE_FIELDS = {
    "id",
    "url",
    "canonical_url",
    "source",
    "title",
    "text",
    "authors",
    "published",
    "fetched_at",
    "language",
    "sitename",
    "wire",
    "content_sha256",
    "raw_key",
    "extractor",
    "schema_version",
}
SUMMARY_FIELDS = {
    "run_id",
    "started_at",
    "finished_at",
    "status",
    "sources",
    "pages_fetched",
    "articles_archived",
    "duplicates",
    "rejected",
    "errors",
}


@pytest.fixture(scope="module")
def pages() -> dict[str, bytes]:
    return dev_pages()


@pytest.fixture(scope="module")
def site(pages: dict[str, bytes]) -> Iterator[LoopbackServer]:
    with dev_site(pages).running() as server:
        yield server


@pytest.fixture(scope="module")
def first_and_second_crawl(
    site: LoopbackServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Crawl the dev pages twice into one local archive."""
    folder = tmp_path_factory.mktemp("local")
    config = write_config(
        folder / "sources.yaml",
        [{"name": "devset", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    archive = folder / "archive"
    args = ["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
    first = run_cli([*args, "--summary", str(folder / "first.json")])
    after_first = {kind: archive_objects(archive, kind) for kind in ("articles", "raw", "runs")}
    second = run_cli([*args, "--summary", str(folder / "second.json")])
    return {
        "archive": archive,
        "first": first,
        "second": second,
        "after_first": after_first,
        "first_summary": load_json(folder / "first.json"),
        "second_summary": load_json(folder / "second.json"),
    }


def test_first_crawl_archives_every_dev_page(
    first_and_second_crawl: dict[str, Any], pages: dict[str, bytes]
) -> None:
    result = first_and_second_crawl["first"]
    assert result.status == 0, result.stderr
    summary = first_and_second_crawl["first_summary"]
    assert summary.keys() >= SUMMARY_FIELDS
    assert summary["status"] == "ok"
    assert summary["pages_fetched"] == len(pages)
    assert summary["articles_archived"] == len(pages)
    assert summary["rejected"] == {}
    assert summary["errors"] == 0
    articles = first_and_second_crawl["after_first"]["articles"]
    assert len(articles) == len(pages)
    assert len(first_and_second_crawl["after_first"]["raw"]) == len(pages)


def test_articles_carry_every_contract_field(first_and_second_crawl: dict[str, Any]) -> None:
    archive: Path = first_and_second_crawl["archive"]
    for path in first_and_second_crawl["after_first"]["articles"]:
        record = load_json(path)
        assert record.keys() >= ARTICLE_FIELDS, path
        assert record["schema_version"] == 1
        assert record["source"] == "devset"
        assert record["text"].strip()
        assert isinstance(record["authors"], list)
        assert set(record["wire"]) == {"agency", "dateline"}
        assert set(record["extractor"]) == {"name", "version"}
        assert record["content_sha256"] == hashlib.sha256(record["text"].encode()).hexdigest()
        assert path.name == f"{record['id']}.json"
        assert (archive / record["raw_key"]).is_file()
        assert path.relative_to(archive).parts[1] == "devset"


def test_raw_record_payload_is_the_served_bytes(
    first_and_second_crawl: dict[str, Any], pages: dict[str, bytes]
) -> None:
    archive: Path = first_and_second_crawl["archive"]
    for path in first_and_second_crawl["after_first"]["articles"]:
        record = load_json(path)
        served = pages[record["url"].rsplit("/", 1)[1].removesuffix(".html")]
        with (archive / record["raw_key"]).open("rb") as stream:
            records = list(_records(stream.read()))
        response = records[0]
        assert response["type"] == "response"
        assert response["uri"] == record["url"]
        assert response["payload"] == served
        assert response["status"] == "200"
        assert any(name.lower() == "user-agent" for name, _ in records[1]["headers"])


def _records(data: bytes) -> Iterator[dict[str, Any]]:
    for record in ArchiveIterator(io.BytesIO(data)):
        yield {
            "type": record.rec_type,
            "uri": record.rec_headers.get_header("WARC-Target-URI"),
            "status": record.http_headers.get_statuscode()
            if record.rec_type == "response"
            else None,
            "headers": record.http_headers.headers if record.http_headers else [],
            "payload": record.content_stream().read(),
        }


def test_summary_matches_what_is_on_disk(first_and_second_crawl: dict[str, Any]) -> None:
    summary = first_and_second_crawl["first_summary"]
    runs = first_and_second_crawl["after_first"]["runs"]
    assert [path.name for path in runs] == [f"{summary['run_id']}.json"]
    assert load_json(runs[0]) == summary
    assert summary["articles_archived"] == len(first_and_second_crawl["after_first"]["articles"])
    assert "articles archived" in first_and_second_crawl["first"].stdout


def test_second_crawl_adds_nothing(first_and_second_crawl: dict[str, Any]) -> None:
    second = first_and_second_crawl["second"]
    assert second.status == 0, second.stderr
    summary = first_and_second_crawl["second_summary"]
    assert summary["articles_archived"] == 0
    assert summary["unchanged"] == first_and_second_crawl["first_summary"]["articles_archived"]
    archive: Path = first_and_second_crawl["archive"]
    for kind in ("articles", "raw"):
        after = archive_objects(archive, kind)
        assert after == first_and_second_crawl["after_first"][kind]
    for path in first_and_second_crawl["after_first"]["articles"]:
        assert load_json(path)["fetched_at"] <= summary["started_at"]
