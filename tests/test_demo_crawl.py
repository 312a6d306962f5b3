"""The demo wire site crawled end to end: every story once, every syndicated copy a duplicate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.demo import start_demo_site
from crawler.demo.site import DemoSite
from tests.helpers.support import archive_objects, load_json, run_cli


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    demo = start_demo_site()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def archive(site: DemoSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo")
    root = folder / "archive"
    config = folder / "sources.yaml"
    config.write_text(site.sources_yaml(str(root)), encoding="utf-8")
    result = run_cli(["crawl", "--config", str(config), "--summary", str(folder / "s.json")])
    assert result.status == 0, result.stderr
    articles = {
        load_json(p)["canonical_url"]: load_json(p) for p in archive_objects(root, "articles")
    }
    duplicates = {
        load_json(p)["canonical_url"]: load_json(p) for p in archive_objects(root, "duplicates")
    }
    return {"root": root, "articles": articles, "duplicates": duplicates}


def test_each_story_is_archived_once_and_its_copies_point_to_it(
    site: DemoSite, archive: dict[str, Any]
) -> None:
    articles, duplicates = archive["articles"], archive["duplicates"]
    ids = {record["id"]: url for url, record in articles.items()}
    printed = {copy.url: copy.paragraphs for copies in site.stories().values() for copy in copies}
    for story_id, copies in site.stories().items():
        archived = [copy.url for copy in copies if copy.url in articles]
        assert len(archived) == 1, (story_id, archived)
        for copy in copies:
            if copy.url == archived[0]:
                continue
            record = duplicates[copy.url]
            assert ids[record["duplicate_of"]] == archived[0], story_id
            # The ground truth: a copy printing the archived body word for word is an exact
            # duplicate, one with its text edited (cut, words changed, a line added) a near one.
            declared = "exact" if copy.paragraphs == printed[archived[0]] else "near"
            assert record["kind"] == declared, (story_id, copy.url, copy.edits)
    assert len(articles) == len(site.stories())
    assert len(duplicates) == sum(len(copies) - 1 for copies in site.stories().values())


def test_stories_that_only_share_text_are_not_merged(
    site: DemoSite, archive: dict[str, Any]
) -> None:
    stories = site.stories()
    assert site.hard_negatives
    for negative in site.hard_negatives:
        for story_id in negative.story_ids:
            assert any(copy.url in archive["articles"] for copy in stories[story_id]), negative


def test_wire_metadata_matches_what_the_outlets_printed(
    site: DemoSite, archive: dict[str, Any]
) -> None:
    expected = {article.url: article for article in site.expected}
    assert len(archive["articles"]) == len(site.stories()) > 0
    for url, record in archive["articles"].items():
        article = expected[url]
        assert record["title"] == article.title, url
        assert record["wire"] == {"agency": article.agency, "dateline": article.dateline}, url
        assert record["text"].startswith(article.paragraphs[0][:40]), url


def test_rejects_are_counted_under_their_reason(site: DemoSite, archive: dict[str, Any]) -> None:
    summary = load_json(next((Path(archive["root"]) / "runs").glob("*.json")))
    expected: dict[str, int] = {}
    for reject in site.rejects:
        expected[reject.reason] = expected.get(reject.reason, 0) + 1
    assert summary["rejected"] == expected
