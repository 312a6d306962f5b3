"""The shared frontier's queue, seen filter and in-flight deadlines, on a real redis-server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from crawler.frontier import Frontier
from crawler.leases import SourceLeases
from tests.fixtures_redis import redis_server, redis_url  # noqa: F401

PREFIX = "wa:{test}:"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:  # noqa: F811
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def frontier(client: redis.Redis) -> Frontier:
    return Frontier(client, PREFIX, ttl=30.0)


def popped(frontier: Frontier) -> list[str]:
    """Pop everything queued; return the fingerprints in order."""
    names = []
    while (item := frontier.pop()) is not None:
        names.append(item[0])
    return names


def test_queue_is_first_in_first_out_and_carries_the_request(frontier: Frontier) -> None:
    for n in range(3):
        assert frontier.push(f"fp{n}", f"request {n}".encode())
    assert frontier.queued() == 3
    assert frontier.pop() == ("fp0", b"request 0")
    assert popped(frontier) == ["fp1", "fp2"]
    assert frontier.queued() == 0
    assert frontier.in_flight() == 3
    assert frontier.pop() is None


def test_a_request_queued_or_in_flight_is_not_queued_again(frontier: Frontier) -> None:
    assert frontier.push("fp", b"r")
    assert not frontier.push("fp", b"r")  # queued
    assert frontier.pop() is not None
    assert not frontier.push("fp", b"r")  # in flight
    frontier.done(["fp"])
    assert frontier.in_flight() == 0
    assert frontier.push("fp", b"r")  # done: a later listing may queue it again


def test_given_back_requests_go_to_the_head_of_the_queue(frontier: Frontier) -> None:
    for name in ("a", "b", "c"):
        frontier.push(name, name.encode())
    assert [frontier.pop(), frontier.pop()] == [("a", b"a"), ("b", b"b")]
    assert frontier.give_back(["a", "b", "not-held"]) == 2
    assert frontier.in_flight() == 0
    assert popped(frontier) == ["b", "a", "c"]


def test_expired_requests_are_queued_again(client: redis.Redis) -> None:
    short = Frontier(client, PREFIX, ttl=0.2)
    short.push("dead", b"d")
    short.push("alive", b"a")
    assert popped(short) == ["dead", "alive"]
    assert short.requeue_expired() == 0  # not yet past their deadline
    time.sleep(0.15)
    assert short.renew(["alive"]) == 1
    time.sleep(0.1)
    assert short.requeue_expired() == 1
    assert popped(short) == ["dead"]
    assert short.in_flight() == 2


def test_deferred_requests_wait_out_their_delay(frontier: Frontier) -> None:
    frontier.push("flaky", b"f")
    frontier.pop()
    assert frontier.defer(["flaky", "unknown"], 0.2) == 1
    assert frontier.requeue_expired() == 0
    time.sleep(0.25)
    assert frontier.requeue_expired() == 1
    assert frontier.pop() == ("flaky", b"f")


def test_a_fingerprint_whose_request_is_gone_is_skipped(
    frontier: Frontier, client: redis.Redis
) -> None:
    frontier.push("orphan", b"o")
    frontier.push("next", b"n")
    client.hdel(frontier.requests, "orphan")
    assert frontier.pop() == ("next", b"n")


def test_leases_held_elsewhere(client: redis.Redis) -> None:
    mine = SourceLeases(client, PREFIX, "me", ttl=30.0)
    theirs = SourceLeases(client, PREFIX, "them", ttl=30.0)
    assert theirs.acquire(["a"]) == {}
    assert mine.acquire(["a", "b"]) == {"a": "them"}
    assert mine.held_elsewhere(["a", "b", "c"]) == {"a": "them"}
    assert mine.held_elsewhere([]) == {}
    theirs.release()
    assert mine.held_elsewhere(["a", "b"]) == {}
