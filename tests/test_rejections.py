"""Pages rejected for a lasting reason are asked for again only after a growing back-off."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from pipelines.index.rejections import MAX_DELAY, Rejection, next_rejection, retry_delay
from pipelines.index.sqlite import StateIndex
from pipelines.index.state_cache import STATE_KEY
from pipelines.outcomes import is_lasting
from tests.helpers.support import FAST_CRAWL, dev_pages, load_json, rss, run_cli, write_config

HOUR = 3600.0


@pytest.mark.parametrize(
    ("attempts", "base", "delay"),
    [
        (1, HOUR, HOUR),
        (2, HOUR, 2 * HOUR),
        (4, HOUR, 8 * HOUR),
        (8, HOUR, 128 * HOUR),
        (9, HOUR, MAX_DELAY),  # 256 h is more than a week
        (500, HOUR, MAX_DELAY),
        (3, 0.5, 2.0),
        (0, HOUR, 0.0),
        (3, 0.0, 0.0),  # remembering is off
    ],
)
def test_retry_delay_doubles_up_to_a_week(attempts: int, base: float, delay: float) -> None:
    assert retry_delay(attempts, base) == delay


@pytest.mark.parametrize(
    ("reason", "lasting"),
    [
        ("http_404", True),
        ("http_410", True),
        ("video_only", True),
        ("paywall", True),
        ("not_html", True),
        ("http_500", False),
        ("http_503", False),
        ("timeout", False),
        ("extractor_crashed", False),
        ("out_of_range", False),  # a backfill's own choice, not the page's
        ("robots_txt", False),  # robots.txt is read again each run anyway
    ],
)
def test_only_lasting_reasons_are_remembered(reason: str, lasting: bool) -> None:
    assert is_lasting(reason) is lasting


def test_next_rejection_counts_attempts() -> None:
    first = next_rejection(None, "http_404", 1000.0, HOUR)
    assert first == Rejection("http_404", 1, 1000.0 + HOUR)
    second = next_rejection(first, "video_only", 9000.0, HOUR)
    assert second == Rejection("video_only", 2, 9000.0 + 2 * HOUR)


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    server.routes["/news/good.html"] = Resource(next(iter(dev_pages().values())), "text/html")
    server.routes["/news/video.html"] = Resource(
        b"<html><head><title>Watch: the storm</title></head><body><video src='s.mp4'></video>"
        b"<p>Watch the video.</p></body></html>",
        "text/html",
    )
    with server.running():
        urls = [server.url(f"/news/{name}.html") for name in ("good", "gone", "video")]
        server.routes["/feed.xml"] = Resource(rss((url, None) for url in urls), "text/xml")
        yield server


def crawl_once(tmp_path: Path, server: LoopbackServer, name: str, *extra: str) -> dict:
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    summary = tmp_path / f"{name}.json"
    args = ["crawl", "--config", str(config), "--archive", str(tmp_path / "archive")]
    result = run_cli([*args, "--summary", str(summary), *FAST_CRAWL, *extra])
    assert result.status == 0, result.stderr
    return dict(load_json(summary))


def asked(server: LoopbackServer, page: str) -> int:
    return server.requests.count(f"/news/{page}.html")


def rejection(tmp_path: Path, server: LoopbackServer, page: str) -> Rejection | None:
    index = StateIndex(tmp_path / "archive" / STATE_KEY)
    try:
        return index.rejection(server.url(f"/news/{page}.html"))
    finally:
        index.close()


def run_out(tmp_path: Path, server: LoopbackServer, *pages: str) -> None:
    """Let the back-off of ``pages`` run out, as if its hours had passed."""
    index = StateIndex(tmp_path / "archive" / STATE_KEY)
    try:
        for page in pages:
            url = server.url(f"/news/{page}.html")
            found = index.rejection(url)
            assert found is not None
            index.record_rejection(url, Rejection(found.reason, found.attempts, time.time() - 1))
    finally:
        index.close()


def test_a_rejected_page_is_not_asked_again_until_its_back_off_runs_out(
    tmp_path: Path, site: LoopbackServer
) -> None:
    first = crawl_once(tmp_path, site, "first")
    assert first["articles_archived"] == 1
    assert first["rejected"] == {"http_404": 1, "too_short": 1}
    gone = rejection(tmp_path, site, "gone")
    assert gone is not None
    assert (gone.reason, gone.attempts) == ("http_404", 1)
    assert gone.retry_at == pytest.approx(time.time() + HOUR, abs=30)
    # Within the back-off: neither page is asked for, and the summary says why.
    second = crawl_once(tmp_path, site, "second")
    assert second["pages_fetched"] == 0
    assert second["retry_later"] == 2
    assert second["skipped"] == 1
    assert second["per_source"]["wire"]["retry_later"] == 2
    assert (asked(site, "gone"), asked(site, "video")) == (1, 1)
    # Past it: asked again, rejected again, and the next back-off is twice as long.
    run_out(tmp_path, site, "gone", "video")
    third = crawl_once(tmp_path, site, "third")
    assert third["rejected"] == {"http_404": 1, "too_short": 1}
    assert (asked(site, "gone"), asked(site, "video")) == (2, 2)
    again = rejection(tmp_path, site, "video")
    assert again is not None
    assert again.attempts == 2
    assert again.retry_at == pytest.approx(time.time() + 2 * HOUR, abs=30)
    # A page that appears at last is archived at its next chance.
    site.routes["/news/gone.html"] = Resource(list(dev_pages().values())[1], "text/html")
    run_out(tmp_path, site, "gone")
    fourth = crawl_once(tmp_path, site, "fourth")
    assert fourth["articles_archived"] == 1
    assert fourth["retry_later"] == 1  # the stub is still backing off


def test_no_back_off_when_it_is_off_or_for_a_passing_failure(
    tmp_path: Path, site: LoopbackServer
) -> None:
    crawl_once(tmp_path, site, "first", "-s", "WIREARCHIVE_REJECTED_RETRY=0")
    second = crawl_once(tmp_path, site, "second", "-s", "WIREARCHIVE_REJECTED_RETRY=0")
    assert second["retry_later"] == 0
    assert (asked(site, "gone"), asked(site, "video")) == (2, 2)
    assert rejection(tmp_path, site, "gone") is None
    # A 503 is a passing failure: retried by the next run, not remembered.
    site.routes["/news/flaky.html"] = Resource(b"busy", "text/plain", 503)
    site.routes["/feed.xml"] = Resource(rss([(site.url("/news/flaky.html"), None)]), "text/xml")
    crawl_once(tmp_path, site, "third", "-s", "RETRY_TIMES=0")
    assert rejection(tmp_path, site, "flaky") is None
