"""Shared pytest configuration: plugins every test module may use, and the leak check."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from pathlib import Path

import pytest

pytest_plugins = ["tests.helpers.fixtures_s3", "tests.helpers.fixtures_browser"]

# Every process the tests start inherits this variable (children, grandchildren, extraction
# workers of a crawl in a subprocess), so the session can find the ones that outlived it
# even after they were re-parented to PID 1.
SESSION_MARK = "WIREARCHIVE_TEST_SESSION"
LEAK_GRACE_SECONDS = 10.0


def pytest_configure(config: pytest.Config) -> None:
    """Mark this session's environment before any test starts a process."""
    os.environ.setdefault(SESSION_MARK, secrets.token_hex(8))


def processes_of_this_session() -> dict[int, str]:
    """Return pid -> command line of every live process started by this test session."""
    mark = f"{SESSION_MARK}={os.environ[SESSION_MARK]}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if not command:  # an empty command line is a zombie waiting for its parent: not alive
            continue
        if "multiprocessing.resource_tracker" in command and _parent(entry) == os.getpid():
            continue  # this pytest process's own tracker: it ends when the session does
        found[int(entry.name)] = command.strip()
    return found


def _parent(entry: Path) -> int:
    """Return the parent pid of the process behind a /proc entry (0 if it is gone)."""
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return 0
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process started by the tests is still alive after a grace period."""
    if not Path("/proc/self/environ").exists() or os.environ.get(SESSION_MARK) is None:
        return
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    left = processes_of_this_session()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_of_this_session()
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for pid, command in left.items():
        if reporter is not None:
            reporter.write_line(f"LEAKED PROCESS {pid}: {command[:200]}", red=True)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # never leave them to the next run
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
