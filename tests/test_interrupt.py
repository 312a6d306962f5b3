"""SIGTERM mid-run: in-flight writes finish, the summary says interrupted, nothing is lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.support import (
    FAST_CRAWL,
    ROOT,
    archive_objects,
    load_json,
    news_site,
    run_cli,
    write_config,
)

PAGES = 12


def test_sigterm_stops_cleanly_and_the_next_run_finishes_the_job(tmp_path: Path) -> None:
    server = news_site(PAGES, delay=0.5)
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        archive = tmp_path / "archive"
        args = ["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
        slow = ["-s", "CONCURRENT_REQUESTS=1", "-s", "AUTOTHROTTLE_ENABLED=False"]
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler", *args, *slow, "--summary", str(tmp_path / "1.json")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(archive_objects(archive, "articles")) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "nothing archived in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 1, err
        first = load_json(tmp_path / "1.json")
        assert first["status"] == "interrupted"
        archived_first = first["articles_archived"]
        assert 2 <= archived_first < PAGES, err[-3000:]
        assert len(archive_objects(archive, "articles")) == archived_first
        assert not (archive / "_state" / "lock.json").exists()

        second = run_cli([*args, "--summary", str(tmp_path / "2.json")])
        assert second.status == 0, second.stderr
        summary = load_json(tmp_path / "2.json")
        assert summary["skipped"] == archived_first
        assert summary["articles_archived"] == PAGES - archived_first
        assert len(archive_objects(archive, "articles")) == PAGES


MAX_TIME = 4.0  # --max-time of the bounded runs: a few pages in, far from the end


@pytest.mark.parametrize("command", ["crawl", "backfill"])
def test_max_time_stops_the_run_as_sigterm_does(tmp_path: Path, command: str) -> None:
    server = news_site(PAGES, delay=1.0)  # 12 pages one at a time: ~12 s unbounded
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        archive = tmp_path / "archive"
        args = [command, "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
        if command == "backfill":
            args += ["--source", "wire"]
        slow = ["-s", "CONCURRENT_REQUESTS=1", "-s", "AUTOTHROTTLE_ENABLED=False"]
        started = time.monotonic()
        result = run_cli(
            [*args, *slow, "--max-time", str(MAX_TIME), "--summary", str(tmp_path / "1.json")]
        )
        seconds = time.monotonic() - started
    assert result.status == 1, result.stderr[-3000:]  # as on SIGTERM
    assert "--max-time 4s reached" in result.stderr
    summary = load_json(tmp_path / "1.json")
    assert summary["status"] == "interrupted"
    assert summary["close_reason"] == "shutdown"
    # What was in flight when the time ran out is archived, and the count says so.
    assert 1 <= summary["articles_archived"] < PAGES
    assert len(archive_objects(archive, "articles")) == summary["articles_archived"]
    assert not (archive / "_state" / "lock.json").exists()
    assert seconds < MAX_TIME + 8, seconds  # process start, extraction workers, the last page


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_max_time_must_be_a_positive_number(tmp_path: Path, value: str) -> None:
    config = write_config(
        tmp_path / "sources.yaml", [{"name": "wire", "feeds": ["https://example.org/f"]}]
    )
    result = run_cli(["crawl", "--config", str(config), "--max-time", value])
    assert result.status == 2, result.stderr
    assert "--max-time" in result.stderr
