"""The run's shared state is one extension, found with get_extension, changed by methods."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from pipelines.archive.local_store import LocalStore
from pipelines.dedup.originals import LocalOriginals
from pipelines.index.sqlite import open_state
from pipelines.runstate import RunState, run_state
from tests.helpers.support import CLI_TIMEOUT, ROOT, SESSION_CACHE, news_site, write_config

PAGES = 3


class DictStats:
    """The part of Scrapy's StatsCollector that RunState uses, over a dict."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})

    def get_stats(self) -> dict[str, Any]:
        return self.values

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


@pytest.fixture
def state(tmp_path: Path) -> RunState:
    store = LocalStore(tmp_path / "archive")
    return RunState(store, open_state(store), retry_base=3600.0, stats=DictStats())


def test_a_crawl_shares_one_run_state(tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    with news_site(PAGES).running() as site:
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "news", "feeds": [site.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        archive = tmp_path / "archive"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.helpers.runstate_probe",
                str(config),
                str(archive),
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "XDG_CACHE_HOME": SESSION_CACHE, "PYTHONPATH": str(ROOT)},
            timeout=CLI_TIMEOUT,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    found = json.loads(out.read_text(encoding="utf-8"))
    assert found["is_run_state"]
    assert found["same"] == {
        "spider": True,
        "skip_archived": True,
        "dedup": True,
        "archive": True,
        "extract": True,
        "scheduler": True,
    }
    assert found["on_crawler"] == []  # found with get_extension, never set on the crawler
    assert found["index_open"]
    assert found["closed"]
    assert len(list((archive / "articles").rglob("*.json"))) == PAGES


def test_run_state_is_the_extension(tmp_path: Path) -> None:
    crawler = get_crawler(
        settings_dict={
            "EXTENSIONS": {"pipelines.runstate.RunState": 400},
            "WIREARCHIVE_ARCHIVE": str(tmp_path / "archive"),
        }
    )
    state = crawler.get_extension(RunState)
    assert isinstance(state, RunState)
    assert run_state(crawler) is state
    state.finish(clean=False)


def test_run_state_missing_is_an_error_that_names_the_fix(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"WIREARCHIVE_ARCHIVE": str(tmp_path / "archive")})
    with pytest.raises(RuntimeError, match="EXTENSIONS"):
        run_state(crawler)


def test_a_second_url_of_one_canonical_form_is_an_alias(state: RunState) -> None:
    canonical = "https://example.org/a"
    assert state.note_request(canonical, "https://example.org/a?utm_source=x") == (
        "https://example.org/a?utm_source=x"
    )
    assert state.note_request(canonical, "https://example.org/a#top") == (
        "https://example.org/a?utm_source=x"
    )
    assert state.aliases == {canonical: ["https://example.org/a#top"]}
    state.forget_request(canonical)
    assert state.note_request(canonical, "https://example.org/a#top") == (
        "https://example.org/a#top"
    )
    state.finish(clean=False)


@pytest.mark.parametrize(
    ("clean", "tainted", "saved"),
    [
        (True, False, ('"v1"', "Tue, 01 Dec 2026 07:00:00 GMT")),
        (True, True, (None, None)),  # a page it listed must be retried: read it whole
        (False, False, (None, None)),  # a failed run saves none
    ],
)
def test_validators_are_saved_after_a_clean_run_only(
    tmp_path: Path, clean: bool, tainted: bool, saved: tuple[str | None, str | None]
) -> None:
    store = LocalStore(tmp_path / "archive")
    state = RunState(store, open_state(store))
    feed = "https://example.org/feed.xml"
    state.remember_validators(feed, '"v1"', "Tue, 01 Dec 2026 07:00:00 GMT")
    state.remember_validators("https://example.org/index.xml", '"x"', None)
    state.forget_validators("https://example.org/index.xml")
    if tainted:
        state.taint(feed)
    state.finish(clean=clean)
    again = RunState(store, open_state(store))
    assert again.saved_validators(feed) == saved
    assert again.saved_validators("https://example.org/index.xml") == (None, None)
    again.finish(clean=False)


@pytest.mark.parametrize(
    ("reason", "needless"),
    [("http_404", "retry_later"), ("paywall", "retry_later"), ("timeout", None)],
)
def test_a_lasting_rejection_is_asked_again_later(
    state: RunState, reason: str, needless: str | None
) -> None:
    url = "https://example.org/gone"
    state.reject(url, reason)
    assert state.needless(url) == needless
    state.finish(clean=False)


class BrokenUpload(LocalOriginals):
    """An index whose upload to the archive fails."""

    def finish(self, store: object) -> None:
        raise OSError("disk full")


def test_a_failed_index_upload_is_counted_and_still_closes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    index = open_state(store)
    stats = DictStats()
    state = RunState(store, index, originals=BrokenUpload(index), stats=stats)  # type: ignore[arg-type]
    asyncio.run(state.spider_closed(None, "finished"))  # type: ignore[arg-type]
    assert stats.values == {"errors/state_sync": 1}
    assert state.closed.is_set()
