"""docker-entrypoint.sh, run without a container (no base images can be pulled here).

The script is run as the Dockerfile runs it: `wirearchive` on PATH, the config at
WIREARCHIVE_CONFIG, the cache volume at XDG_CACHE_HOME.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer
from pipelines.archive.local_store import LocalStore
from pipelines.archive.lock import RunLock
from tests.helpers.support import CLI_TIMEOUT, FAST_CRAWL, ROOT, news_site, write_config

ENTRYPOINT = ROOT / "docker-entrypoint.sh"
PAGES = 3
SLOW_PAGES = 20
STARTUP_TIMEOUT = 60.0


def entrypoint(args: list[str], config: Path, cache: Path, **env: str) -> subprocess.Popen[str]:
    """Start the entrypoint with the venv's `wirearchive` on PATH, as in the image."""
    full_env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "WIREARCHIVE_CONFIG": str(config),
        "XDG_CACHE_HOME": str(cache),
        **env,
    }
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT), *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=CLI_TIMEOUT)
    return process.returncode, out, err


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with news_site(PAGES).running() as server:
        yield server


def config_for(folder: Path, site: LoopbackServer, archive: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_config(
        folder / "sources.yaml",
        [{"name": "news", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
        archive=archive,
    )


def test_missing_config_says_where_to_mount_it(tmp_path: Path) -> None:
    status, _out, err = finish(entrypoint([], tmp_path / "none.yaml", tmp_path / "cache"))
    assert status == 1
    assert err.strip().splitlines() == [
        f"docker-entrypoint: no config at {tmp_path / 'none.yaml'}: mount your sources.yaml "
        f'there (-v "$PWD/sources.yaml:{tmp_path / "none.yaml"}:ro") or set WIREARCHIVE_CONFIG'
    ]


def test_unwritable_cache_says_to_mount_a_volume(tmp_path: Path, site: LoopbackServer) -> None:
    config = config_for(tmp_path, site, "./archive")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status, _out, err = finish(entrypoint(["crawl"], config, blocker / "cache"))
    assert status == 1
    assert "is not writable: mount a volume there" in err
    assert not (tmp_path / "archive").exists()


def test_bad_locked_exit_is_refused(tmp_path: Path, site: LoopbackServer) -> None:
    config = config_for(tmp_path, site, "./archive")
    process = entrypoint([], config, tmp_path / "cache", WIREARCHIVE_LOCKED_EXIT="zero")
    status, _out, err = finish(process)
    assert status == 1
    assert "WIREARCHIVE_LOCKED_EXIT must be a number" in err


@pytest.mark.s3
def test_crawl_into_s3_keeps_the_index_cache_in_the_volume(
    tmp_path: Path, site: LoopbackServer, s3_bucket: str
) -> None:
    config = config_for(tmp_path / "config", site, f"s3://{s3_bucket}/wire")
    cache = tmp_path / "cache"
    status, out, err = finish(entrypoint(["crawl", *FAST_CRAWL], config, cache))
    assert status == 0, err
    assert f"articles archived  {PAGES}" in out
    assert list(cache.glob("wirearchive/*/index.sqlite3"))  # the S3 index cache


def test_default_command_is_a_crawl_with_the_mounted_config(
    tmp_path: Path, site: LoopbackServer
) -> None:
    config = config_for(tmp_path / "config", site, "./archive")
    status, out, err = finish(entrypoint([], config, tmp_path / "cache"))
    assert status == 0, err
    assert f"articles archived  {PAGES}" in out
    # A relative archive is taken relative to the config file, wherever the entrypoint runs.
    assert len(list((tmp_path / "config" / "archive" / "articles").rglob("*.json"))) == PAGES


@pytest.mark.parametrize(("locked_exit", "expected"), [(None, 75), ("0", 0)])
def test_a_held_lock_exits_75_or_the_chosen_status(
    tmp_path: Path, site: LoopbackServer, locked_exit: str | None, expected: int
) -> None:
    config = config_for(tmp_path, site, "./archive")
    env = {"WIREARCHIVE_LOCKED_EXIT": locked_exit} if locked_exit else {}
    with RunLock(LocalStore(tmp_path / "archive"), "held-by-the-test"):
        status, _out, err = finish(entrypoint(["crawl"], config, tmp_path / "cache", **env))
    assert status == expected, err
    assert "held-by-the-test" in err


def test_sigterm_reaches_the_crawl_which_stops_gracefully(tmp_path: Path) -> None:
    with news_site(SLOW_PAGES, delay=1.0).running() as slow:
        config = config_for(tmp_path, slow, "./archive")
        summary = tmp_path / "summary.json"
        process = entrypoint(
            ["crawl", "--summary", str(summary), *FAST_CRAWL, "-s", "CONCURRENT_REQUESTS=2"],
            config,
            tmp_path / "cache",
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not any(path.startswith("/news/") for path in slow.requests):
            assert time.monotonic() < deadline, "the crawl never fetched a page"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)  # to the shell, as `docker stop` does to PID 1
        status, _out, err = finish(process)
    assert status == 1, err
    assert json.loads(summary.read_text())["status"] == "interrupted"
