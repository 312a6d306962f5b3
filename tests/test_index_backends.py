"""Either index backend behind one Protocol: verify and reextract get the same outcomes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pipelines.archive.keys import article_keys, encode_json
from pipelines.archive.reextract import reextract
from pipelines.archive.stores import Store, open_store
from pipelines.archive.verify import verify
from pipelines.archive.warc import build_warc
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.extract.pipeline import build_article
from pipelines.index.backends import UnknownIndexScheme, open_index
from pipelines.index.base import Index, Known
from pipelines.index.redis import RedisIndex
from pipelines.index.redis_scripts import SCRIPTS, lua_source
from pipelines.index.sqlite import StateIndex
from pipelines.items import Page
from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401
from tests.helpers.support import FAST_CRAWL, dev_pages, news_site, run_cli, write_config

DAY = "2026/11/25"
BACKENDS = {"sqlite": StateIndex, "redis": RedisIndex}


def story(seed: str) -> str:
    return " ".join(f"{seed}{n} of the story told at length" for n in range(80))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Index]]:
    """Return a local archive and its index in one backend: SQLite, or a real Redis."""
    store = open_store(str(tmp_path / "archive"))
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    index = open_index(store, url)
    assert isinstance(index, BACKENDS[request.param])
    yield store, index
    index.close()


def archive_article(store: Store, n: int, text: str) -> dict[str, Any]:
    """Write an article's JSON and raw record, as the archive pipeline would."""
    article_id = f"{n:020x}"
    record = {
        "id": article_id,
        "url": f"https://example.org/{n}",
        "canonical_url": f"https://example.org/{n}",
        "source": "wire",
        "text": text,
        "content_sha256": sha(text),
        "raw_key": f"raw/wire/{DAY}/{article_id}.warc.gz",
    }
    store.put(key_of(record), encode_json(record), content_type="application/json")
    store.put(record["raw_key"], b"raw", content_type="application/warc")
    return record


def key_of(record: dict[str, Any]) -> str:
    return f"articles/wire/{DAY}/{record['id']}.json"


def index_record(index: Index, record: dict[str, Any]) -> None:
    index.record_article(
        article_id=record["id"],
        key=key_of(record),
        content_sha256=record["content_sha256"],
        urls=[record["url"]],
        fingerprint=exact_fingerprint(record["text"]),
        text=record["text"],
    )


# -- verify ----------------------------------------------------------------------------------


def test_verify_reports_and_repairs_on_either_backend(backend: tuple[Store, Index]) -> None:
    store, index = backend
    kept = archive_article(store, 1, story("kept"))
    unindexed = archive_article(store, 2, story("unindexed"))
    gone = archive_article(store, 3, story("gone"))
    index_record(index, kept)
    index_record(index, gone)
    index.record_urls(["https://copy.example/3"], gone["id"], "near")
    store.delete(key_of(gone))
    copy = {"id": "d" * 20, "url": "https://copy.example/2", "kind": "exact"}
    copy["duplicate_of"] = unindexed["id"]
    store.put(f"duplicates/wire/{DAY}/{'d' * 20}.json", encode_json(copy), content_type="x")

    report = verify(store, index)
    assert (report.articles, report.duplicates) == (2, 1)
    assert report.unindexed == [key_of(unindexed)]
    assert report.missing_objects == [key_of(gone)]
    assert not report.clean
    assert index.article(unindexed["id"]) is None  # reported, not repaired
    assert index.article(gone["id"]) is not None

    repaired = verify(store, index, repair=True)
    assert repaired.unindexed == [key_of(unindexed)]
    assert repaired.missing_objects == [key_of(gone)]
    new = Known(unindexed["id"], key_of(unindexed), "article")
    assert index.article(unindexed["id"]) == (key_of(unindexed), unindexed["content_sha256"], 1)
    assert index.url(unindexed["url"]) == new
    assert index.url("https://copy.example/2") == Known(new.article_id, new.key, "exact")
    assert index.text(exact_fingerprint(unindexed["text"])) == Known(
        new.article_id, new.key, "exact"
    )
    # The article whose object is gone is forgotten whole: the next run fetches it again.
    assert index.article(gone["id"]) is None
    assert index.url(gone["url"]) is None
    assert index.url("https://copy.example/3") is None
    assert index.text(exact_fingerprint(gone["text"])) is None
    assert index.near_match(gone["text"]) is None
    assert index.articles() == sorted(
        [(kept["id"], key_of(kept)), (unindexed["id"], key_of(unindexed))]
    )
    assert verify(store, index).clean


def test_a_forgotten_article_is_indexed_afresh(backend: tuple[Store, Index]) -> None:
    store, index = backend
    record = archive_article(store, 7, story("again"))
    index_record(index, record)
    index.record_urls(["https://copy.example/7"], record["id"], "near")
    index.record_urls(["https://orphan.example/9"], "f" * 20, "exact")  # not indexed itself
    index.forget(record["id"])
    index.forget("f" * 20)
    assert index.url(record["url"]) is None
    assert index.url("https://copy.example/7") is None
    assert index.url("https://orphan.example/9") is None
    # First writer wins for a URL: none of the old entries may still hold it.
    index_record(index, record)
    assert index.url(record["url"]) == Known(record["id"], key_of(record), "article")
    assert index.near_match(record["text"]) is not None


# -- reextract's index update ----------------------------------------------------------------


def archived_page(store: Store, index: Index, stale_tail: str) -> tuple[str, dict[str, Any]]:
    """Archive a real page as an older extractor left it: its text with ``stale_tail``."""
    body = next(iter(dev_pages().values()))
    page = Page(
        source="wire",
        url="https://example.org/news/1.html",
        status=200,
        body=body,
        content=body,
        request_headers=[("Host", "example.org")],
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
        fetched_at=datetime(2026, 11, 25, 10, tzinfo=UTC),
    )
    article = build_article(page)
    key, raw_key = article_keys(article)
    article.raw_key = raw_key
    fresh = article.to_record()
    stale = {**fresh, "text": fresh["text"] + stale_tail}
    stale["content_sha256"] = sha(stale["text"])
    store.put(raw_key, build_warc(page), content_type="application/warc")
    store.put(key, encode_json(stale), content_type="application/json")
    index.record_article(
        article_id=stale["id"],
        key=key,
        content_sha256=stale["content_sha256"],
        urls=[stale["url"]],
        fingerprint=exact_fingerprint(stale["text"]),
        text=stale["text"],
    )
    return key, fresh


def test_reextract_reindexes_the_new_text_on_either_backend(
    backend: tuple[Store, Index],
) -> None:
    store, index = backend
    key, fresh = archived_page(store, index, "\nSubscribe to our newsletter for more stories.")
    stale_text = json.loads(store.get(key))["text"]

    report = reextract(store, index, [key])

    assert (report.changed, report.changed_keys) == (1, [key])
    written = json.loads(store.get(key))
    assert written["text"] == fresh["text"]
    assert index.article(fresh["id"]) == (key, written["content_sha256"], 1)
    assert index.text(exact_fingerprint(fresh["text"])) == Known(fresh["id"], key, "exact")
    assert index.text(exact_fingerprint(stale_text)) is None
    match = index.near_match(fresh["text"])
    assert match is not None
    assert (match.article_id, match.similarity) == (fresh["id"], pytest.approx(1.0))


def test_reextract_counts_an_article_that_now_duplicates_another(
    backend: tuple[Store, Index],
) -> None:
    store, index = backend
    key, fresh = archived_page(store, index, "\nSubscribe to our newsletter for more stories.")
    other = archive_article(store, 8, fresh["text"])  # archived with today's text already
    index_record(index, other)

    report = reextract(store, index, [key])

    assert (report.changed, report.now_duplicates) == (1, 1)
    # Both stay archived; the text keeps leading to the article that had it first.
    first = Known(other["id"], key_of(other), "exact")
    assert index.text(exact_fingerprint(fresh["text"])) == first
    assert index.article(fresh["id"]) is not None


# -- the factory and the scripts -------------------------------------------------------------


def test_open_index_refuses_an_unknown_scheme(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "archive"))
    with pytest.raises(UnknownIndexScheme, match=r"memcached://x.*redis://"):
        open_index(store, "memcached://x")


def test_redis_keys_are_named_by_the_archive_uri_the_workers_share(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    store = open_store(str(tmp_path / "archive"))
    shared = open_index(store, redis_url, archive="./archive")
    default = open_index(store, redis_url)
    assert isinstance(shared, RedisIndex)
    assert isinstance(default, RedisIndex)
    assert shared.prefix == RedisIndex(redis_url, "./archive").prefix
    assert default.prefix == RedisIndex(redis_url, store.uri).prefix
    assert shared.prefix != default.prefix
    shared.close()
    default.close()


def test_every_lua_file_is_a_script_the_index_loads() -> None:
    folder = resources.files("pipelines.index").joinpath("lua")
    files = {entry.name for entry in folder.iterdir() if entry.name.endswith(".lua")}
    assert files == {f"{name}.lua" for name in SCRIPTS} | {"prelude.lua"}
    for name, prelude in SCRIPTS.items():
        source = lua_source(name)
        assert ("local function slot_write" in source) == prelude
        assert "@" not in source  # every layout constant filled in


def test_verify_checks_the_index_it_is_given_sqlite_or_redis(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    """After a distributed crawl the archive is indexed in Redis only; verify says so."""
    with news_site(3).running() as server:
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        archive = str(tmp_path / "archive")
        common = ["--config", str(config), "--archive", archive]
        crawled = run_cli(["crawl", *common, "--redis", redis_url, *FAST_CRAWL])
    assert crawled.status == 0, crawled.stderr
    shared = run_cli(["verify", *common, "--redis", redis_url, "--json"])
    assert shared.status == 0, shared.stdout + shared.stderr
    assert json.loads(shared.stdout)["articles"] == 3
    assert json.loads(shared.stdout)["unindexed"] == []
    # The archive's own SQLite index never saw those articles: verify there finds them missing.
    local = run_cli(["verify", *common, "--json"])
    assert local.status == 1
    assert len(json.loads(local.stdout)["unindexed"]) == 3
