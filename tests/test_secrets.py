"""Credentials never appear in logs, summaries, archive objects, error messages or requests.

Each run is given recognisable fake credentials in its environment and -v logging; then
everything it wrote (stdout, stderr, every archive file decompressed, the summary) and
every request header the sites received is searched for them.
"""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from tests.helpers.fixtures_s3 import S3Server
from tests.helpers.support import FAST_CRAWL, CliResult, archive_objects, rss, run_cli, write_config

ACCESS_KEY_ID = "AKIAFAKEFAKEFAKE1234"
SECRET_ACCESS_KEY = "wJalrFAKESECRETFAKESECRETFAKE"
URL_PASSWORD = "urlpassFAKE9876"
SECRETS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_SESSION_TOKEN": "",
    "AWS_PROFILE": "",
}
FORBIDDEN_HEADERS = ("authorization", "cookie", "proxy-authorization")
PAGE = (
    "<html><head><title>Storm closes the harbour</title></head><body><article>"
    "<h1>Storm closes the harbour</h1>"
    + "<p>The harbour stayed closed on Monday as the storm moved along the coast, "
    "officials said, and ferries to the islands were cancelled until further notice.</p>"
    * 12
    + "</article></body></html>"
).encode()

OTHER_PAGE = (
    "<html><head><title>Farmers count the cost of drought</title></head><body><article>"
    "<h1>Farmers count the cost of drought</h1>"
    + "".join(
        f"<p>Wheat growers in province {n} said the harvest fell by a third this year, and "
        f"the minister promised aid before the winter sowing season begins in earnest.</p>"
        for n in range(12)
    )
    + "</article></body></html>"
).encode()


class Recorder:
    """Serve a resource and keep the headers of every request."""

    def __init__(self, resource: Resource, seen: list[dict[str, str]]) -> None:
        self.resource = resource
        self.seen = seen

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        self.seen.append(dict(headers))
        return self.resource


@pytest.fixture
def site() -> Iterator[tuple[LoopbackServer, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    server = LoopbackServer()
    with server.running():
        server.routes["/robots.txt"] = Recorder(
            Resource(b"User-agent: *\nAllow: /\n", "text/plain"), seen
        )
        server.routes["/news/1.html"] = Recorder(
            Resource(PAGE, "text/html", headers={"Set-Cookie": "session=tracking-cookie"}), seen
        )
        server.routes["/news/2.html"] = Recorder(Resource(OTHER_PAGE, "text/html"), seen)
        server.routes["/feed.xml"] = Recorder(
            Resource(
                rss([(server.url("/news/1.html"), None), (server.url("/news/2.html"), None)]),
                "application/rss+xml",
                headers={"Set-Cookie": "feed=1"},
            ),
            seen,
        )
        yield server, seen


def everything_written(result: CliResult, *roots: Path) -> dict[str, str]:
    """Return every text the run produced: its output and each file, decompressed."""
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    for root in roots:
        if root.is_file():
            texts[str(root)] = root.read_text(errors="replace")
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            texts[str(path)] = data.decode("utf-8", errors="replace")
    return texts


def assert_no_secret(texts: Mapping[str, str], secrets: tuple[str, ...] = SECRETS) -> None:
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} found in {where}"


def test_a_local_crawl_leaks_no_credentials_and_sends_none(
    tmp_path: Path, site: tuple[LoopbackServer, list[dict[str, str]]]
) -> None:
    server, seen = site
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "local", "feeds": [server.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    archive = tmp_path / "archive"
    summary = tmp_path / "summary.json"
    result = run_cli(
        [
            "crawl",
            "--config",
            str(config),
            "--archive",
            str(archive),
            "--summary",
            str(summary),
            "-v",
            *FAST_CRAWL,
        ],
        env=FAKE_ENV,
    )
    assert result.status == 0, result.stderr[-2000:]
    assert json.loads(summary.read_text())["articles_archived"] == 2
    texts = everything_written(result, archive, summary)
    assert len(texts) >= 2 + 2 * 2 + 1  # output, two articles with raw records, the run
    assert_no_secret(texts)
    # Nothing sent carries credentials or cookies, though the site set some.
    assert len(seen) >= 4
    for headers in seen:
        assert not {name.lower() for name in headers} & set(FORBIDDEN_HEADERS), headers
    # The WARC request records say the same.
    for path in archive_objects(archive, "raw"):
        request = gzip.decompress(path.read_bytes()).split(b"WARC-Type: request", 1)[1]
        lowered = request.lower()
        assert b"\r\nauthorization:" not in lowered
        assert b"\r\ncookie:" not in lowered
        assert b"user-agent: wirearchive/" in lowered


def test_an_unreachable_s3_archive_fails_without_leaking_credentials(
    tmp_path: Path, site: tuple[LoopbackServer, list[dict[str, str]]]
) -> None:
    server, seen = site
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "local", "feeds": [server.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    summary = tmp_path / "summary.json"
    result = run_cli(
        [
            "crawl",
            "--config",
            str(config),
            "--archive",
            "s3://wire-bucket/prefix",
            "--summary",
            str(summary),
            "-v",
        ],
        env={**FAKE_ENV, "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{closed_port}"},
    )
    assert result.status == 1
    assert result.stderr.strip(), "the failure must be explained"
    assert "Traceback" not in result.stderr
    texts = everything_written(result, *([summary] if summary.exists() else []))
    assert_no_secret(texts)
    assert seen == []  # nothing fetched before the archive is known reachable


def test_an_s3_archive_refusing_the_credentials_fails_without_leaking_them(
    tmp_path: Path,
    s3_server: S3Server,
    site: tuple[LoopbackServer, list[dict[str, str]]],
) -> None:
    # A real S3 server answers the fake key with an error document; its message must not
    # carry the key (or anything derived from the secret) into the output.
    server, _seen = site
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "local", "feeds": [server.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    result = run_cli(
        ["crawl", "--config", str(config), "--archive", "s3://wire-bucket/prefix", "-v"],
        env={**FAKE_ENV, "AWS_ENDPOINT_URL_S3": s3_server.endpoint},
    )
    assert result.status == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert_no_secret(everything_written(result))


def test_credentials_in_a_configured_url_are_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    # "Nothing secret is read from the config": a user:password@ URL would be logged with
    # every request, so the loader refuses it and the message does not repeat it.
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "local", "feeds": [f"https://reader:{URL_PASSWORD}@example.org/feed.xml"]}],
    )
    result = run_cli(["sources", "--config", str(config)])
    assert result.status == 1
    assert "credentials" in result.stderr
    assert URL_PASSWORD not in result.stdout + result.stderr
