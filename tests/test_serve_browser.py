"""The web app in a real browser (Debian's chromium) through the real server on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from pipelines.archive.local_store import LocalStore
from tests.helpers.archive_builder import Story, build_archive
from tests.helpers.serve_support import Served, serving

PWNED = re.compile("pwned")


class Beacon:
    """A stand-in for the live web: the hostile page's styles, scripts and pixels point here."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server = LoopbackServer()
        for path in ("/style.css", "/script.js", "/pixel.png", "/fetch", "/refresh"):
            self.server.routes[path] = self.record

    def record(self, path: str, headers: Mapping[str, str]) -> Resource:
        self.requests.append(path)
        return Resource(b"", "text/plain")


@pytest.fixture(scope="module")
def beacon() -> Iterator[Beacon]:
    found = Beacon()
    found.server.start()
    try:
        yield found
    finally:
        found.server.stop()


@pytest.fixture(scope="module")
def archive(
    tmp_path_factory: pytest.TempPathFactory, beacon: Beacon
) -> tuple[Path, dict[str, Story]]:
    root = tmp_path_factory.mktemp("serve-browser") / "archive"
    return root, build_archive(LocalStore(root), beacon=beacon.server.base_url)


@pytest.fixture(scope="module")
def server(archive: tuple[Path, dict[str, Story]]) -> Iterator[Served]:
    with serving(str(archive[0])) as served:
        yield served


def test_search_page_finds_a_story_and_opens_it(page: Any, server: Served) -> None:
    page.goto(server.url + "/")
    page.fill("input[name=q]", "monsoon Mekong")
    page.click("button[type=submit]")
    page.wait_for_url("**/search?**")
    assert "1 article match" in page.inner_text("#count")
    result = page.locator("li.result").first
    assert result.locator("mark").first.inner_text().lower() in {"monsoon", "mekong"}
    assert "3 copies" in result.inner_text()
    result.locator("a.title").click()
    page.wait_for_url("**/articles/**")
    assert page.inner_text("#headline") == "Flood waters rise along the Mekong"
    assert "Thousands of families moved to higher ground." in page.inner_text("#text")
    assert page.get_attribute("#original", "href") == (
        "https://wiredaily.example/world/flood-mekong.html"
    )


def test_cjk_search_from_the_form(page: Any, server: Served) -> None:
    page.goto(server.url + "/")
    page.fill("input[name=q]", "气候变化")
    page.click("button[type=submit]")
    page.wait_for_url("**/search?**")
    assert page.locator("li.result a.title").inner_text() == "北京大学发布新研究"
    assert page.locator("li.result .snippet mark").inner_text() == "气候变化"


def test_the_archived_page_shows_in_a_frame_but_its_script_never_runs(
    page: Any, server: Served, archive: tuple[Path, dict[str, Story]], beacon: Beacon
) -> None:
    flood = archive[1]["flood"]
    page.goto(server.url + f"/articles/{flood.id}")
    frame_element = page.locator("iframe#archived")
    frame_element.scroll_into_view_if_needed()
    frame = page.frame_locator("iframe#archived")
    # The page is there, as it was served...
    assert frame.locator("#archived-headline").inner_text() == "Flood waters rise along the Mekong"
    page.wait_for_timeout(500)
    # ...but none of its scripts ran: not in the frame, not on the parent, no cookie set.
    assert frame.locator("body").get_attribute("data-script-ran") is None
    assert not PWNED.search(page.title())
    assert page.title().startswith("Flood waters rise along the Mekong")
    assert page.evaluate("document.cookie") == ""
    assert page.context.cookies() == []
    # ...and nothing it refers to was fetched from the "live web".
    assert beacon.requests == []
    assert frame_element.get_attribute("sandbox") == ""


def test_opening_the_raw_page_alone_runs_no_script_either(
    page: Any, server: Served, archive: tuple[Path, dict[str, Story]]
) -> None:
    flood = archive[1]["flood"]
    page.goto(server.url + f"/raw/{flood.id}")
    page.wait_for_timeout(300)
    assert page.locator("body").get_attribute("data-script-ran") is None
    assert page.title() == "Hostile archived page"
    assert page.context.cookies() == []


def test_a_stored_script_in_title_or_text_never_runs(
    page: Any, server: Served, archive: tuple[Path, dict[str, Story]]
) -> None:
    script = archive[1]["script"]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + f"/articles/{script.id}")
    page.wait_for_timeout(300)
    # Had a payload run, the title would be just "pwned by ...": it is the headline as text.
    headline = "<script>document.title='pwned by a title'</script>Council votes on budget"
    assert page.title() == f"{headline} · wirearchive"
    assert page.inner_text("#headline") == headline
    assert "onerror" in page.inner_text("#text")
    page.goto(server.url + "/search?q=budget")
    assert page.title() == "budget · wirearchive"
    assert errors == []


def test_story_page_shows_the_copies_of_three_outlets(
    page: Any, server: Served, archive: tuple[Path, dict[str, Story]]
) -> None:
    flood = archive[1]["flood"]
    page.goto(server.url + f"/stories/{flood.id}")
    rows = page.locator("table.copies tbody tr")
    assert rows.count() == 4
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(4)]
    assert [c[0] for c in cells] == ["wiredaily", "lahoreledger", "metroobserver", "dailyplanet"]
    assert [c[3] for c in cells] == ["original", "+2 h 0 min", "+5 h 0 min", "+1 d 2 h"]
    assert [c[4] for c in cells] == ["original", "near", "exact", "near"]
    assert [c[5] for c in cells] == ["1.00", "0.82", "1.00", "0.91"]
    marks = page.locator("svg.timeline circle.mark")
    assert marks.count() == 4
    xs = [float(marks.nth(i).get_attribute("cx")) for i in range(4)]
    assert xs == sorted(xs) and xs[0] < xs[-1]  # later copies further right
    agencies = page.locator("table.agencies").inner_text()
    assert "dailyplanet\tAP (1)" in agencies


def test_sources_page_lists_every_source(page: Any, server: Served) -> None:
    page.goto(server.url + "/sources")
    names = page.locator("table.sources tbody tr td:first-child").all_inner_texts()
    assert set(names) >= {"wiredaily", "lahoreledger", "metroobserver", "dailyplanet"}
    assert page.locator("svg.chart").count() == 1
