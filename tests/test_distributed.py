"""Distributed mode: workers against one real redis-server and one archive, end to end.

Two ``wirearchive crawl --redis`` processes race over two sources that list overlapping
article URLs, syndicated copies and exact copies: every story is archived exactly once and
every other copy points at it. A worker killed mid-run loses nothing: once its claims
and leases expire, the next run archives the rest.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis

from crawler.demo.loopback import LoopbackServer, Resource
from crawler.distributed.frontier import Frontier
from crawler.sources import ConfigError, parse_config
from pipelines.index.redis import RedisIndex
from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401
from tests.helpers.support import (
    DEV_SET,
    FAST_CRAWL,
    ROOT,
    SESSION_CACHE,
    Paced,
    archive_objects,
    dev_pages,
    load_json,
    news_site,
    rss,
    run_cli,
    write_config,
)
from tests.test_dedup_e2e import republished_page, syndicate
from tests.test_incremental import ConditionalFeed

STORIES = 20
SYNDICATED = 8  # near copies on the republisher
COPIED = 3  # exact copies on the republisher, listed by both sources
TRACKED = 3  # origin URLs with tracking parameters, on the republisher's feed
SHARED_URLS = 6  # origin URLs listed by the republisher's feed as well
DELAY = 0.05


def wait_until_expired(client: redis.Redis, prefix: str, timeout: float = 60) -> None:
    """Wait, by the Redis clock, until a dead worker holds nothing: its source leases and URL
    claims gone, every pending original and in-flight request past its deadline.

    The event the next run depends on, polled, rather than a sleep guessed against the TTL.
    """
    deadline = time.monotonic() + timeout
    while True:
        seconds, micros = client.time()
        now_ms = seconds * 1000 + micros // 1000
        held = [*client.scan_iter(match=prefix + "lease:*"), *client.scan_iter(prefix + "c:*")]
        for timed in (prefix + "pendz", prefix + "f:fly"):
            last = client.zrange(timed, -1, -1, withscores=True)
            held += [member for member, due in last if due > now_ms]
        if not held:
            return
        assert time.monotonic() < deadline, f"still held after {timeout} s: {held}"
        time.sleep(0.05)


def start_worker(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m crawler ARGS`` without waiting for it; its output goes to ``log``.

    A file, not a pipe: a SIGKILLed worker's extraction processes would hold a pipe open.
    """
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler", *args],
            cwd=ROOT,
            env={**_env(), "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _env() -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": SESSION_CACHE}


def articles(archive: Path) -> list[dict[str, Any]]:
    """Return the archived article records (temp files of a killed writer left out)."""
    return [
        load_json(p) for p in archive_objects(archive, "articles") if not p.name.startswith(".")
    ]


def duplicates(archive: Path) -> list[dict[str, Any]]:
    """Return the archived duplicate records."""
    return [
        load_json(p) for p in archive_objects(archive, "duplicates") if not p.name.startswith(".")
    ]


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[LoopbackServer, LoopbackServer, list[set[str]], set[str]]]:
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    pages = dev_pages()
    chosen = sorted(pages, key=lambda pid: -len(truth[pid]["articleBody"].split()))[:STORIES]
    origin, republisher = LoopbackServer(), LoopbackServer()
    for server in (origin, republisher):
        server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    rng = random.Random(7)
    with origin.running(), republisher.running():
        groups: dict[str, set[str]] = {}  # story -> every URL it is listed under
        for pid in chosen:
            origin.routes[f"/news/{pid}.html"] = Paced(pages[pid], DELAY)
            groups[pid] = {origin.url(f"/news/{pid}.html")}
        origin_feed = [origin.url(f"/news/{pid}.html") for pid in chosen]
        republisher_feed = origin_feed[-SHARED_URLS:]  # overlapping article URLs
        for pid in chosen[:SYNDICATED]:
            path = f"/wire/{pid[:8]}-story.html"
            page = republished_page(
                f"Wire story {pid[:6]}", syndicate(truth[pid]["articleBody"], rng)
            )
            republisher.routes[path] = Paced(page, DELAY)
            republisher_feed.append(republisher.url(path))
            groups[pid].add(republisher.url(path))
        for pid in chosen[SYNDICATED : SYNDICATED + COPIED]:
            path = f"/copies/{pid}.html"
            republisher.routes[path] = Paced(pages[pid], DELAY)
            # Both sources list the copy: who archives the story first is a race.
            republisher_feed.append(republisher.url(path))
            origin_feed.append(republisher.url(path))
            groups[pid].add(republisher.url(path))
        tracked: set[str] = set()
        for pid in chosen[SYNDICATED + COPIED :][:TRACKED]:
            url = origin.url(f"/news/{pid}.html") + "?utm_source=republisher&utm_medium=feed"
            republisher_feed.append(url)
            groups[pid].add(url)
            tracked.add(url)
        origin.routes["/feed.xml"] = Resource(
            rss((url, None) for url in origin_feed), "application/rss+xml"
        )
        republisher.routes["/feed.xml"] = Resource(
            rss((url, None) for url in republisher_feed), "application/rss+xml"
        )
        yield origin, republisher, list(groups.values()), tracked


@pytest.fixture(scope="module")
def raced(
    sites: tuple[LoopbackServer, LoopbackServer, list[set[str]], set[str]],
    redis_server: Any,  # noqa: F811 (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    origin, republisher, groups, tracked = sites
    url = redis_server.url_for(15)
    redis.Redis.from_url(url).flushdb()
    folder = tmp_path_factory.mktemp("distributed")
    config = write_config(
        folder / "sources.yaml",
        [
            {"name": "origin", "feeds": [origin.url("/feed.xml")]},
            {"name": "republisher", "feeds": [republisher.url("/feed.xml")]},
        ],
        allow_private_addresses=True,
    )
    archive = folder / "archive"
    base = ["crawl", "--config", str(config), "--archive", str(archive), "--redis", url]
    base += [*FAST_CRAWL, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
    started = time.monotonic()
    workers = [
        start_worker(
            [*base, "--source", name, "--worker", f"w{n}", "--summary", str(folder / f"{n}.json")],
            folder / f"{n}.log",
        )
        for n, name in enumerate(("origin", "republisher"), start=1)
    ]
    for worker in workers:
        worker.wait(timeout=180)
    outputs = [(folder / f"{n}.log").read_text(errors="replace") for n in (1, 2)]
    elapsed = time.monotonic() - started
    statuses = [worker.returncode for worker in workers]
    after_race = {
        "articles": articles(archive),
        "duplicates": duplicates(archive),
        "article_files": [p.name for p in archive_objects(archive, "articles")],
    }
    # Then one worker, every source: it records what the race left (copies skipped while
    # another worker held their URL) and must find nothing new to archive.
    again = run_cli([*base, "--worker", "w3", "--summary", str(folder / "3.json")])
    return {
        "groups": groups,
        "tracked": tracked,
        "statuses": statuses,
        "outputs": outputs,
        "summaries": [load_json(folder / f"{n}.json") for n in (1, 2)],
        "again": again,
        "again_summary": load_json(folder / "3.json") if (folder / "3.json").exists() else None,
        "after_race": after_race,
        "archive": archive,
        "elapsed": elapsed,
        "redis": url,
    }


def group_of(groups: list[set[str]], url: str) -> int:
    return next(n for n, group in enumerate(groups) if url in group)


def test_two_racing_workers_archive_every_story_exactly_once(raced: dict[str, Any]) -> None:
    for status, output in zip(raced["statuses"], raced["outputs"], strict=True):
        assert status == 0, output
    groups: list[set[str]] = raced["groups"]
    race = raced["after_race"]
    archived = sum(summary["articles_archived"] for summary in raced["summaries"])
    assert archived == len(groups) == STORIES
    # Each worker read its own source's feed and queued what it found in the shared
    # frontier (which worker then fetched which page is up to the race).
    for summary, name in zip(raced["summaries"], ("origin", "republisher"), strict=True):
        assert summary["sources"] == [name]
        assert summary["frontier"]["queued"] > 0
    popped = sum(summary["frontier"].get("popped", 0) for summary in raced["summaries"])
    assert popped == sum(summary["frontier"]["queued"] for summary in raced["summaries"])
    assert sum(sum(s["duplicates"].values()) for s in raced["summaries"]) > 0
    # One article object per story, none written twice, no story archived under two URLs.
    assert len(race["article_files"]) == STORIES
    assert len({record["id"] for record in race["articles"]}) == STORIES
    owners = sorted(group_of(groups, record["url"]) for record in race["articles"])
    assert owners == list(range(STORIES))


def test_every_copy_points_at_its_story_original(raced: dict[str, Any]) -> None:
    assert raced["again"].status == 0, raced["again"].stderr
    again = raced["again_summary"]
    assert again["articles_archived"] == 0
    groups: list[set[str]] = raced["groups"]
    archive: Path = raced["archive"]
    final = articles(archive)
    assert len(final) == STORIES
    original_of = {group_of(groups, record["url"]): record for record in final}
    records = duplicates(archive)
    for record in records:
        original = original_of[group_of(groups, record["url"])]
        assert record["duplicate_of"] == original["id"], record["url"]
        assert (archive / record["duplicate_of_key"]).is_file()
        # A `url` duplicate is a tracking variant, never a page the race archived twice.
        if record["kind"] == "url":
            assert record["url"] in raced["tracked"]
    assert not {r["url"] for r in records} & {r["url"] for r in final}
    assert len({r["url"] for r in records}) == len(records)
    # After the follow-up run every listed URL is accounted for: archived, a duplicate, or
    # (a tracking variant fetched by the worker that archived its story) indexed with it.
    accounted = {r["url"] for r in records} | {r["url"] for r in final}
    accounted |= {r["canonical_url"] for r in final}
    index = RedisIndex(raced["redis"], str(archive))
    try:
        for url in set().union(*groups) - accounted:
            assert url in raced["tracked"], url
            known = index.url(url)
            assert known is not None, url
            assert known.article_id == original_of[group_of(groups, url)]["id"]
        # Nothing is left pending in the shared index or frontier, no claim left behind.
        assert index.pending_count() == 0
        assert not list(index.r.scan_iter(match=index.prefix + "c:*"))
        assert not list(index.r.scan_iter(match=index.prefix + "lease:*"))
        assert not list(index.r.scan_iter(match=index.prefix + "f:*"))
        for group in groups:
            assert any(index.url(u) is not None for u in group)
    finally:
        index.close()


def test_a_killed_worker_loses_nothing(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    pages = 12
    server = news_site(pages, delay=0.25)
    archive = tmp_path / "archive"
    with server.running():
        args = one_source_crawl(tmp_path, server, archive, redis_url)
        args += [*FAST_CRAWL, "-s", "WIREARCHIVE_CLAIM_TTL=2", "-s", "CONCURRENT_REQUESTS=3"]
        log = tmp_path / "doomed.log"
        process = start_worker([*args, "--worker", "doomed"], log)
        deadline = time.monotonic() + 60
        while len(articles(archive)) < 3:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        client = redis.Redis.from_url(redis_url)
        index = RedisIndex(client, str(archive))
        # It died holding its source's lease and claims in flight.
        assert client.get(index.prefix + "lease:wire") == b"doomed"
        killed_at = len(articles(archive))
        assert killed_at < pages
        wait_until_expired(client, index.prefix)  # its lease and claims (TTL 2 s)
        final = run_cli([*args, "--worker", "next", "--summary", str(tmp_path / "final.json")])
        assert final.status == 0, final.stderr
    records = articles(archive)
    assert sorted(r["url"] for r in records) == sorted(
        server.url(f"/news/{n}.html") for n in range(pages)
    )
    assert len({r["id"] for r in records}) == pages
    assert duplicates(archive) == []
    assert load_json(tmp_path / "final.json")["articles_archived"] >= pages - killed_at
    assert index.pending_count() == 0
    for n in range(pages):
        assert index.url(server.url(f"/news/{n}.html")) is not None
    index.close()


def test_source_leases_share_the_sources_and_exit_75_when_none_is_free(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    server = news_site(2)
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [
                {"name": "a", "feeds": [server.url("/feed.xml")]},
                {"name": "b", "feeds": [server.url("/feed.xml")]},
            ],
            allow_private_addresses=True,
            redis="redis://127.0.0.1:1/0",  # unreachable: --redis wins
        )
        args = ["crawl", "--config", str(config), "--archive", str(archive), "--redis", redis_url]
        args += [*FAST_CRAWL, "--summary", str(tmp_path / "s.json")]
        args += ["-s", "WIREARCHIVE_JOIN_WAIT=0.5"]  # the holders are fakes: nothing comes
        client = redis.Redis.from_url(redis_url)
        prefix = RedisIndex(client, str(archive)).prefix
        client.set(prefix + "lease:a", "elsewhere:1", px=60_000)
        partial = run_cli(args)
        assert partial.status == 0, partial.stderr
        assert "a (elsewhere:1)" in partial.stderr
        summary = load_json(tmp_path / "s.json")
        assert summary["articles_archived"] == 2
        assert set(summary["sources"]) == {"b"}
        assert client.get(prefix + "lease:a") == b"elsewhere:1"
        assert client.get(prefix + "lease:b") is None  # released at the end
        client.set(prefix + "lease:b", "elsewhere:2", px=60_000)
        blocked = run_cli(args)
    assert blocked.status == 75
    message = blocked.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "a (elsewhere:1)" in message
    assert "b (elsewhere:2)" in message


def one_source_crawl(
    tmp_path: Path, server: LoopbackServer, archive: Path, redis_at: str
) -> list[str]:
    """Write a sources.yaml of one source, ``wire``, on the server's feed; return the args."""
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "wire", "feeds": [server.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    return ["crawl", "--config", str(config), "--archive", str(archive), "--redis", redis_at]


def wait_for_lease(
    client: redis.Redis, key: str, holder: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    """Wait until ``holder`` (a worker just started) holds the lease ``key``."""
    deadline = time.monotonic() + 60
    while client.get(key) != holder.encode():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.01)


class HeldFromOne:
    """Pages that keep one User-Agent waiting until released; others wait for it to come.

    Others are answered only once ``agent`` has ``arrivals`` requests in, so it cannot arrive
    after the others have fetched everything, however slowly it starts.
    """

    def __init__(self, agent: str, arrivals: int = 2) -> None:
        self.agent = agent
        self.arrivals = arrivals
        self.held: list[str] = []
        self.came = threading.Event()
        self.release = threading.Event()

    def page(self, body: bytes) -> Callable[[str, Mapping[str, str]], Resource]:
        def answer(path: str, headers: Mapping[str, str]) -> Resource:
            if headers.get("User-Agent") == self.agent:
                self.held.append(path)
                if len(self.held) >= self.arrivals:
                    self.came.set()
                self.release.wait(60)
            else:
                self.came.wait(60)
            return Resource(body, "text/html")

        return answer

    def site(self, pages: int) -> LoopbackServer:
        """A server with ``pages`` dev pages behind this gate, and a feed listing them."""
        server = LoopbackServer()
        server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
        for n, body in enumerate(list(dev_pages().values())[:pages]):
            server.routes[f"/news/{n}.html"] = self.page(body)
        server.routes["/feed.xml"] = Resource(
            rss((server.url(f"/news/{n}.html"), None) for n in range(pages)), "application/rss+xml"
        )
        return server


def test_a_helper_shares_the_pages_of_one_source(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    pages = 24
    gate = HeldFromOne("helper", arrivals=1)
    gate.release.set()  # the helper is answered at once; the discoverer once it has come
    server = gate.site(pages)
    archive = tmp_path / "archive"
    with server.running():
        args = one_source_crawl(tmp_path, server, archive, redis_url)
        args += [*FAST_CRAWL, "-s", "CONCURRENT_REQUESTS=4", "--workers", "1"]
        client = redis.Redis.from_url(redis_url)
        prefix = RedisIndex(client, str(archive)).prefix
        first = start_worker(
            [*args, "--worker", "first", "--summary", str(tmp_path / "first.json")],
            tmp_path / "first.log",
        )
        wait_for_lease(client, prefix + "lease:wire", "first", first, tmp_path / "first.log")
        # Started while the first holds the only lease: it waits for work, then helps.
        second = start_worker(
            [
                *args,
                "--worker",
                "second",
                "-s",
                "USER_AGENT=helper",
                "--summary",
                str(tmp_path / "second.json"),
            ],
            tmp_path / "second.log",
        )
        for worker in (first, second):
            worker.wait(timeout=120)
    logs = {
        name: (tmp_path / f"{name}.log").read_text(errors="replace") for name in ("first", "second")
    }
    assert [first.returncode, second.returncode] == [0, 0], logs
    discoverer, helper = (load_json(tmp_path / f"{name}.json") for name in ("first", "second"))
    # The first worker read the feed and queued its pages; both fetched them.
    assert discoverer["sources"] == ["wire"]
    assert helper["sources"] == []
    assert helper["frontier"]["helper"] == 1
    assert discoverer["frontier"]["queued"] == pages
    assert helper["articles_archived"] > 0
    assert discoverer["articles_archived"] > 0
    assert discoverer["articles_archived"] + helper["articles_archived"] == pages
    assert helper["per_source"]["wire"]["stored"] == helper["articles_archived"]
    records = articles(archive)
    assert sorted(r["url"] for r in records) == sorted(
        server.url(f"/news/{n}.html") for n in range(pages)
    )
    assert len(archive_objects(archive, "articles")) == pages
    assert not list(client.scan_iter(match=prefix + "f:*"))


def test_a_killed_helper_loses_nothing_though_the_feed_answers_304(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    pages = 12
    gate = HeldFromOne("helper")
    held = gate.held
    server = gate.site(pages)
    archive = tmp_path / "archive"
    with server.running():
        feed = ConditionalFeed(server.routes["/feed.xml"].body)  # type: ignore[union-attr]
        server.routes["/feed.xml"] = feed
        args = one_source_crawl(tmp_path, server, archive, redis_url)
        args += [*FAST_CRAWL, "-s", "WIREARCHIVE_CLAIM_TTL=2"]
        client = redis.Redis.from_url(redis_url)
        prefix = RedisIndex(client, str(archive)).prefix
        log = tmp_path / "discoverer.log"
        discoverer = start_worker(
            [*args, "--worker", "discoverer", "-s", "CONCURRENT_REQUESTS=1"], log
        )
        wait_for_lease(client, prefix + "lease:wire", "discoverer", discoverer, log)
        deadline = time.monotonic() + 60
        # No lease left: it helps with the pages the discoverer queues, and they hang.
        helper = start_worker(
            [*args, "--worker", "helper", "-s", "USER_AGENT=helper"], tmp_path / "helper.log"
        )
        while len(held) < 2:
            assert helper.poll() is None, (tmp_path / "helper.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        helper.send_signal(signal.SIGKILL)
        helper.wait(timeout=30)
        assert discoverer.wait(timeout=60) == 0, log.read_text()
        gate.release.set()
        # The discoverer saved the feed's validators: only the frontier knows what is missing.
        assert len(articles(archive)) <= pages - len(held)
        wait_until_expired(client, prefix)  # the dead helper's requests pass their deadline
        final = run_cli([*args, "--worker", "next", "--summary", str(tmp_path / "final.json")])
        assert final.status == 0, final.stderr
    assert feed.answers == [200, 304]
    summary = load_json(tmp_path / "final.json")
    assert summary["frontier"]["requeued"] >= len(held)
    assert summary["articles_archived"] >= len(held)
    records = articles(archive)
    assert sorted(r["url"] for r in records) == sorted(
        server.url(f"/news/{n}.html") for n in range(pages)
    )
    assert len(archive_objects(archive, "articles")) == pages
    assert not list(client.scan_iter(match=prefix + "f:*"))


def test_a_stopped_worker_gives_its_requests_back_to_the_queue(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    pages = 10
    gate = HeldFromOne("stopped", arrivals=2)
    server = gate.site(pages)
    archive = tmp_path / "archive"
    with server.running():
        args = one_source_crawl(tmp_path, server, archive, redis_url)
        args += FAST_CRAWL
        stopped = start_worker(
            [
                *args,
                "--worker",
                "stopped",
                "-s",
                "USER_AGENT=stopped",
                "-s",
                "CONCURRENT_REQUESTS=2",
                "--summary",
                str(tmp_path / "stopped.json"),
            ],
            tmp_path / "stopped.log",
        )
        deadline = time.monotonic() + 60
        while len(gate.held) < 2:
            assert stopped.poll() is None, (tmp_path / "stopped.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        stopped.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        gate.release.set()  # the pages in flight arrive and are archived while it stops
        assert stopped.wait(timeout=60) == 1, (tmp_path / "stopped.log").read_text()
        summary = load_json(tmp_path / "stopped.json")
        assert summary["status"] == "interrupted"
        client = redis.Redis.from_url(redis_url)
        prefix = RedisIndex(client, str(archive)).prefix
        # Nothing left in flight: what it popped and did not finish is queued again.
        assert client.zcard(prefix + "f:fly") == 0
        queued = client.llen(prefix + "f:q:wire")
        assert queued == pages - summary["articles_archived"] > 0
        # No deadline has to pass: the next run finds the rest queued (an interrupted run
        # keeps no feed validators, so it lists them again: already queued, not twice).
        final = run_cli([*args, "--worker", "next", "--summary", str(tmp_path / "final.json")])
        assert final.status == 0, final.stderr
    final_summary = load_json(tmp_path / "final.json")
    assert final_summary["articles_archived"] == queued
    assert final_summary["frontier"]["already_queued"] == queued
    assert len(archive_objects(archive, "articles")) == pages
    assert not list(client.scan_iter(match=prefix + "f:*"))


def test_a_worker_drains_only_its_own_sources_queues(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    server = news_site(3)
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [
                {"name": "wire", "feeds": [server.url("/feed.xml")]},
                {"name": "backfilled", "feeds": [server.url("/feed.xml")]},
            ],
            allow_private_addresses=True,
        )
        client = redis.Redis.from_url(redis_url)
        prefix = RedisIndex(client, str(archive)).prefix
        # A long backfill of another source waits in its queue.
        frontier = Frontier(client, prefix, ttl=600)
        for n in range(50):
            assert frontier.push(f"fp{n}", "backfilled", b"a request of another worker")
        args = ["crawl", "--config", str(config), "--archive", str(archive), "--redis", redis_url]
        result = run_cli(
            [*args, *FAST_CRAWL, "--source", "wire", "--summary", str(tmp_path / "s.json")]
        )
    assert result.status == 0, result.stderr
    summary = load_json(tmp_path / "s.json")
    assert summary["articles_archived"] == 3
    assert summary["frontier"] == {"queued": 3, "popped": 3}
    # Its run ended with its own source: the other queue is for its lease holder or helpers.
    assert frontier.queued("backfilled") == 50
    assert frontier.with_work() == ["backfilled"]


def test_one_helper_a_machine(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    config = write_config(
        tmp_path / "sources.yaml",
        [{"name": "wire", "feeds": ["http://127.0.0.1:9/feed.xml"]}],
        allow_private_addresses=True,
    )
    archive = tmp_path / "archive"
    client = redis.Redis.from_url(redis_url)
    prefix = RedisIndex(client, str(archive)).prefix
    client.set(prefix + "lease:wire", "discoverer", px=60_000)
    client.set(prefix + f"lease:@helper:{socket.gethostname()}", "helper-1", px=60_000)
    Frontier(client, prefix, ttl=600).push("fp", "wire", b"work for a helper")
    args = ["crawl", "--config", str(config), "--archive", str(archive), "--redis", redis_url]
    result = run_cli([*args, "--worker", "helper-2"])
    assert result.status == 75
    assert "wire (discoverer)" in result.stderr
    assert "this machine's helper is helper-1" in result.stderr
    # A backfill of a leased source does not turn into a helper either.
    backfill = ["backfill", "--config", str(config), "--archive", str(archive)]
    result = run_cli([*backfill, "--source", "wire", "--redis", redis_url])
    assert result.status == 75
    assert "the source is leased by another worker: wire (discoverer)" in result.stderr


def test_redis_in_sources_yaml_is_validated() -> None:
    sources = [{"name": "a", "feeds": ["https://example.com/feed.xml"]}]
    config = parse_config({"redis": "redis://10.0.0.5:6379/2", "sources": sources}, "s.yaml")
    assert config.redis == "redis://10.0.0.5:6379/2"
    assert parse_config({"sources": sources}, "s.yaml").redis is None
    for bad in ("http://example.com", "redis://host:6379/zero", 5):
        with pytest.raises(ConfigError, match="redis"):
            parse_config({"redis": bad, "sources": sources}, "s.yaml")


def test_a_bad_redis_flag_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path / "sources.yaml", [{"name": "a", "feeds": ["https://x.test/f"]}])
    result = run_cli(["crawl", "--config", str(config), "--redis", "localhost:6379"])
    assert result.status == 2
    assert "--redis" in result.stderr
