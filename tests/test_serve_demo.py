"""The demo archive in the browser: a word of a wire story finds it, with its copies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.demo import DemoArticle, start_demo_site
from tests.helpers.serve_support import Served, serving
from tests.helpers.support import FAST_CRAWL, run_cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[DemoArticle]]]:
    """Crawl the demo site once; return the archive and the widest-syndicated story."""
    site = start_demo_site()
    try:
        folder = tmp_path_factory.mktemp("demo-serve")
        config = folder / "sources.yaml"
        config.write_text(site.sources_yaml(str(folder / "archive")), encoding="utf-8")
        result = run_cli(["crawl", "--config", str(config), *FAST_CRAWL])
        assert result.status == 0, result.stderr
        widest = max(site.stories().values(), key=len)
        yield folder / "archive", widest
    finally:
        site.stop()


@pytest.fixture(scope="module")
def server(demo: tuple[Path, list[DemoArticle]]) -> Iterator[Served]:
    with serving(str(demo[0])) as served:
        yield served


def test_a_word_of_a_wire_story_finds_it_with_its_copies(
    page: Any, server: Served, demo: tuple[Path, list[DemoArticle]]
) -> None:
    _, story = demo
    first = story[0]
    words = " ".join(first.title.split()[:4])
    page.goto(server.url + "/")
    page.fill("input[name=q]", words)
    page.click("button[type=submit]")
    page.wait_for_url("**/search?**")
    results = page.locator("li.result")
    titles = results.locator("a.title").all_inner_texts()
    archived = [article for article in story if article.title in titles]
    assert len(archived) == 1, (titles, [a.title for a in story])
    result = results.nth(titles.index(archived[0].title))
    copies = len(story) - 1
    assert f"{copies} cop" in result.locator(".copies").inner_text()
    result.locator("a.copies").click()
    page.wait_for_url("**/stories/**")
    outlets = page.locator("table.copies tbody tr td:first-child").all_inner_texts()
    assert sorted(outlets) == sorted(article.outlet for article in story)
    # A copy is shown at the URL it was fetched from: a feed may add tracking parameters.
    urls = page.locator("table.copies tbody tr td .url").all_inner_texts()
    assert sorted(url.split("?")[0] for url in urls) == sorted(article.url for article in story)
