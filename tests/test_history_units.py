"""CC-NEWS files as units of a backfill: scanned in threads, claimed in Redis, marked done.

The parts a run puts together (crawler/spiders/history.py), without the crawl: a real
loopback CC-NEWS, a real redis-server, a real archive folder.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.downloadermiddlewares.address_guard import Policy
from crawler.history.ccnews import RecordFilter
from crawler.history.claims import FileClaims
from crawler.history.feeder import Event, FileEnded, FileFeeder
from crawler.history.progress import Days, Progress, progress_key
from crawler.history.remote import HttpRemote
from crawler.history.units import FileUnits
from crawler.sources import Source, parse_config
from pipelines.archive.local_store import LocalStore
from pipelines.archive.stores import Store, StoreUnavailable
from pipelines.outcomes import Counters
from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401
from tests.helpers.history_archives import CCNewsTree, Rec, warc_file
from tests.helpers.state_support import Call, CountingStore

MONTH = "crawl-data/CC-NEWS/2026/10"
DAYS = Days(date(2026, 10, 1), date(2026, 10, 2))
FILES = [f"{MONTH}/CC-NEWS-2026100{day}080000-0000{day}.warc.gz" for day in (1, 2)]


@pytest.fixture
def tree() -> Iterator[CCNewsTree]:
    """Two CC-NEWS files: others' pages, and three of the source's that its rules deny."""
    tree = CCNewsTree()
    for day, path in enumerate(FILES, 1):
        data, _offsets = warc_file(
            [
                Rec(f"http://{host}/private/{n}.html", f"2026-10-0{day}T08:0{n}:00Z")
                for n in range(3)
                for host in ("other.example", "times.example")
            ]
        )
        tree.add_file(path, data)
    tree.publish()
    with tree.server.running():
        yield tree


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:  # noqa: F811
    """A client of a flushed database of the real redis-server."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def times() -> Source:
    source = {"name": "times", "domains": ["times.example"], "deny": ["/private/"]}
    config = parse_config({"sources": [source]}, "sources.yaml")
    return config.sources[0]


class Probe(CountingStore):
    """An archive that records every request, a read of a missing key too, and whose reads
    of the ``failing`` keys fail, as an unreachable S3 would."""

    def __init__(self, inner: Store, failing: frozenset[str] = frozenset()) -> None:
        super().__init__(inner)
        self.failing = failing

    def get(self, key: str) -> bytes:
        self.calls.append(Call("get", key))
        if key in self.failing:
            raise StoreUnavailable(f"{key}: the archive does not answer")
        return self.inner.get(key)

    def requests(self) -> list[str]:
        return sorted(f"{call.op} {call.key.rsplit('/', 1)[-1]}" for call in self.reset())


def scan_all(tree: CCNewsTree, units: FileUnits, claims: FileClaims | None) -> list[Event]:
    """Scan the units' files as a run does (one thread); return the events handed over."""
    remote = HttpRemote(tree.server.base_url + "/", Policy(allow_private=True), "test")
    wanted = RecordFilter(
        hosts=times().hosts(), since=DAYS.since, until=DAYS.until, accepts=times().accepts
    )
    claim = units.take if claims is not None else None
    feeder = FileFeeder(remote, list(units.units), wanted, workers=1, claim=claim)

    async def run() -> list[Event]:
        events: list[Event] = []
        units.start()
        feeder.start()
        while not feeder.finished:
            event = await asyncio.to_thread(feeder.next_event, 0.1)
            if isinstance(event, FileEnded):
                units.ended(event)
            if event is not None:
                events.append(event)
        units.unscanned()
        await units.close()
        return events

    return asyncio.run(run())


def new_units(
    store: Store, claims: FileClaims | None, earlier: dict[str, Days] | None = None
) -> tuple[FileUnits, MemoryStatsCollector]:
    stats = MemoryStatsCollector(get_crawler())
    progress = Progress(store, times())
    units = FileUnits(
        FILES,
        Counters(stats),
        progress,
        DAYS,
        may_write=lambda: None,
        claims=claims,
        earlier=earlier or {},
    )
    return units, stats


def test_a_file_whose_mark_cannot_be_read_is_given_up_and_its_claim_given_back(
    tmp_path: Path, tree: CCNewsTree, client: redis.Redis
) -> None:
    claims = FileClaims(client, "wa", "times", "w1", ttl=60)
    store = Probe(LocalStore(tmp_path), frozenset({progress_key(times(), FILES[0])}))
    units, stats = new_units(store, claims)
    events = scan_all(tree, units, claims)
    ended = {event.file: event.error for event in events if isinstance(event, FileEnded)}
    assert set(ended) == set(FILES)  # the thread lived on to scan the next file
    assert "the archive does not answer" in str(ended[FILES[0]])
    assert ended[FILES[1]] is None
    assert stats.get_value("history/files_failed") == 1
    assert stats.get_value("history/files_scanned") == 1
    assert client.keys("wa:history:*") == []  # no claim held for the TTL
    assert Progress(LocalStore(tmp_path), times()).done_days(FILES[1]) == DAYS


def test_every_record_the_rules_deny_is_counted(tmp_path: Path, tree: CCNewsTree) -> None:
    units, stats = new_units(LocalStore(tmp_path), None)
    events = scan_all(tree, units, None)
    assert [event.error for event in events if isinstance(event, FileEnded)] == [None, None]
    assert stats.get_value("discovery/filtered") == 6  # three a file
    assert stats.get_value("history/files_scanned") == 2


def test_a_claim_is_renewed_while_its_long_scan_runs(
    tmp_path: Path, tree: CCNewsTree, client: redis.Redis
) -> None:
    ttl = 0.6
    claims = FileClaims(client, "wa", "times", "w1", ttl=ttl)
    other = FileClaims(client, "wa", "times", "w2", ttl=ttl)
    pieces = len(tree.files[FILES[0]]) // 256 + 1
    tree.slow[FILES[0]] = 4 * ttl / pieces  # the scan lasts four TTLs
    units, stats = new_units(LocalStore(tmp_path), claims)
    taken: list[bool] = []

    def another_worker() -> None:
        # Once this worker holds the file, another tries it for three TTLs of its scan.
        while not client.exists(claims.prefix + FILES[0]):
            time.sleep(0.01)
        deadline = time.monotonic() + 3 * ttl
        while time.monotonic() < deadline:
            taken.append(other.claim(FILES[0]))
            time.sleep(0.05)

    thread = threading.Thread(target=another_worker)
    thread.start()
    try:
        scan_all(tree, units, claims)
    finally:
        thread.join()
    assert len(taken) > 10
    assert not any(taken)  # never free while this worker was at it
    assert stats.get_value("history/files_scanned") == 2
    assert client.keys("wa:history:*") == []  # given back at the end, not renewed after


@pytest.mark.parametrize("distributed", [False, True])
def test_a_mark_is_listed_once_and_read_once_at_most(
    tmp_path: Path, tree: CCNewsTree, client: redis.Redis, distributed: bool
) -> None:
    store = Probe(LocalStore(tmp_path))
    progress = Progress(store, times())
    # An earlier run finished the first file for the 1st only: it is scanned again, for the
    # 2nd; the second file has no mark.
    progress.mark_done(FILES[0], Days(DAYS.since, DAYS.since), {}, earlier=None)
    store.reset()
    todo, earlier = progress.plan(FILES, DAYS)
    assert todo == FILES
    assert earlier == {FILES[0]: Days(DAYS.since, DAYS.since)}
    claims = FileClaims(client, "wa", "times", "w1", 60)
    units, stats = new_units(store, claims if distributed else None, earlier)
    scan_all(tree, units, claims if distributed else None)
    assert stats.get_value("history/files_scanned") == 2
    first, second = (f"{path.rsplit('/', 1)[1]}.json" for path in FILES)
    expected = [
        "list CC-NEWS-202610",  # the marks of the files' month, once
        f"get {first}",  # the one mark there is, once
        f"put {first}",
        f"put {second}",
    ]
    if distributed:
        # Once claimed, each file's mark again: another worker may have finished it since.
        expected += [f"get {first}", f"get {second}"]
    assert store.requests() == sorted(expected)
    # The earlier mark's days are kept, joined with this run's.
    assert Progress(LocalStore(tmp_path), times()).done_days(FILES[0]) == DAYS
