"""kill -9 at any moment, then run again: every page archived once, the index consistent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.archive.warc import read_warc
from tests.helpers.support import (
    FAST_CRAWL,
    ROOT,
    archive_objects,
    load_json,
    news_site,
    run_cli,
    write_config,
)

PAGES = 16
NOW = datetime.now(UTC)


def test_kill_9_mid_run_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    server = news_site(PAGES, delay=0.15)
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        args = ["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
        for kill_after in (1, 5, 9):
            process = subprocess.Popen(
                [sys.executable, "-m", "crawler", *args, "-s", "CONCURRENT_REQUESTS=2"],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 60
            while len(archive_objects(archive, "articles")) < kill_after:
                if process.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            # Whatever the moment, every object visible is whole (temp files are hidden).
            for path in archive_objects(archive, "articles"):
                if not path.name.startswith("."):
                    assert load_json(path)["id"] in path.name
            for path in archive_objects(archive, "raw"):
                if not path.name.startswith("."):
                    assert read_warc(path.read_bytes(), source="wire", fetched_at=NOW).body
        final = run_cli([*args, "--summary", str(tmp_path / "final.json")])
        assert final.status == 0, final.stderr
        verify = run_cli(["verify", "--config", str(config), "--archive", str(archive), "--json"])
    records = [load_json(path) for path in archive_objects(archive, "articles")]
    assert sorted(r["url"] for r in records) == sorted(
        server.url(f"/news/{n}.html") for n in range(PAGES)
    )
    assert len({r["id"] for r in records}) == PAGES
    assert archive_objects(archive, "duplicates") == []
    for record in records:
        assert (archive / record["raw_key"]).is_file()
    assert verify.status == 0, verify.stdout + verify.stderr
    # The next run under the lock swept what killed writers left behind.
    assert list(archive.rglob(".*.tmp")) == []
    assert json.loads(verify.stdout)["clean"] is True


def test_verify_finds_and_repairs_an_index_out_of_step(tmp_path: Path) -> None:
    server = news_site(4)
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        args = ["crawl", "--config", str(config), "--archive", str(archive), *FAST_CRAWL]
        assert run_cli(args).status == 0
        # An article whose object is lost, and an index that lost its file entirely.
        lost = archive_objects(archive, "articles")[0]
        lost.unlink()
        check = ["verify", "--config", str(config), "--archive", str(archive), "--json"]
        found = run_cli(check)
        assert found.status == 1
        assert len(json.loads(found.stdout)["missing_objects"]) == 1
        repaired = run_cli([*check, "--repair"])
        assert repaired.status == 0, repaired.stderr
        assert run_cli(check).status == 0
        # The lost article's URL is fetched again by the next run, and archived again.
        again = run_cli([*args, "--summary", str(tmp_path / "again.json")])
        assert again.status == 0, again.stderr
        assert load_json(tmp_path / "again.json")["articles_archived"] == 1
        # Losing the whole index: repair rebuilds it from the archive's objects.
        for path in (archive / "_state").glob("index.sqlite3*"):
            path.unlink()
        assert json.loads(run_cli(check).stdout)["unindexed"]
        assert run_cli([*check, "--repair"]).status == 0
        third = run_cli([*args, "--summary", str(tmp_path / "third.json")])
        assert load_json(tmp_path / "third.json")["pages_fetched"] == 0, third.stderr
