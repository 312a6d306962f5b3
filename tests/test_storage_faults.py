"""Storage faults: throttling is retried; an outage spools locally; the next run flushes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer
from tests.faultproxy import FaultProxy
from tests.fixtures_s3 import S3Server, s3_client
from tests.support import FAST_CRAWL, load_json, news_site, run_cli, write_config

PAGES = 8


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with news_site(PAGES).running() as server:
        yield server


def crawl(tmp_path: Path, site: LoopbackServer, bucket: str, env: dict[str, str], name: str):  # type: ignore[no-untyped-def]
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "wire", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    summary = tmp_path / f"{name}.json"
    result = run_cli(
        [
            *("crawl", "--config", str(config), "--archive", f"s3://{bucket}/wire"),
            *("--summary", str(summary), *FAST_CRAWL),
        ],
        env=env,
    )
    return result, (load_json(summary) if summary.exists() else None)


def article_keys(server: S3Server, bucket: str) -> list[str]:
    listing = s3_client(server.endpoint).list_objects_v2(Bucket=bucket, Prefix="wire/articles/")
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def test_throttling_is_retried_and_nothing_is_lost(
    tmp_path: Path, site: LoopbackServer, s3_server: S3Server
) -> None:
    s3_client(s3_server.endpoint).create_bucket(Bucket="throttled")
    with FaultProxy(s3_server.endpoint).running() as proxy:
        proxy.throttle_every = 3  # one PUT in three answers 503 SlowDown
        env = {**s3_server.env(), "AWS_ENDPOINT_URL_S3": proxy.endpoint}
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
        result, summary = crawl(tmp_path, site, "throttled", env, "run")
    assert result.status == 0, result.stderr
    assert proxy.throttled >= 3
    assert summary["articles_archived"] == PAGES
    assert summary["spooled"] == 0
    assert len(article_keys(s3_server, "throttled")) == PAGES


def test_an_outage_spools_locally_and_the_next_run_flushes_it(
    tmp_path: Path, site: LoopbackServer, s3_server: S3Server
) -> None:
    s3_client(s3_server.endpoint).create_bucket(Bucket="outage")
    cache = str(tmp_path / "cache")
    with FaultProxy(s3_server.endpoint).running() as proxy:
        # The archive takes the lock and a few writes, then refuses every write.
        proxy.fail_after_puts = 5
        env = {
            **s3_server.env(),
            "AWS_ENDPOINT_URL_S3": proxy.endpoint,
            "AWS_MAX_ATTEMPTS": "2",
            "XDG_CACHE_HOME": cache,
        }
        first, summary = crawl(tmp_path, site, "outage", env, "first")
    assert first.status == 1
    assert summary is not None
    assert summary["status"] == "failed"
    assert summary["spooled"] > 0
    assert summary["articles_archived"] + summary["spooled"] == PAGES
    archived_before = article_keys(s3_server, "outage")
    assert len(archived_before) < PAGES
    # The archive is back. Take the site down too: the spooled pages must come from the spool.
    site.routes.clear()
    env = {**s3_server.env(), "XDG_CACHE_HOME": cache}
    second, summary = crawl(tmp_path, site, "outage", env, "second")
    assert second.status == 0, second.stderr
    assert "flushed" in second.stderr
    keys = article_keys(s3_server, "outage")
    assert len(keys) == PAGES
    assert summary["spooled"] == 0
    assert not any((Path(cache) / "wirearchive").rglob("entry.json"))
