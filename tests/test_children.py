"""Nothing outlives its run: a crawl's extraction workers die with it, whatever kills it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.children import die_with_parent
from tests.helpers.support import FAST_CRAWL, ROOT, archive_objects, news_site, write_config

PAGES = 30
WORKERS = 2
WAIT_SECONDS = 60
GONE_WITHIN_SECONDS = 5


def descendants(root: int) -> dict[int, str]:
    """Return pid -> command line of every live process below ``root``."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rfind(")") + 2 :].split()[1])
        commands[int(entry.name)] = command
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = commands[pid]
                frontier.append(pid)
    return found


def alive(pid: int) -> bool:
    """Tell whether a pid is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"


def test_kill_9_of_a_crawl_leaves_no_extraction_worker(tmp_path: Path) -> None:
    server = news_site(PAGES, delay=0.2)
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
            allow_private_addresses=True,
        )
        crawl = subprocess.Popen(
            [
                *(sys.executable, "-m", "crawler", "crawl", "--config", str(config)),
                *("--archive", str(archive), "--workers", str(WORKERS), *FAST_CRAWL),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while not archive_objects(archive, "articles"):
            assert crawl.poll() is None, "the crawl ended before it archived anything"
            assert time.monotonic() < deadline, "no article archived in time"
            time.sleep(0.05)
        workers = {
            pid: command
            for pid, command in descendants(crawl.pid).items()
            if "multiprocessing" in command
        }
        assert any("spawn_main" in command for command in workers.values()), workers
        crawl.send_signal(signal.SIGKILL)  # the main process only, as the OOM killer would
        crawl.wait(timeout=30)
        deadline = time.monotonic() + GONE_WITHIN_SECONDS
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [command for pid, command in workers.items() if alive(pid)] == []


def test_a_child_whose_parent_is_already_gone_exits_at_once() -> None:
    """The parent may die before the worker calls prctl: the worker must notice."""
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from {die_with_parent.__module__} import die_with_parent; "
            "die_with_parent(1); print('still here')",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert child.returncode == 70
    assert "still here" not in child.stdout
