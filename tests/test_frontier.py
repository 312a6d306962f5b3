"""The shared frontier's queue, seen filter and in-flight deadlines, on a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from crawler.distributed.frontier import Frontier
from crawler.distributed.leases import SourceLeases
from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401

PREFIX = "wa:{test}:"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:  # noqa: F811
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def frontier(client: redis.Redis) -> Frontier:
    return Frontier(client, PREFIX, ttl=30.0)


def popped(frontier: Frontier, source: str | None = None) -> list[str]:
    """Pop everything queued (for one source, or any); return the fingerprints in order."""
    names = []
    while (item := frontier.pop(source)) is not None:
        names.append(item[0])
    return names


def test_each_source_queue_is_first_in_first_out_and_carries_the_request(
    frontier: Frontier,
) -> None:
    for n in range(3):
        assert frontier.push(f"fp{n}", "wire", f"request {n}".encode())
    assert frontier.queued() == frontier.queued("wire") == 3
    assert frontier.pop("wire") == ("fp0", b"request 0")
    assert popped(frontier, "wire") == ["fp1", "fp2"]
    assert frontier.queued() == 0
    assert not frontier.has_work()
    assert frontier.in_flight() == 3
    assert frontier.pop() is None


def test_a_worker_pops_its_own_sources_and_a_helper_any(frontier: Frontier) -> None:
    frontier.push("a1", "a", b"a1")
    frontier.push("a2", "a", b"a2")
    frontier.push("b1", "b", b"b1")
    assert frontier.with_work() == ["a", "b"]
    assert frontier.with_work(["b", "c"]) == ["b"]
    assert frontier.has_work(["a"])
    assert not frontier.has_work(["c"])
    assert not frontier.has_work([])
    assert frontier.pop("c") is None
    assert popped(frontier, "b") == ["b1"]
    assert frontier.with_work() == ["a"]  # an emptied queue leaves the set of sources
    assert popped(frontier) == ["a1", "a2"]
    assert not frontier.has_work()


def test_a_helper_takes_from_every_source_queue(frontier: Frontier) -> None:
    for source in ("backfill", "fresh"):
        for n in range(50):
            frontier.push(f"{source}{n}", source, b"r")
    first = popped(frontier)[:20]
    # A random non-empty queue each time: fresh pages are not stuck behind a backfill.
    assert {name.rstrip("0123456789") for name in first} == {"backfill", "fresh"}


def test_a_request_queued_or_in_flight_is_not_queued_again(frontier: Frontier) -> None:
    assert frontier.push("fp", "wire", b"r")
    assert not frontier.push("fp", "wire", b"r")  # queued
    assert not frontier.push("fp", "other", b"r")  # listed by another source too
    assert frontier.pop() is not None
    assert not frontier.push("fp", "wire", b"r")  # in flight
    frontier.done(["fp"])
    assert frontier.in_flight() == 0
    assert frontier.push("fp", "wire", b"r")  # done: a later listing may queue it again


def test_given_back_requests_go_to_the_head_of_their_queue(frontier: Frontier) -> None:
    for name in ("a", "b", "c"):
        frontier.push(name, "wire", name.encode())
    frontier.push("x", "other", b"x")
    assert [frontier.pop("wire"), frontier.pop("wire"), frontier.pop("other")] == [
        ("a", b"a"),
        ("b", b"b"),
        ("x", b"x"),
    ]
    assert not frontier.has_work(["other"])
    assert frontier.give_back(["a", "b", "x", "not-held"]) == 3
    assert frontier.in_flight() == 0
    assert popped(frontier, "wire") == ["b", "a", "c"]
    assert popped(frontier, "other") == ["x"]


def advance(frontier: Frontier, seconds: float) -> None:
    """Move the frontier's clock: every in-flight deadline comes ``seconds`` closer.

    Deadlines are Redis-clock milliseconds; shifting them back is the same as the clock
    moving on, without a sleep racing a short TTL.
    """
    client = frontier.r
    for fingerprint, deadline in client.zrange(frontier.flying, 0, -1, withscores=True):
        client.zadd(frontier.flying, {fingerprint: deadline - seconds * 1000}, xx=True)


def time_left(frontier: Frontier, fingerprint: str) -> float:
    """Return the seconds until an in-flight request's deadline, by the Redis clock."""
    seconds, micros = frontier.r.time()
    deadline = frontier.r.zscore(frontier.flying, fingerprint)
    assert deadline is not None, fingerprint
    return float(deadline) / 1000 - (seconds + micros / 1e6)


def test_expired_requests_are_queued_again(client: redis.Redis) -> None:
    short = Frontier(client, PREFIX, ttl=30.0)
    short.push("dead", "wire", b"d")
    short.push("alive", "wire", b"a")
    assert popped(short) == ["dead", "alive"]
    assert 29 < time_left(short, "dead") <= 30  # the TTL, from the pop
    assert short.requeue_expired() == 0  # not yet past their deadline
    advance(short, 20)
    assert short.renew(["alive"]) == 1
    assert 29 < time_left(short, "alive") <= 30  # a full TTL again, from now
    advance(short, 5)
    assert short.requeue_expired() == 0  # "dead" has 5 s left
    advance(short, 10)  # "dead" 5 s past its deadline, "alive" 15 s before its own
    assert short.requeue_expired() == 1
    assert short.with_work() == ["wire"]
    assert popped(short, "wire") == ["dead"]
    assert short.in_flight() == 2


def test_deferred_requests_wait_out_their_delay(frontier: Frontier) -> None:
    frontier.push("flaky", "wire", b"f")
    frontier.pop()
    assert frontier.defer(["flaky", "unknown"], 20) == 1
    assert 19 < time_left(frontier, "flaky") <= 20
    advance(frontier, 15)
    assert frontier.requeue_expired() == 0
    advance(frontier, 10)
    assert frontier.requeue_expired() == 1
    assert frontier.pop() == ("flaky", b"f")


def test_a_fingerprint_whose_request_is_gone_is_skipped(
    frontier: Frontier, client: redis.Redis
) -> None:
    frontier.push("orphan", "wire", b"o")
    frontier.push("next", "wire", b"n")
    client.hdel(frontier.requests, "orphan")
    assert frontier.pop("wire") == ("next", b"n")


def test_leases_held_elsewhere(client: redis.Redis) -> None:
    mine = SourceLeases(client, PREFIX, "me", ttl=30.0)
    theirs = SourceLeases(client, PREFIX, "them", ttl=30.0)
    assert theirs.acquire(["a"]) == {}
    assert mine.acquire(["a", "b"]) == {"a": "them"}
    assert mine.held_elsewhere(["a", "b", "c"]) == {"a": "them"}
    assert mine.held_elsewhere([]) == {}
    theirs.release()
    assert mine.held_elsewhere(["a", "b"]) == {}
