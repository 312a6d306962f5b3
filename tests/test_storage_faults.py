"""Storage faults: throttling is retried; an outage spools locally; the next run flushes it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer
from pipelines.archive.lock import LOCK_KEY
from tests.helpers.faultproxy import FaultProxy
from tests.helpers.fixtures_s3 import S3Server, s3_client
from tests.helpers.support import FAST_CRAWL, load_json, news_site, run_cli, write_config

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


def test_after_a_full_outage_the_next_run_takes_the_dead_runs_lock_and_flushes(
    tmp_path: Path, site: LoopbackServer, s3_server: S3Server
) -> None:
    """The failed run could not delete its lock either; the next cron run must not exit 75."""
    s3_client(s3_server.endpoint).create_bucket(Bucket="blackout")
    cache = str(tmp_path / "cache")
    with FaultProxy(s3_server.endpoint).running() as proxy:
        proxy.fail_after_puts = 5
        proxy.outage_deletes = True
        env = {
            **s3_server.env(),
            "AWS_ENDPOINT_URL_S3": proxy.endpoint,
            "AWS_MAX_ATTEMPTS": "2",
            "XDG_CACHE_HOME": cache,
        }
        first, summary = crawl(tmp_path, site, "blackout", env, "first")
    assert first.status == 1
    assert summary is not None and summary["spooled"] > 0
    assert "could not release the lock" in first.stderr
    client = s3_client(s3_server.endpoint)
    client.head_object(Bucket="blackout", Key=f"wire/{LOCK_KEY}")  # left behind, lease running
    # The store is back; the next run starts at once, well inside the dead run's lease.
    site.routes.clear()
    returned = time.monotonic()
    env = {**s3_server.env(), "XDG_CACHE_HOME": cache}
    second, summary = crawl(tmp_path, site, "blackout", env, "second")
    flushed_after = time.monotonic() - returned
    assert second.status == 0, second.stderr
    assert "flushed" in second.stderr
    assert len(article_keys(s3_server, "blackout")) == PAGES
    assert summary is not None and summary["spooled"] == 0
    assert not any((Path(cache) / "wirearchive").rglob("entry.json"))
    assert flushed_after < 60, flushed_after
    print(f"store back -> spool flushed and run done in {flushed_after:.1f}s")
