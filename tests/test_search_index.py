"""The search index over a real local archive: catch-up, filters, CJK, revisions, copies."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.archive.local_store import LocalStore
from pipelines.archive.stores import open_store
from pipelines.search import Filters, SearchError, SearchIndex, catch_up, query, search_path
from tests.helpers.archive_builder import Story, build_archive, put_copy
from tests.helpers.support import archive_objects, crawl, load_json, news_site


@pytest.fixture
def archive(tmp_path: Path) -> tuple[LocalStore, dict[str, Story]]:
    store = LocalStore(tmp_path / "archive")
    return store, build_archive(store)


@pytest.fixture
def index(archive: tuple[LocalStore, dict[str, Story]]) -> SearchIndex:
    store, _ = archive
    found = SearchIndex.for_store(store)
    catch_up(store, found)
    return found


def test_a_local_archive_keeps_its_index_inside(
    archive: tuple[LocalStore, dict[str, Story]],
) -> None:
    store, _ = archive
    assert search_path(store) == store.root / "_state" / "search.sqlite3"


def test_catch_up_indexes_what_is_missing_and_only_that(
    archive: tuple[LocalStore, dict[str, Story]],
) -> None:
    store, stories = archive
    index = SearchIndex.for_store(store)
    first = catch_up(store, index)
    assert (first.articles, first.copies) == (5, 3)  # the revision replaces its first version
    assert len(index) == 4
    again = catch_up(store, index)
    assert (again.articles, again.copies) == (0, 0)
    put_copy(
        store,
        stories["cranes"],
        source="dailyplanet",
        url="https://dailyplanet.example/cranes",
        kind="near",
        similarity=0.8,
        delay=timedelta(hours=9),
    )
    later = catch_up(store, index)
    assert (later.articles, later.copies) == (0, 1)
    assert index.search("cranes").hits[0].copies == 1


def test_every_word_must_match_in_any_order(index: SearchIndex) -> None:
    assert [h.title for h in index.search("Mekong flood").hits] == [
        "Flood waters rise along the Mekong"
    ]
    assert index.search("Mekong budget").total == 0


def test_results_count_copies_and_mark_hits(index: SearchIndex) -> None:
    hit = index.search("monsoon").hits[0]
    assert hit.copies == 3
    assert [s.text for s in hit.snippet if s.hit] == ["monsoon"]


@pytest.mark.parametrize("words", ["北京", "北京大学", "气候变化", "大学 研究"])
def test_cjk_text_is_searchable_by_any_word(index: SearchIndex, words: str) -> None:
    results = index.search(words)
    assert [h.title for h in results.hits] == ["北京大学发布新研究"]


def test_cjk_match_is_a_substring_not_scattered_characters(index: SearchIndex) -> None:
    assert index.search("京北").total == 0  # both characters occur, never in this order


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(sources=("lahoreledger",)), {"cjk"}),
        (Filters(sources=("lahoreledger", "metroobserver")), {"cjk", "script"}),
        (Filters(agency="reuters"), {"cranes"}),
        (Filters(language="zh"), {"cjk"}),
        (Filters(since=date(2026, 11, 20)), {"flood", "script"}),
        (Filters(until=date(2026, 11, 17)), {"cjk"}),
        (Filters(since=date(2026, 11, 18), until=date(2026, 11, 19)), {"cranes"}),
    ],
)
def test_filters_narrow_the_newest_list(
    archive: tuple[LocalStore, dict[str, Story]],
    index: SearchIndex,
    filters: Filters,
    expected: set[str],
) -> None:
    _, stories = archive
    ids = {h.id for h in index.search("", filters, limit=50).hits}
    assert ids == {stories[name].id for name in expected}


def test_a_revision_replaces_the_first_version(index: SearchIndex) -> None:
    assert index.search("first version").total == 0
    hits = index.search("dockworkers").hits
    assert [h.key.rsplit("/", 1)[1] for h in hits] == [f"{hits[0].id}.v2.json"]


def test_agencies_each_source_carries(index: SearchIndex) -> None:
    table = index.agencies_by_source()
    assert table["metroobserver"] == [("AP", 1)]  # its copy of the AP flood story
    assert table["wiredaily"] == [("AP", 1), ("Reuters", 1)]


@pytest.mark.parametrize("limit", [0, 201])
def test_a_limit_out_of_range_is_refused(index: SearchIndex, limit: int) -> None:
    with pytest.raises(SearchError, match="limit"):
        index.search("flood", limit=limit)


def test_past_the_rank_limit_results_come_newest_first(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert index.search("the").order == "relevance"
    monkeypatch.setattr(query, "RANK_LIMIT", 1)
    results = index.search("the")
    assert results.total > 1
    assert results.order == "newest"
    assert results.hits[0].snippet  # still marked


def test_a_crawl_makes_its_articles_searchable_without_a_catch_up(tmp_path: Path) -> None:
    """Each run updates the search index as it writes; `serve` and `index` only catch up."""
    with news_site(3).running() as server:
        result, summary, archive = crawl(
            tmp_path, [{"name": "wire", "feeds": [server.url("/feed.xml")]}]
        )
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == 3
    index = SearchIndex.for_store(open_store(str(archive)))
    try:
        assert len(index) == 3
        titles = [load_json(path)["title"] for path in archive_objects(archive, "articles")]
        word = next(w for w in titles[0].split() if len(w) > 5 and w.isalpha())
        assert index.search(word).total >= 1
    finally:
        index.close()
