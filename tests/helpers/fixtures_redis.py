"""Pytest plugin: a real redis-server for the session, and a flushed database per test.

Import both fixtures in a test module::

    from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401

redis-server must be on PATH (CI installs it: ``apt-get install -y redis-server``); a
missing server fails the tests rather than skipping them.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
DATABASES = 16
_counter = itertools.count()


@dataclass
class RedisServer:
    """A running redis-server: its port, its URL (database 0) and its process."""

    port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log(folder: Path) -> str:
    path = folder / "redis.log"
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


class RedisUnavailable(RuntimeError):
    """redis-server is missing or did not start; str() says why."""


def start_redis_server(folder: Path) -> RedisServer:
    """Start redis-server on 127.0.0.1 and a free port, data in ``folder``; wait for PING."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(
            "redis-server is not on PATH: install it (apt-get install -y redis-server, or "
            "run `make test` as root, which installs it) to run the Redis tests"
        )
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)),
            *("--save", "", "--appendonly", "no", "--databases", str(DATABASES)),
            *("--logfile", str(folder / "redis.log")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = RedisServer(port, process, folder)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1.0)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RedisUnavailable(
                    f"redis-server exited ({process.returncode}): {err}{_log(folder)}"
                )
            try:
                if client.ping():
                    return server
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RedisUnavailable(
                    f"redis-server did not answer PING in {READY_TIMEOUT}s: {_log(folder)}"
                )
            time.sleep(0.05)
    except BaseException:
        stop_redis_server(server)
        raise
    finally:
        client.close()


def stop_redis_server(server: RedisServer) -> None:
    """Stop a redis-server started by start_redis_server."""
    process = server.process
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr:
        process.stderr.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Start redis-server for the session; stop it after."""
    folder = Path(tempfile.mkdtemp(prefix="wirearchive-redis-"))
    try:
        try:
            server = start_redis_server(folder)
        except RedisUnavailable as err:
            # Never a skip: a suite that silently drops the Redis tests proves nothing.
            pytest.fail(str(err), pytrace=False)
        try:
            yield server
        finally:
            stop_redis_server(server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """Return the URL of a flushed database of its own for one test."""
    url = redis_server.url_for(next(_counter) % DATABASES)
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url
