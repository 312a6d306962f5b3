"""One story archived once: syndicated copies and re-serves become duplicates, end to end."""

from __future__ import annotations

import html
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from tests.helpers.support import (
    DEV_SET,
    FAST_CRAWL,
    FIXTURES,
    archive_objects,
    dev_pages,
    load_json,
    rss,
    run_cli,
    write_config,
)

ORIGINALS = 45
SYNDICATED = 30
RESERVED_AT_OTHER_PATH = 5
RESERVED_WITH_TRACKING = 5


def syndicate(body: str, rng: random.Random) -> list[str]:
    """Edit a wire story the way a republisher does: last paragraph cut, ~3% of words changed."""
    paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
    if len(paragraphs) > 2:
        paragraphs = paragraphs[:-1]
    edited = []
    for paragraph in paragraphs:
        words = paragraph.split()
        for index in range(len(words)):
            if rng.random() < 0.03:
                words[index] = rng.choice(["reportedly", "officials", "the", "also", "said"])
        edited.append(" ".join(words))
    return edited


def republished_page(title: str, paragraphs: list[str]) -> bytes:
    template = (FIXTURES / "syndication" / "republisher.html").read_text(encoding="utf-8")
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paragraphs)
    return template.format(
        title=html.escape(title),
        author="Staff and wire reports",
        when="5 minutes ago",
        paragraphs=body,
    ).encode("utf-8")


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[LoopbackServer, LoopbackServer, dict[str, Any]]]:
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    pages = dev_pages()
    # The longest stories: a syndicated copy of a one-paragraph brief is not a near copy.
    chosen = sorted(pages, key=lambda pid: -len(truth[pid]["articleBody"].split()))[:ORIGINALS]
    origin, republisher = LoopbackServer(), LoopbackServer()
    for server in (origin, republisher):
        server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    for pid in chosen:
        origin.routes[f"/news/{pid}.html"] = Resource(pages[pid], "text/html")
    rng = random.Random(20261125)
    expected: dict[str, tuple[str, str]] = {}  # republished URL -> (original URL, kind)
    listed = []
    with origin.running(), republisher.running():
        origin.routes["/feed.xml"] = Resource(
            rss((origin.url(f"/news/{pid}.html"), None) for pid in chosen), "application/rss+xml"
        )
        for pid in chosen[:SYNDICATED]:
            path = f"/wire/{pid[:8]}-story.html"
            title = f"Wire story {pid[:6]}"
            page = republished_page(title, syndicate(truth[pid]["articleBody"], rng))
            republisher.routes[path] = Resource(page, "text/html")
            expected[republisher.url(path)] = (origin.url(f"/news/{pid}.html"), "near")
        at_path = chosen[SYNDICATED : SYNDICATED + RESERVED_AT_OTHER_PATH]
        for pid in at_path:
            path = f"/copies/{pid}.html"
            republisher.routes[path] = Resource(pages[pid], "text/html")
            expected[republisher.url(path)] = (origin.url(f"/news/{pid}.html"), "exact")
        tracked = chosen[SYNDICATED + RESERVED_AT_OTHER_PATH :][:RESERVED_WITH_TRACKING]
        for pid in tracked:
            original = origin.url(f"/news/{pid}.html")
            expected[f"{original}?utm_source=republisher&utm_medium=feed"] = (original, "url")
        listed = list(expected)
        republisher.routes["/feed.xml"] = Resource(
            rss((url, None) for url in listed), "application/rss+xml"
        )
        yield origin, republisher, {"expected": expected, "chosen": chosen}


def article_requests(server: LoopbackServer) -> int:
    return sum(path.startswith("/news/") for path in server.requests)


@pytest.fixture(scope="module")
def crawled(
    sites: tuple[LoopbackServer, LoopbackServer, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    origin, republisher, info = sites
    folder = tmp_path_factory.mktemp("dedup")
    config = write_config(
        folder / "sources.yaml",
        [
            {"name": "origin", "feeds": [origin.url("/feed.xml")]},
            {"name": "republisher", "feeds": [republisher.url("/feed.xml")]},
        ],
        allow_private_addresses=True,
    )
    archive = folder / "archive"
    base = ["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
    first = run_cli([*base, "--source", "origin", "--summary", str(folder / "1.json")])
    articles_after_first = {p: p.read_bytes() for p in archive_objects(archive, "articles")}
    origin_requests = article_requests(origin)
    second = run_cli([*base, "--source", "republisher", "--summary", str(folder / "2.json")])
    articles_after_second = {p: p.read_bytes() for p in archive_objects(archive, "articles")}
    third = run_cli([*base, "--summary", str(folder / "3.json")])
    return {
        **info,
        "archive": archive,
        "results": (first, second, third),
        "summaries": [load_json(folder / f"{n}.json") for n in (1, 2, 3)],
        "articles": (articles_after_first, articles_after_second),
        "origin_requests": (origin_requests, article_requests(origin)),
        "articles_final": archive_objects(archive, "articles"),
    }


def test_every_copy_is_recorded_as_a_duplicate_of_its_original(crawled: dict[str, Any]) -> None:
    for result in crawled["results"]:
        assert result.status == 0, result.stderr
    first, second, _third = crawled["summaries"]
    assert first["articles_archived"] == ORIGINALS
    assert second["articles_archived"] == 0
    assert second["duplicates"] == {
        "url": RESERVED_WITH_TRACKING,
        "exact": RESERVED_AT_OTHER_PATH,
        "near": SYNDICATED,
    }
    archive: Path = crawled["archive"]
    originals = {
        load_json(path)["id"]: load_json(path)["url"]
        for path in archive_objects(archive, "articles")
    }
    records = [load_json(path) for path in archive_objects(archive, "duplicates")]
    assert len(records) == len(crawled["expected"])
    for record in records:
        original_url, kind = crawled["expected"][record["url"]]
        assert record["kind"] == kind, record["url"]
        assert originals[record["duplicate_of"]] == original_url
        assert (archive / record["duplicate_of_key"]).is_file()
        assert record["source"] == "republisher"
        if kind == "near":
            # Merged by the rule (J >= 0.47, or containment >= 0.7 with J >= 0.43): the
            # recorded estimate clears the Jaccard floor, and the edits make it below 1.
            assert 0.43 <= record["similarity"] < 1.0, record["url"]
        else:  # the same text, or the same page: identical
            assert record["similarity"] == 1.0, record["url"]
    near = {record["similarity"] for record in records if record["kind"] == "near"}
    assert len(near) > SYNDICATED // 2  # estimates of each copy, not one constant


def test_no_original_is_a_duplicate_and_articles_are_untouched(crawled: dict[str, Any]) -> None:
    archive: Path = crawled["archive"]
    duplicate_of = {load_json(p)["duplicate_of"] for p in archive_objects(archive, "duplicates")}
    duplicate_urls = {load_json(p)["url"] for p in archive_objects(archive, "duplicates")}
    archived_urls = {load_json(p)["url"] for p in archive_objects(archive, "articles")}
    assert not duplicate_urls & archived_urls
    assert duplicate_of <= {load_json(p)["id"] for p in archive_objects(archive, "articles")}
    first, second = crawled["articles"]
    assert first == second
    assert len(second) == ORIGINALS


def test_a_tracking_variant_is_recorded_without_being_fetched(crawled: dict[str, Any]) -> None:
    before, after = crawled["origin_requests"]
    # The republisher run asked the origin for nothing; the last run neither.
    assert after == before


def test_a_later_run_fetches_no_article_again(crawled: dict[str, Any]) -> None:
    third = crawled["summaries"][2]
    assert third["pages_fetched"] == 0
    assert third["articles_archived"] == 0
    assert third["duplicates"] == {"url": 0, "exact": 0, "near": 0}
    assert third["skipped"] == ORIGINALS + len(crawled["expected"])
    assert crawled["articles_final"] == sorted(crawled["articles"][1])
