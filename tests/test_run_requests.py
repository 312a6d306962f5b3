"""What a run asks of an S3 archive's index: its start fetches the manifest once.

The requests are counted by a real HTTP proxy in front of the test S3 server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer
from pipelines.index.manifest import MANIFEST_KEY
from tests.helpers.faultproxy import FaultProxy
from tests.helpers.fixtures_s3 import S3Server, s3_client
from tests.helpers.support import FAST_CRAWL, news_site, run_cli, write_config

PAGES = 2
BUCKET = "requests"


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with news_site(PAGES).running() as server:
        yield server


def manifest_gets(proxy: FaultProxy) -> int:
    return sum(
        1
        for method, path in proxy.requests
        if method == "GET" and path == f"/{BUCKET}/wire/{MANIFEST_KEY}"
    )


def test_a_run_reads_the_manifest_once_at_its_start_and_once_at_its_end(
    tmp_path: Path, site: LoopbackServer, s3_server: S3Server
) -> None:
    s3_client(s3_server.endpoint).create_bucket(Bucket=BUCKET)
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "wire", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    archive = f"s3://{BUCKET}/wire"
    with FaultProxy(s3_server.endpoint).running() as proxy:
        env = {
            **s3_server.env(),
            "AWS_ENDPOINT_URL_S3": proxy.endpoint,
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        }
        crawl = ["crawl", "--config", str(config), "--archive", archive, *FAST_CRAWL]
        first = run_cli(crawl, env=env)
        assert first.status == 0, first.stderr
        proxy.requests.clear()
        # Nothing new: the start brings the cache up to the manifest (one GET, under the
        # lock, for the runner and the crawl alike); the end reads it again for its
        # compare-and-swap, since the run cannot know what a lost lock let in meanwhile.
        second = run_cli(crawl, env=env)
        assert second.status == 0, second.stderr
        assert manifest_gets(proxy) == 2
        proxy.requests.clear()
        # reextract ships its changes too: one GET at its start, one at its end.
        again = run_cli(["reextract", "--config", str(config), "--archive", archive], env=env)
        assert again.status == 0, again.stderr
        assert manifest_gets(proxy) == 2
        proxy.requests.clear()
        verified = run_cli(["verify", "--config", str(config), "--archive", archive], env=env)
        assert verified.status == 0, verified.stdout + verified.stderr
        assert manifest_gets(proxy) == 1
