"""Copies within one run: the same bulletin at two URLs in one crawl is archived once."""

from __future__ import annotations

import re
from pathlib import Path

from crawler.demo.loopback import LoopbackServer, Resource
from tests.helpers.support import archive_objects, crawl, dev_pages, load_json, rss

STORIES = 2


def test_each_page_listed_at_two_urls_in_one_run_is_one_article_and_one_exact_copy(
    tmp_path: Path,
) -> None:
    pages = list(dev_pages().values())[:STORIES]
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    urls = []
    for number, body in enumerate(pages):
        # Two paths, two canonical URLs, one body: only the text says they are the same.
        for path in (f"/world/{number}.html", f"/wire/bulletin-{number}.html"):
            server.routes[path] = Resource(body, "text/html")
            urls.append(server.url(path))
    server.routes["/feed.xml"] = Resource(rss((url, None) for url in urls), "application/rss+xml")
    feed = server.url("/feed.xml")
    with server.running():
        result, summary, archive = crawl(tmp_path, [{"name": "wire", "feeds": [feed]}])
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == STORIES
    assert summary["duplicates"] == {"url": 0, "exact": STORIES, "near": 0}
    articles = [load_json(path) for path in archive_objects(archive, "articles")]
    duplicates = [load_json(path) for path in archive_objects(archive, "duplicates")]
    assert len(articles) == STORIES
    assert len(duplicates) == STORIES
    by_id = {article["id"]: article for article in articles}
    for duplicate in duplicates:
        assert duplicate["kind"] == "exact"
        assert duplicate["similarity"] == 1.0
        original = by_id[duplicate["duplicate_of"]]
        assert original["url"] != duplicate["url"]
        # Same story, other path: the copy points at the article of the same page number.
        assert story_number(original["url"]) == story_number(duplicate["url"])


def story_number(url: str) -> int:
    """Return the page number in /world/N.html or /wire/bulletin-N.html."""
    found = re.search(r"(\d+)\.html$", url)
    assert found is not None, url
    return int(found.group(1))
