"""``wirearchive serve`` over HTTP: the JSON API contract, the sandbox headers, escaping."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.archive.local_store import LocalStore
from tests.helpers.archive_builder import Story, build_archive, put_article
from tests.helpers.serve_support import Served, serving


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Story]]:
    root = tmp_path_factory.mktemp("serve-http") / "archive"
    return root, build_archive(LocalStore(root))


@pytest.fixture(scope="module")
def server(stories: tuple[Path, dict[str, Story]]) -> Iterator[Served]:
    with serving(str(stories[0]), env={"WIREARCHIVE_CATCH_UP_INTERVAL": "0.5"}) as served:
        yield served


@pytest.fixture
def flood(stories: tuple[Path, dict[str, Story]]) -> Story:
    return stories[1]["flood"]


def test_search_api_answers_as_the_contract_says(server: Served, flood: Story) -> None:
    status, body = server.json("/api/search?q=Mekong+flood")
    assert status == 200
    assert body["total"] == 1
    result = body["results"][0]
    assert {k: result[k] for k in ("id", "title", "source", "copies")} == {
        "id": flood.id,
        "title": "Flood waters rise along the Mekong",
        "source": "wiredaily",
        "copies": 3,
    }
    assert result["url"] == "https://wiredaily.example/world/flood-mekong.html"
    assert result["published"] == "2026-11-20T08:00:00+00:00"


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("q=flood&source=wiredaily", 1),
        ("q=flood&source=lahoreledger", 0),
        ("q=flood&since=2026-11-21", 0),
        ("q=flood&until=2026-11-20", 1),
        ("q=北京", 1),
        ("q=flood&limit=1", 1),
    ],
)
def test_search_api_filters(server: Served, query: str, total: int) -> None:
    status, body = server.json("/api/search?" + query.replace("北京", "%E5%8C%97%E4%BA%AC"))
    assert status == 200
    assert body["total"] == total


@pytest.mark.parametrize(
    "query", ["since=yesterday", "limit=0", "limit=x", "since=2026-11-21&until=2026-11-20"]
)
def test_bad_search_parameters_are_a_400_naming_them(server: Served, query: str) -> None:
    status, body = server.json("/api/search?q=flood&" + query)
    assert status == 400
    assert query.split("=", maxsplit=1)[0] in body["error"]


def test_article_api_lists_every_copy(server: Served, flood: Story) -> None:
    status, body = server.json(f"/api/articles/{flood.id}")
    assert status == 200
    assert body["title"] == flood.title
    assert body["wire"] == {"agency": "AP", "dateline": "BANGKOK"}
    copies = {c["source"]: c for c in body["copies"]}
    assert set(copies) == {"lahoreledger", "metroobserver", "dailyplanet"}
    expected = {c["source"]: c for c in flood.copies}
    for source, copy in copies.items():
        for field in ("id", "url", "fetched_at", "kind", "similarity"):
            assert copy[field] == expected[source][field], (source, field)


def test_unknown_article_is_a_404(server: Served) -> None:
    assert server.json("/api/articles/0000000000")[0] == 404
    assert server.get("/articles/0000000000")[0] == 404


def test_raw_page_is_sandboxed_and_fetches_nothing(server: Served, flood: Story) -> None:
    status, headers, body = server.get(f"/raw/{flood.id}")
    assert status == 200
    policy = [part.strip() for part in headers["content-security-policy"].split(";")]
    assert policy[0] == "sandbox"  # no allow-scripts, no allow-same-origin
    assert "default-src 'none'" in policy
    assert b"parent.document.title" in body  # the archived bytes, as served


def test_app_pages_allow_no_script(server: Served, flood: Story) -> None:
    _, headers, _ = server.get(f"/articles/{flood.id}")
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # so scripts fall back to 'none'


def test_titles_and_text_from_the_web_are_escaped(
    server: Served, stories: tuple[Path, dict[str, Story]]
) -> None:
    script = stories[1]["script"]
    for path in (f"/articles/{script.id}", "/search?q=budget"):
        _, _, body = server.get(path)
        page = body.decode()
        assert "<script>" not in page, path
        assert "&lt;script&gt;document.title=" in page, path
    assert "<img src=x" not in server.get(f"/articles/{script.id}")[2].decode()


def test_a_copy_id_leads_to_its_story(server: Served, flood: Story) -> None:
    copy = flood.copies[0]
    status, _, body = server.get(f"/articles/{copy['id']}")
    assert status == 200  # after the redirect
    assert copy["url"] in body.decode()


def test_sources_api_reuses_the_monitoring_figures(server: Served) -> None:
    status, body = server.json("/api/sources")
    assert status == 200
    wiredaily = body["sources"]["wiredaily"]
    assert wiredaily["articles_total"] == 2
    assert wiredaily["health"]["status"] == "unknown"  # no run summaries in this archive
    assert body["sources"]["metroobserver"]["agencies"][0] == {"agency": "AP", "stories": 1}


def test_the_app_is_read_only(server: Served) -> None:
    request = urllib.request.Request(server.url + "/api/search?q=x", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405


def test_articles_archived_while_it_serves_become_searchable(
    server: Served, stories: tuple[Path, dict[str, Story]]
) -> None:
    assert server.json("/api/search?q=latecomer")[1]["total"] == 0
    late = put_article(
        LocalStore(stories[0]),
        source="latewire",
        url="https://latewire.example/latecomer.html",
        title="Latecomer story",
        text="Archived by a run while the app was serving.",
    )
    deadline = time.monotonic() + 20
    found: list[str] = []
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = [r["id"] for r in server.json("/api/search?q=latecomer")[1]["results"]]
    assert found == [late.id]
