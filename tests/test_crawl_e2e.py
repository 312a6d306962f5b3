"""End to end through the CLI: real pages on loopback, the real engine, a real archive."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.loopback import LoopbackServer
from tests.helpers.fixtures_s3 import s3_client
from tests.helpers.support import (
    FAST_CRAWL,
    archive_objects,
    dev_pages,
    dev_site,
    load_json,
    run_cli,
    write_config,
)

ARTICLE_FIELDS = {
    "id",
    "url",
    "canonical_url",
    "source",
    "title",
    "text",
    "authors",
    "published",
    "published_from",
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


class ArchiveReader:
    """Read an archive's objects with plain tools: the filesystem, or boto3 for S3."""

    def __init__(self, uri: str, env: dict[str, str] | None = None) -> None:
        self.uri = uri
        self.env = env or {}
        if uri.startswith("s3://"):
            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            self.bucket, self.prefix = bucket, prefix.strip("/") + "/"
            self.client = s3_client(self.env["AWS_ENDPOINT_URL_S3"])

    def keys(self, kind: str) -> list[str]:
        if not self.uri.startswith("s3://"):
            root = Path(self.uri)
            return [str(p.relative_to(root)) for p in archive_objects(root, kind)]
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{kind}/"
        )
        found = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
        return sorted(key.removeprefix(self.prefix) for key in found)

    def read(self, key: str) -> bytes:
        if not self.uri.startswith("s3://"):
            return (Path(self.uri) / key).read_bytes()
        body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]
        return bytes(body.read())

    def json(self, key: str) -> Any:
        return json.loads(self.read(key))

    def snapshot(self, kind: str) -> dict[str, bytes]:
        return {key: self.read(key) for key in self.keys(kind)}


@pytest.fixture(scope="module", params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def first_and_second_crawl(
    request: pytest.FixtureRequest, site: LoopbackServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Crawl the dev pages twice into one archive: a local folder, or a bucket on SeaweedFS."""
    folder = tmp_path_factory.mktemp(request.param)
    env: dict[str, str] = {}
    uri = str(folder / "archive")
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        env = server.env()
        s3_client(server.endpoint).create_bucket(Bucket="wire-e2e")
        uri = "s3://wire-e2e/news/archive"
    config = write_config(
        folder / "sources.yaml",
        [{"name": "devset", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    reader = ArchiveReader(uri, env)
    args = ["crawl", "--config", str(config), "--archive", uri, *FAST_CRAWL]
    first = run_cli([*args, "--summary", str(folder / "first.json")], env=env)
    after_first = {kind: reader.snapshot(kind) for kind in ("articles", "raw", "runs")}
    second = run_cli([*args, "--summary", str(folder / "second.json")], env=env)
    return {
        "reader": reader,
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
    assert len(first_and_second_crawl["after_first"]["articles"]) == len(pages)
    assert len(first_and_second_crawl["after_first"]["raw"]) == len(pages)


def test_articles_carry_every_contract_field(
    first_and_second_crawl: dict[str, Any], pages: dict[str, bytes]
) -> None:
    raw = first_and_second_crawl["after_first"]["raw"]
    articles = first_and_second_crawl["after_first"]["articles"]
    assert len(articles) == len(pages)  # an empty archive must not pass the loop below
    for key, data in articles.items():
        record = json.loads(data)
        assert record.keys() >= ARTICLE_FIELDS, key
        assert record["schema_version"] == 1
        assert record["source"] == "devset"
        assert record["text"].strip()
        assert isinstance(record["authors"], list)
        assert set(record["wire"]) == {"agency", "dateline"}
        assert set(record["extractor"]) == {"name", "version"}
        assert record["content_sha256"] == hashlib.sha256(record["text"].encode()).hexdigest()
        assert key.rsplit("/", 1)[1] == f"{record['id']}.json"
        assert key.split("/")[1] == "devset"
        assert record["raw_key"] in raw


def test_dates_are_plausible_and_say_where_they_came_from(
    first_and_second_crawl: dict[str, Any], pages: dict[str, bytes]
) -> None:
    sources: Counter[str] = Counter()
    articles = first_and_second_crawl["after_first"]["articles"]
    assert len(articles) == len(pages)
    for key, data in articles.items():
        record = json.loads(data)
        published = datetime.fromisoformat(record["published"])
        fetched = datetime.fromisoformat(record["fetched_at"])
        published = published if published.tzinfo else published.replace(tzinfo=UTC)
        assert datetime(1995, 1, 1, tzinfo=UTC) <= published <= fetched + timedelta(days=1)
        assert re.fullmatch(r"\d{4}", key.split("/")[2]), key
        sources[record["published_from"]] += 1
        if record["published_from"] == "feed":  # the feed lists every page at this time
            assert published == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert set(sources) <= {"jsonld", "meta", "feed", "text"}
    assert sources["feed"] > 0  # the spider passed the feed's date on (Page.listed_kind)
    assert sources["jsonld"] + sources["meta"] > sources["feed"] + sources["text"]


def test_raw_record_payload_is_the_served_bytes(
    first_and_second_crawl: dict[str, Any], pages: dict[str, bytes]
) -> None:
    raw = first_and_second_crawl["after_first"]["raw"]
    articles = first_and_second_crawl["after_first"]["articles"]
    assert len(articles) == len(raw) == len(pages)
    for data in articles.values():
        record = json.loads(data)
        served = pages[record["url"].rsplit("/", 1)[1].removesuffix(".html")]
        records = list(_records(raw[record["raw_key"]]))
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


def test_summary_matches_what_is_in_the_archive(first_and_second_crawl: dict[str, Any]) -> None:
    summary = first_and_second_crawl["first_summary"]
    runs = first_and_second_crawl["after_first"]["runs"]
    assert list(runs) == [f"runs/{summary['run_id']}.json"]
    assert json.loads(runs[f"runs/{summary['run_id']}.json"]) == summary
    assert summary["articles_archived"] == len(first_and_second_crawl["after_first"]["articles"])
    assert "articles archived" in first_and_second_crawl["first"].stdout


def test_second_crawl_adds_nothing(first_and_second_crawl: dict[str, Any]) -> None:
    second = first_and_second_crawl["second"]
    assert second.status == 0, second.stderr
    summary = first_and_second_crawl["second_summary"]
    assert summary["articles_archived"] == 0
    # Incremental: the archived pages are not even requested again.
    assert summary["pages_fetched"] == 0
    assert summary["skipped"] == first_and_second_crawl["first_summary"]["articles_archived"]
    reader: ArchiveReader = first_and_second_crawl["reader"]
    for kind in ("articles", "raw"):
        assert reader.snapshot(kind) == first_and_second_crawl["after_first"][kind]
    assert len(reader.keys("runs")) == 2
    # S3: the manifest, the first run's base and at most a segment for the second (the
    # search index stays in the machine's cache); local: the index and the search index,
    # inside the archive.
    keys = reader.keys("_state")
    if "_state/manifest.json" in keys:
        assert len([key for key in keys if key.startswith("_state/base/")]) == 1
        assert len([key for key in keys if key.startswith("_state/segments/")]) <= 1
        assert len(keys) <= 3
    else:
        assert keys == ["_state/index.sqlite3", "_state/search.sqlite3"]
