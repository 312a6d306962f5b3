"""A paused holder that wakes after another run took the archive writes nothing more."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.archive import tenure
from tests.helpers.support import (
    FAST_CRAWL,
    ROOT,
    archive_objects,
    load_json,
    news_site,
    run_cli,
    write_config,
)

LEASE = 3.0  # WIREARCHIVE_LOCK_LEASE of the run that is paused: renewed every second
PAGES = 12


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    now = [1000.0]
    monkeypatch.setattr(tenure, "clock", lambda: now[0])
    yield now
    tenure.release("r1")


def test_a_held_lease_allows_writes_until_it_runs_out(clock: list[float]) -> None:
    assert tenure.lost("r1") is None  # no lock held by this run: nothing to lose
    tenure.hold("r1", 10.0)
    clock[0] += 8.9  # within the lease less its renewal margin (9 s)
    assert tenure.lost("r1") is None
    tenure.renewed("r1")
    clock[0] += 8.9
    assert tenure.lost("r1") is None
    clock[0] += 0.2  # paused past the lease, on this process's own clock
    assert "ran out" in str(tenure.lost("r1"))
    tenure.renewed("r1")  # a renewal after waking does not undo it
    assert tenure.lost("r1") is not None


def test_a_lost_lock_stays_lost(clock: list[float]) -> None:
    tenure.hold("r1", 10.0)
    tenure.lose("r1", "lock lost: taken over")
    tenure.renewed("r1")
    assert tenure.lost("r1") == "lock lost: taken over"
    tenure.release("r1")
    assert tenure.lost("r1") is None


def _articles(archive: Path, source: str) -> set[str]:
    """Return the article objects' names, finished ones only."""
    return {
        path.name
        for path in archive_objects(archive / "articles" / source, "")
        if not path.name.startswith(".")
    }


def _in_flight(archive: Path, source: str) -> set[str]:
    """Return the names that writes caught mid-way (temp files ``.NAME.XXXX.tmp``) will take."""
    return {
        path.name[1:].rsplit(".", 2)[0]
        for path in archive_objects(archive / "articles" / source, "")
        if path.name.startswith(".") and path.name.endswith(".tmp")
    }


def _lock_holder(archive: Path) -> str | None:
    try:
        return str(json.loads((archive / "_state" / "lock.json").read_text())["run_id"])
    except (OSError, ValueError, KeyError):
        return None


def test_a_paused_holder_that_wakes_after_a_takeover_writes_nothing(tmp_path: Path) -> None:
    first_site, second_site = news_site(PAGES, delay=0.5), news_site(PAGES, delay=0.5)
    with first_site.running(), second_site.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [
                {"name": "wire", "feeds": [first_site.url("/feed.xml")]},
                {"name": "other", "feeds": [second_site.url("/feed.xml")]},
            ],
            allow_private_addresses=True,
        )
        archive = tmp_path / "archive"
        base = ["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
        slow = ["-s", "CONCURRENT_REQUESTS=1", "-s", "AUTOTHROTTLE_ENABLED=False"]

        def start(source: str, summary: str, *extra: str) -> subprocess.Popen[str]:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crawler",
                    *base,
                    *slow,
                    "--source",
                    source,
                    "--summary",
                    str(tmp_path / summary),
                    *extra,
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

        first = start("wire", "first.json", "-s", f"WIREARCHIVE_LOCK_LEASE={LEASE}")
        deadline = time.monotonic() + 60
        while len(_articles(archive, "wire")) < 2:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "nothing archived in time"
            time.sleep(0.05)
        first_id = _lock_holder(archive)
        first.send_signal(signal.SIGSTOP)
        try:
            before = _articles(archive, "wire")  # frozen: nothing of it writes now
            # A write the pause caught mid-way (temp file written, not renamed) finishes
            # when the process wakes: it began before the pause, under a valid lease.
            begun = _in_flight(archive, "wire")
            time.sleep(LEASE + 1)  # past its lease: the next run may take the archive over
            second = start("other", "second.json")
            while _lock_holder(archive) in (first_id, None):
                assert second.poll() is None, second.communicate()
                assert time.monotonic() < deadline + 30, "the second run did not take over"
                time.sleep(0.05)
            second_id = _lock_holder(archive)
        finally:
            first.send_signal(signal.SIGCONT)
        _out, first_err = first.communicate(timeout=60)
        after_wake = _articles(archive, "wire")
        holder_when_first_ended = _lock_holder(archive)
        _out, second_err = second.communicate(timeout=120)
        # What the woken run did not write is not done: the next run fetches it.
        third = run_cli([*base, "--source", "wire", "--summary", str(tmp_path / "third.json")])
    assert first.returncode == 1, first_err[-3000:]
    assert before <= after_wake <= before | begun  # the woken run began no write
    assert holder_when_first_ended == second_id  # nor touched the new holder's lock
    summary = load_json(tmp_path / "first.json")
    assert summary["status"] == "failed"
    assert summary["close_reason"] == "lock_lost"
    assert summary["articles_archived"] == len(after_wake)
    assert summary["error_details"]["archive_refused_lock_lost"] >= 1  # refused, counted
    assert "lock" in first_err
    assert second.returncode == 0, second_err[-3000:]
    assert third.status == 0, third.stderr[-3000:]
    third_summary = load_json(tmp_path / "third.json")
    # Both sites serve the same stories, so "other" holds them now: the wire copies the
    # woken run refused to write are fetched again and recorded as its duplicates.
    assert third_summary["skipped"] == len(after_wake)
    assert third_summary["pages_fetched"] == PAGES - len(after_wake)
