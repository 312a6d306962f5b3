"""``wirearchive serve`` in a subprocess on a free loopback port, as a user starts it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.helpers.support import ROOT, SESSION_CACHE

READY_TIMEOUT = 60.0


@dataclass
class Served:
    """A running server: its base URL and process."""

    url: str
    process: subprocess.Popen[str]

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET a path; return status, headers (lower-case names) and body."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                return response.status, headers, response.read()
        except urllib.error.HTTPError as err:
            headers = {k.lower(): v for k, v in err.headers.items()}
            return err.code, headers, err.read()

    def json(self, path: str) -> tuple[int, Any]:
        """GET a path and parse the JSON body."""
        status, _, body = self.get(path)
        return status, json.loads(body)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(archive: str, env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """Run ``wirearchive serve --archive ARCHIVE`` until the block ends."""
    port = free_port()
    full_env = {**os.environ, "XDG_CACHE_HOME": SESSION_CACHE, "PYTHONPATH": str(ROOT)}
    full_env.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--archive", archive, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
        cwd=ROOT,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"wirearchive serve exited {process.returncode}: {output}")
            try:
                served.get("/api/search?q=")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
