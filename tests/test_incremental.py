"""Incremental cron runs: nothing fetched twice, 304s for unchanged feeds, one run at a time."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from tests.helpers.fixtures_s3 import S3Server, s3_client
from tests.helpers.support import (
    FAST_CRAWL,
    ROOT,
    archive_objects,
    dev_pages,
    load_json,
    rss,
    run_cli,
    write_config,
)

PAGES = 6


class ConditionalFeed:
    """A feed that answers 304 when the client already has its current version."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.answers: list[int] = []

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        if headers.get("If-None-Match") == etag:
            self.answers.append(304)
            return Resource(b"", "application/rss+xml", 304, {"ETag": etag})
        self.answers.append(200)
        return Resource(self.body, "application/rss+xml", 200, {"ETag": etag})


@pytest.fixture
def site() -> Iterator[tuple[LoopbackServer, ConditionalFeed, list[bytes]]]:
    server = LoopbackServer()
    pages = list(dev_pages().values())[:PAGES]
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    for number, body in enumerate(pages):
        server.routes[f"/news/{number}.html"] = Resource(body, "text/html")
    with server.running():
        feed = ConditionalFeed(rss((server.url(f"/news/{n}.html"), None) for n in range(PAGES)))
        server.routes["/feed.xml"] = feed
        yield server, feed, pages


def article_requests(server: LoopbackServer) -> int:
    return sum(path.startswith("/news/") for path in server.requests)


def crawl_args(tmp_path: Path, server: LoopbackServer, archive: str, name: str) -> list[str]:
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    summary = str(tmp_path / f"{name}.json")
    return ["crawl", "--config", str(config), "--archive", archive, "--summary", summary]


def test_second_run_fetches_nothing_and_the_feed_answers_304(
    tmp_path: Path, site: tuple[LoopbackServer, ConditionalFeed, list[bytes]]
) -> None:
    server, feed, _pages = site
    archive = str(tmp_path / "archive")
    first = run_cli([*crawl_args(tmp_path, server, archive, "first"), *FAST_CRAWL])
    assert first.status == 0, first.stderr
    assert article_requests(server) == PAGES
    second = run_cli([*crawl_args(tmp_path, server, archive, "second"), *FAST_CRAWL])
    assert second.status == 0, second.stderr
    assert article_requests(server) == PAGES
    assert feed.answers == [200, 304]
    summary = load_json(tmp_path / "second.json")
    assert summary["pages_fetched"] == 0
    assert summary["discovery"]["not_modified"] == 1
    # A new story in the feed is found and fetched: the 304 only saved the unchanged feed.
    server.routes["/news/new.html"] = Resource(
        _pages[0].replace(b"<title>", b"<title>New "), "text/html"
    )
    feed.body = rss(
        [(server.url(f"/news/{n}.html"), None) for n in range(PAGES)]
        + [(server.url("/news/new.html"), None)]
    )
    third = run_cli([*crawl_args(tmp_path, server, archive, "third"), *FAST_CRAWL])
    assert third.status == 0, third.stderr
    summary = load_json(tmp_path / "third.json")
    assert summary["pages_fetched"] == 1
    assert summary["skipped"] == PAGES
    # Same text at a new URL: recorded as an exact duplicate, not archived twice.
    assert summary["duplicates"]["exact"] == 1
    assert len(archive_objects(Path(archive), "articles")) == PAGES


def test_a_fresh_container_against_the_same_s3_archive_fetches_nothing(
    tmp_path: Path,
    site: tuple[LoopbackServer, ConditionalFeed, list[bytes]],
    s3_server: S3Server,
) -> None:
    server, feed, _pages = site
    s3_client(s3_server.endpoint).create_bucket(Bucket="incremental")
    archive = "s3://incremental/wire"
    env = {**s3_server.env(), "XDG_CACHE_HOME": str(tmp_path / "cache-one")}
    # The first run has half the stories (its index becomes the archive's first base), the
    # second the rest (its index changes become one segment).
    feed.body = rss((server.url(f"/news/{n}.html"), None) for n in range(PAGES // 2))
    first = run_cli([*crawl_args(tmp_path, server, archive, "first"), *FAST_CRAWL], env=env)
    assert first.status == 0, first.stderr
    feed.body = rss((server.url(f"/news/{n}.html"), None) for n in range(PAGES))
    second = run_cli([*crawl_args(tmp_path, server, archive, "second"), *FAST_CRAWL], env=env)
    assert second.status == 0, second.stderr
    assert article_requests(server) == PAGES
    state = sorted(
        obj["Key"].removeprefix("wire/_state/")
        for obj in s3_client(s3_server.endpoint)
        .list_objects_v2(Bucket="incremental", Prefix="wire/_state/")
        .get("Contents", [])
    )
    assert [key.split("/")[0] for key in state] == ["base", "manifest.json", "segments"]
    # Another machine: no cache, only the archive: base plus segment, no page fetched.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    env = {**s3_server.env(), "XDG_CACHE_HOME": str(fresh / "cache")}
    third = run_cli([*crawl_args(fresh, server, archive, "third"), *FAST_CRAWL], env=env)
    assert third.status == 0, third.stderr
    assert article_requests(server) == PAGES
    # The feed's validators travelled with the index: even the feed costs only a 304.
    assert load_json(fresh / "third.json")["discovery"]["not_modified"] == 1


def test_refresh_stores_a_changed_text_as_a_new_version(
    tmp_path: Path, site: tuple[LoopbackServer, ConditionalFeed, list[bytes]]
) -> None:
    server, _feed, pages = site
    archive = tmp_path / "archive"
    first = run_cli([*crawl_args(tmp_path, server, str(archive), "first"), *FAST_CRAWL])
    assert first.status == 0, first.stderr
    before = {path: path.read_bytes() for path in archive_objects(archive, "articles")}
    original = load_json(next(iter(before)))
    number = original["url"].rsplit("/", 1)[1].removesuffix(".html")
    # The outlet corrects its story: a word of the text changes everywhere on the page.
    body = pages[int(number)]
    word = next(
        w for w in original["text"].split() if len(w) >= 8 and w.isalpha() and w.encode() in body
    )
    changed = body.replace(word.encode(), b"recalculated")
    server.routes[f"/news/{number}.html"] = Resource(changed, "text/html")
    refresh = run_cli(
        [*crawl_args(tmp_path, server, str(archive), "refresh"), "--refresh", *FAST_CRAWL]
    )
    assert refresh.status == 0, refresh.stderr
    summary = load_json(tmp_path / "refresh.json")
    assert summary["pages_fetched"] == PAGES
    assert summary["revised"] == 1
    assert summary["unchanged"] == PAGES - 1
    after = archive_objects(archive, "articles")
    for path, data in before.items():
        assert path.read_bytes() == data  # the first version is never overwritten
    revisions = [path for path in after if path.name.endswith(".v2.json")]
    assert len(revisions) == 1
    revision: dict[str, Any] = load_json(revisions[0])
    assert revision["id"] == original["id"]
    assert revision["version"] == 2
    assert "recalculated" in revision["text"]
    assert (archive / revision["raw_key"]).is_file()


class SlowPage:
    def __init__(self, body: bytes, delay: float) -> None:
        self.body = body
        self.delay = delay

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        time.sleep(self.delay)
        return Resource(self.body, "text/html")


def test_two_runs_at_once_the_second_exits_75(
    tmp_path: Path, site: tuple[LoopbackServer, ConditionalFeed, list[bytes]]
) -> None:
    server, _feed, pages = site
    server.routes["/news/0.html"] = SlowPage(pages[0], 6.0)
    archive = str(tmp_path / "archive")
    args = crawl_args(tmp_path, server, archive, "first")
    first = subprocess.Popen(
        [sys.executable, "-m", "crawler", *args, *FAST_CRAWL],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (Path(archive) / "_state" / "lock.json").exists():
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.05)
        second = run_cli([*crawl_args(tmp_path, server, archive, "second"), *FAST_CRAWL])
        assert second.status == 75
        line = second.stderr.strip()
        assert "\n" not in line
        assert "is locked by run" in line
    finally:
        _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert not (Path(archive) / "_state" / "lock.json").exists()


def test_a_listed_url_that_redirects_to_an_archived_one_is_asked_once(
    tmp_path: Path, site: tuple[LoopbackServer, ConditionalFeed, list[bytes]]
) -> None:
    server, feed, _pages = site
    archive = str(tmp_path / "archive")
    first = run_cli([*crawl_args(tmp_path, server, archive, "first"), *FAST_CRAWL])
    assert first.status == 0, first.stderr
    # The site moves a story: the feed now lists its old address, which redirects.
    target = server.url("/news/0.html")
    server.routes["/old/0.html"] = Resource(b"", None, 301, {"Location": target})
    feed.body = rss(
        [(server.url("/old/0.html"), None)]
        + [(server.url(f"/news/{n}.html"), None) for n in range(PAGES)]
    )
    second = run_cli([*crawl_args(tmp_path, server, archive, "second"), *FAST_CRAWL])
    assert second.status == 0, second.stderr
    summary = load_json(tmp_path / "second.json")
    assert summary["duplicates"]["url"] == 1
    assert summary["articles_archived"] == 0
    feed.body = rss(  # the same links in another order: the feed is read again, not a 304
        [(server.url(f"/news/{n}.html"), None) for n in reversed(range(PAGES))]
        + [(server.url("/old/0.html"), None)]
    )
    third = run_cli([*crawl_args(tmp_path, server, archive, "third"), *FAST_CRAWL])
    assert third.status == 0, third.stderr
    assert feed.answers[-1] == 200
    assert server.requests.count("/old/0.html") == 1  # known now: skipped before download
    assert load_json(tmp_path / "third.json")["skipped"] == PAGES + 1
    records = [load_json(p) for p in archive_objects(Path(archive), "duplicates")]
    assert [(r["url"], r["kind"]) for r in records] == [(server.url("/old/0.html"), "url")]
    originals = {
        load_json(p)["url"]: load_json(p)["id"] for p in archive_objects(Path(archive), "articles")
    }
    assert records[0]["duplicate_of"] == originals[target]
