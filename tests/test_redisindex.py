"""The Redis dedup index against a real redis-server: lookups, claims, races, memory."""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from pipelines.dedup.fingerprints import compare, exact_fingerprint, signature_of
from pipelines.index.base import Known, NearMatch
from pipelines.index.redis import Claim, RedisIndex
from pipelines.index.rejections import Rejection
from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401
from tests.test_neardup import OTHER, STORY, SYNDICATED, text

ARCHIVE = "s3://bucket/archive"
SHA = "ab" * 32


def aid(n: int | str) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()[:20]


def key_of(article_id: str, source: str = "ap") -> str:
    return f"articles/{source}/2026/05/01/{article_id}.json"


@pytest.fixture
def index(redis_url: str) -> Iterator[RedisIndex]:  # noqa: F811
    idx = RedisIndex(redis_url, ARCHIVE, capacity=10_000)
    yield idx
    idx.close()


def record(index: RedisIndex, n: int, body: str, urls: tuple[str, ...] = ()) -> str:
    article = aid(n)
    index.record_article(
        article_id=article,
        key=key_of(article),
        content_sha256=SHA,
        urls=urls or (f"https://ex.com/{n}",),
        fingerprint=exact_fingerprint(body),
        text=body,
    )
    return article


def claim(index: RedisIndex, n: int, body: str, worker: str, ttl: float = 30.0) -> Claim:
    article = aid(n)
    return index.claim_original(
        article, key_of(article), exact_fingerprint(body), signature_of(body), worker, ttl
    )


# -- StateIndex-compatible lookups and records ---------------------------------------------


def test_record_then_lookups(index: RedisIndex) -> None:
    a = record(index, 1, text(STORY), ("https://ex.com/1", "https://ex.com/canonical-1"))
    known = Known(a, key_of(a), "article")
    cases: list[tuple[object, object]] = [
        (index.url("https://ex.com/1"), known),
        (index.url("https://ex.com/canonical-1"), known),
        (index.url("https://ex.com/unknown"), None),
        (index.text(exact_fingerprint(text(STORY))), Known(a, key_of(a), "exact")),
        (index.text(exact_fingerprint(text(OTHER))), None),
        (index.article(a), (key_of(a), SHA, 1)),
        (index.article(aid(99)), None),
        (index.near_match(text(OTHER)), None),
        (index.near_match("too short"), None),
    ]
    for got, want in cases:
        assert got == want
    match = index.near_match(text(SYNDICATED["everything at once"]))
    assert match is not None
    assert (match.article_id, match.key) == (a, key_of(a))


def test_record_revision_updates_hash_and_version(index: RedisIndex) -> None:
    a = record(index, 1, text(STORY))
    index.record_article(
        article_id=a,
        key=key_of(a),
        content_sha256="cd" * 32,
        urls=["https://ex.com/1"],
        fingerprint=exact_fingerprint(text(STORY) + " update"),
        text=text(STORY) + " update",
        version=2,
    )
    assert index.article(a) == (key_of(a), "cd" * 32, 2)


def test_record_urls_kinds_and_unknown_articles(index: RedisIndex) -> None:
    a = record(index, 1, text(STORY))
    index.record_urls(["https://copy.com/x", ""], a, "near")
    index.record_urls(["https://alias.com/x"], a, "article")
    index.record_urls(["https://orphan.com/x"], "not-hex:id", "exact")
    assert index.url("https://copy.com/x") == Known(a, key_of(a), "near")
    assert index.url("https://alias.com/x") == Known(a, key_of(a), "article")
    assert index.url("https://orphan.com/x") == Known("not-hex:id", "", "exact")
    # First writer wins, as INSERT OR IGNORE.
    index.record_urls(["https://copy.com/x"], aid(5), "url")
    assert index.url("https://copy.com/x") == Known(a, key_of(a), "near")


def test_unusual_ids_and_keys_round_trip(index: RedisIndex) -> None:
    index.record_article(
        article_id="Custom-ID",
        key="elsewhere/Custom-ID.txt",
        content_sha256=SHA,
        urls=["https://ex.com/c"],
        fingerprint=exact_fingerprint("short"),
        text="short",
    )
    assert index.url("https://ex.com/c") == Known("Custom-ID", "elsewhere/Custom-ID.txt", "article")
    assert index.article("Custom-ID") == ("elsewhere/Custom-ID.txt", SHA, 1)


@pytest.mark.parametrize(
    ("article_id", "key"),
    [
        # Packed hex ids may start with any byte: "=" (0x3d) once read as a text id.
        ("3d98a3c272f24ba3599c", "articles/wire/2019/11/19/3d98a3c272f24ba3599c.json"),
        ("00ff00ff00ff00ff00ff", "articles/wire/2019/11/19/00ff00ff00ff00ff00ff.v2.json"),
        ("=not-hex", "articles/wire/=not-hex.json"),
        ("Custom-ID", "elsewhere/Custom-ID.txt"),
    ],
)
def test_article_ids_and_keys_round_trip(index: RedisIndex, article_id: str, key: str) -> None:
    url = f"https://ex.com/{article_id}"
    index.record_article(
        article_id=article_id,
        key=key,
        content_sha256=SHA,
        urls=[url],
        fingerprint=exact_fingerprint(f"text of {article_id}"),
        text=f"text of {article_id}",
    )
    assert index.url(url) == Known(article_id, key, "article")


def test_rejections_round_trip(index: RedisIndex) -> None:
    assert index.rejection("https://ex.com/gone") is None
    index.record_rejection("https://ex.com/gone", Rejection("http_404", 3, 1_800_000_000.0))
    assert index.rejection("https://ex.com/gone") == Rejection("http_404", 3, 1_800_000_000.0)


def test_validators_and_meta(index: RedisIndex) -> None:
    assert index.validators("https://ex.com/feed") == (None, None)
    index.save_validators([("https://ex.com/feed", '"e1"', None), ("https://ex.com/s", None, "M")])
    index.save_validators([])
    assert index.validators("https://ex.com/feed") == ('"e1"', None)
    assert index.validators("https://ex.com/s") == (None, "M")
    assert index.get_meta("x") is None
    index.set_meta("x", "1")
    assert index.get_meta("x") == "1"


def test_archives_sharing_one_redis_are_isolated(redis_url: str) -> None:  # noqa: F811
    first, second = RedisIndex(redis_url, "file:///a"), RedisIndex(redis_url, "file:///b")
    record(first, 1, text(STORY))
    first.set_meta("m", "a")
    assert second.url("https://ex.com/1") is None
    assert second.text(exact_fingerprint(text(STORY))) is None
    assert second.near_match(text(STORY)) is None
    assert second.get_meta("m") is None
    assert claim(second, 1, text(STORY), "w").mine


# -- URL claims ----------------------------------------------------------------------------


def test_claim_url(index: RedisIndex) -> None:
    url = "https://ex.com/page"
    assert index.claim_url(url, "w1", 30)
    assert index.claim_url(url, "w1", 30)  # still ours
    assert not index.claim_url(url, "w2", 30)
    assert not index.release_url(url, "w2")  # not theirs to release
    assert not index.claim_url(url, "w2", 30)
    assert index.release_url(url, "w1")
    assert index.claim_url(url, "w2", 0.1)
    time.sleep(0.2)  # w2 died: its claim expired
    assert index.claim_url(url, "w3", 30)
    assert not index.release_url(url, "w2")


# -- original claims -----------------------------------------------------------------------


def test_claim_outcomes(index: RedisIndex) -> None:
    mine = claim(index, 1, text(STORY), "w1")
    assert mine.mine
    assert (mine.article_id, mine.key) == (aid(1), key_of(aid(1)))
    same_id = claim(index, 1, text(STORY), "w2")
    assert (same_id.status, same_id.article_id, same_id.pending) == ("article", aid(1), True)
    assert claim(index, 1, text(STORY), "w1").mine  # re-claim by its owner extends it
    exact = claim(index, 2, text(STORY), "w2")
    assert (exact.status, exact.article_id, exact.key, exact.pending) == (
        "exact",
        aid(1),
        key_of(aid(1)),
        True,
    )
    near = claim(index, 3, text(SYNDICATED["everything at once"]), "w2")
    assert (near.status, near.article_id, near.pending) == ("near", aid(1), True)
    assert near.similarity < 1.0
    assert claim(index, 4, text(OTHER), "w2").mine
    # Pending claims are not archived articles for the StateIndex-style lookups.
    assert index.text(exact_fingerprint(text(STORY))) is None
    assert index.article(aid(1)) is None
    assert index.near_match(text(STORY)) is None
    assert index.near_match(text(STORY), pending=True) is not None


def test_commit_makes_it_permanent(index: RedisIndex) -> None:
    mine = claim(index, 1, text(STORY), "w1")
    urls = ["https://ex.com/1", "https://ex.com/c1"]
    assert index.commit_original(mine, content_sha256=SHA, urls=urls)
    assert index.pending_count() == 0
    a = aid(1)
    assert index.url("https://ex.com/c1") == Known(a, key_of(a), "article")
    assert index.text(exact_fingerprint(text(STORY))) == Known(a, key_of(a), "exact")
    assert index.article(a) == (key_of(a), SHA, 1)
    match = index.near_match(text(SYNDICATED["last paragraph cut"]))
    assert match is not None
    assert match.article_id == a
    later = [
        claim(index, 1, text(STORY), "w2"),
        claim(index, 2, text(STORY), "w2"),
        claim(index, 3, text(SYNDICATED["words changed"]), "w2"),
    ]
    assert [(c.status, c.article_id, c.pending) for c in later] == [
        ("article", a, False),
        ("exact", a, False),
        ("near", a, False),
    ]


def test_abandon_lets_another_claim(index: RedisIndex) -> None:
    mine = claim(index, 1, text(STORY), "w1")
    other = claim(index, 2, text(STORY), "w2")
    assert not other.mine
    with pytest.raises(ValueError, match="not our claim"):
        index.commit_original(other, content_sha256=SHA, urls=[])
    assert not index.abandon_original(
        Claim("mine", mine.article_id, mine.key, doc=mine.doc, worker="w2")
    )
    assert index.abandon_original(mine)
    assert not index.abandon_original(mine)  # already gone
    assert index.pending_count() == 0
    assert index.near_match(text(STORY), pending=True) is None
    assert claim(index, 1, text(STORY), "w2").mine


def test_expired_claim_is_taken_over_and_swept(index: RedisIndex) -> None:
    dead = claim(index, 1, text(STORY), "dead", ttl=0.1)
    assert dead.mine
    time.sleep(0.2)
    assert index.near_match(text(STORY), pending=True) is None  # expired: ignored
    taken = claim(index, 1, text(STORY), "w2")
    assert taken.mine
    assert taken.doc != dead.doc
    # The dead worker comes back: its commit no longer holds the claim, but its object is
    # in the archive, so the article is recorded; the live claim stays valid.
    assert index.sweep() == 1
    assert index.pending_count() == 1
    assert index.commit_original(taken, content_sha256=SHA, urls=["https://ex.com/1"])
    assert index.article(aid(1)) == (key_of(aid(1)), SHA, 1)
    assert claim(index, 5, text(STORY), "w3").status == "exact"


def test_lost_claim_commit_records_afresh(index: RedisIndex) -> None:
    dead = claim(index, 1, text(STORY), "slow", ttl=0.1)
    time.sleep(0.2)
    assert index.sweep() == 1
    assert not index.commit_original(dead, content_sha256=SHA, urls=["https://ex.com/1"])
    assert index.url("https://ex.com/1") == Known(aid(1), key_of(aid(1)), "article")
    assert index.text(exact_fingerprint(text(STORY))) is not None
    assert index.near_match(text(STORY)) is not None


def test_articles_lists_the_archived_not_the_claims_in_flight(index: RedisIndex) -> None:
    archived = record(index, 1, text(STORY))
    committed = claim(index, 2, text(OTHER), "w1")
    index.commit_original(committed, content_sha256=SHA, urls=["https://ex.com/2"])
    in_flight = claim(index, 3, " ".join(f"unrelated{n} words of a story" for n in range(80)), "w2")
    assert in_flight.mine
    assert index.articles() == sorted([(archived, key_of(archived)), (aid(2), key_of(aid(2)))])


def test_near_duplicates_between_two_workers_pending_claims(index: RedisIndex) -> None:
    first = claim(index, 1, text(SYNDICATED["dateline and byline"]), "w1")
    second = claim(index, 2, text(SYNDICATED["site boilerplate"]), "w2")
    assert first.mine
    assert (second.status, second.article_id, second.pending) == ("near", aid(1), True)
    assert index.pending_count() == 1  # the loser's claim was withdrawn


def test_pruned_signatures_no_longer_near_match(index: RedisIndex) -> None:
    story, copy = text(STORY), text(SYNDICATED["site boilerplate"])
    old = record(index, 1, story, ("https://ex.com/old",))
    for n in range(2, 60):  # fill the first signature block (docs 0-47) and more
        record(index, n, f"{text(OTHER)} filler {n}", (f"https://ex.com/{n}",))
    assert index.near_match(copy) == NearMatch(old, key_of(old), pytest.approx(1.0, abs=0.2))
    now = float(index.r.time()[0])
    assert index.prune_near(30, now=now) == 0  # nothing older than 30 days
    assert index.prune_near(30, now=now + 31 * 86400, max_blocks=0) == 0
    floor = index.prune_near(30, now=now + 31 * 86400)
    assert floor == 48  # the full block went; the second one is not full yet
    assert index.prune_near(30, now=now + 32 * 86400) == 48
    assert not index.r.exists(index.prefix + "s:0")
    assert index.r.exists(index.prefix + "s:1")
    # The old story keeps its URL and exact entries, but its signature is gone.
    assert index.url("https://ex.com/old") == Known(old, key_of(old), "article")
    assert index.text(exact_fingerprint(story)) == Known(old, key_of(old), "exact")
    assert index.near_match(copy) is None
    got = claim(index, 100, copy, "w1")
    assert got.mine  # a late copy of an old story is archived as a new article
    # Stories after the floor still catch their copies.
    assert claim(index, 101, copy + " again", "w2").status == "near"


def test_a_prune_cut_short_is_finished_by_the_next(index: RedisIndex) -> None:
    copy = text(SYNDICATED["site boilerplate"])
    record(index, 1, text(STORY))
    for n in range(2, 50):
        record(index, n, f"{text(OTHER)} filler {n}")
    # A worker died after deleting the block, before raising the floor.
    index.r.delete(index.prefix + "s:0")
    assert index.near_match(copy) is None  # a signature block that is gone: no signature
    assert claim(index, 100, copy, "w1").mine
    assert index.prune_near(30, now=float(index.r.time()[0]) + 31 * 86400) == 48


def test_lua_near_decision_matches_python(index: RedisIndex) -> None:
    original = signature_of(text(STORY))
    assert original is not None
    assert claim(index, 0, text(STORY), "w1").mine
    bodies = [*SYNDICATED.values(), OTHER, STORY[:3] + OTHER[:3]]
    for n, paragraphs in enumerate(bodies, 1):
        sig = signature_of(text(paragraphs))
        assert sig is not None
        expected = compare(original, sig)
        got = claim(index, n, text(paragraphs), f"w{n}")
        if expected.match:
            assert (got.status, got.article_id) == ("near", aid(0))
            assert got.similarity == pytest.approx(expected.jaccard, abs=1e-12)
        else:
            assert got.mine
            index.abandon_original(got)


# -- races ---------------------------------------------------------------------------------


def _race_threads(redis_url: str, ids: list[int], body: str) -> list[Claim]:  # noqa: F811
    barrier = threading.Barrier(len(ids))
    results: list[Claim] = []
    lock = threading.Lock()

    def run(i: int, n: int) -> None:
        idx = RedisIndex(redis_url, ARCHIVE)
        barrier.wait()
        got = claim(idx, n, body, f"t{i}")
        with lock:
            results.append(got)
        idx.close()

    threads = [threading.Thread(target=run, args=(i, n)) for i, n in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize(
    ("ids", "variants"),
    [
        ([1, 1, 1, 1, 1, 1, 1, 1], False),  # one URL, eight workers
        ([1, 2, 3, 4, 5, 6, 7, 8], False),  # one text under eight URLs
        ([1, 2, 3, 4, 5, 6, 7, 8], True),  # eight near-copies of one story
    ],
)
def test_threads_race_for_one_original(
    redis_url: str,  # noqa: F811
    ids: list[int],
    variants: bool,
) -> None:
    if variants:
        bodies = [text(v) for v in SYNDICATED.values()]
        results: list[Claim] = []
        barrier = threading.Barrier(len(ids))

        def run(i: int) -> None:
            idx = RedisIndex(redis_url, ARCHIVE)
            barrier.wait()
            results.append(claim(idx, ids[i], bodies[i % len(bodies)], f"t{i}"))
            idx.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(ids))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        results = _race_threads(redis_url, ids, text(STORY))
    winners = [r for r in results if r.mine]
    assert len(winners) == 1
    assert {r.article_id for r in results} == {winners[0].article_id}


# Blocks the server for ARGV[1] microseconds, then returns the Redis clock (seconds, micros).
HOLD_SERVER = """
local t0 = redis.call('TIME')
local start = tonumber(t0[1]) * 1000000 + tonumber(t0[2])
while true do
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000000 + tonumber(t[2]) - start >= tonumber(ARGV[1]) then
    return {t[1], t[2]}
  end
end
"""
HOLD = 2.0  # seconds the server is held while the contenders send (under the 5 s script limit)


def _process_claim(
    url: str, n: int, worker: str, ready: threading.Barrier, go: threading.Barrier
) -> tuple[str, str, float, float]:
    """Claim once ``go`` opens; return status, article, sent and answered (wall clock)."""
    idx = RedisIndex(url, ARCHIVE)
    try:
        body = text(STORY)
        fingerprint, signature = exact_fingerprint(body), signature_of(body)
        idx.r.ping()  # connected before the race
        ready.wait()
        go.wait()
        sent = time.time()
        got = idx.claim_original(aid(n), key_of(aid(n)), fingerprint, signature, worker, 30.0)
        return got.status, got.article_id, sent, time.time()
    finally:
        idx.close()


def _hold_server(url: str, seconds: float) -> float:
    """Block the server for ``seconds``; return when it was released (wall clock)."""
    client = redis.Redis.from_url(url)
    try:
        released, micros = client.eval(HOLD_SERVER, 0, int(seconds * 1_000_000))
    finally:
        client.close()
    return int(released) + int(micros) / 1e6


def _server_held(url: str) -> bool:
    """Tell whether the server is blocked (a PING goes unanswered for 50 ms)."""
    probe = redis.Redis.from_url(url, socket_timeout=0.05)
    try:
        probe.ping()
    except redis.TimeoutError:
        return True
    finally:
        probe.close()
    return False


def test_processes_race_for_one_original(redis_url: str) -> None:  # noqa: F811
    # Four processes, four workers: two claim the same article, two copy its text. The server
    # is held by a script while they send, so all four claims are in flight at once and
    # reach Redis together when it is released: the race happens, and is checked to have.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(4) as pool:
        ready, go = manager.Barrier(5, timeout=60), manager.Barrier(5, timeout=60)
        pending = pool.starmap_async(
            _process_claim,
            [(redis_url, n, f"p{i}", ready, go) for i, n in enumerate((1, 1, 2, 3))],
        )
        ready.wait()  # every process is connected and has its claim ready
        released: list[float] = []
        holder = threading.Thread(target=lambda: released.append(_hold_server(redis_url, HOLD)))
        holder.start()
        deadline = time.monotonic() + HOLD / 2
        while not _server_held(redis_url):
            assert time.monotonic() < deadline, "the server was never held"
        go.wait()
        results = pending.get(timeout=60)
        holder.join()
    (release,) = released
    for status, article, sent, answered in results:
        # Sent while the server was held, answered after: every claim was in flight at once.
        assert sent < release < answered, (status, article, sent, release, answered)
    statuses = [status for status, *_ in results]
    assert statuses.count("mine") == 1, results
    assert len({article for _, article, *_ in results}) == 1, results


# -- compactness ---------------------------------------------------------------------------


def _signature(rng: random.Random) -> bytes:
    """A random 340-byte signature: ~300 shingles, random buckets and bin codes."""
    return rng.randrange(200, 400).to_bytes(4, "little") + rng.randbytes(336)


def test_memory_per_article_under_1kb(redis_url: str) -> None:  # noqa: F811
    n = 10_000
    index = RedisIndex(redis_url, ARCHIVE, capacity=n)
    client = redis.Redis.from_url(redis_url)
    rng = random.Random(7)
    before = int(client.info("memory")["used_memory"])
    for i in range(n):
        article = aid(i)
        got = index.claim_original(
            article, key_of(article, "reuters"), aid(f"t{i}") + "0" * 12, _signature(rng), "w", 600
        )
        assert got.mine
        index.commit_original(
            got,
            content_sha256=hashlib.sha256(article.encode()).hexdigest(),
            urls=[f"https://www.reuters.com/world/story-{i}", f"https://reuters.com/a/{i}"],
        )
    after = int(client.info("memory")["used_memory"])
    per_article = (after - before) / n
    samples = {
        prefix: list(client.scan_iter(f"{index.prefix}{prefix}:*", count=1000))[:20]
        for prefix in ("d", "s", "k", "a", "t", "u", "b")
    }
    usage = {
        prefix: sum(int(client.memory_usage(k) or 0) for k in keys) / max(1, len(keys))
        for prefix, keys in samples.items()
    }
    counts = {
        prefix: sum(1 for _ in client.scan_iter(f"{index.prefix}{prefix}:*", count=1000))
        for prefix in samples
    }
    by_table = {p: usage[p] * counts[p] / n for p in samples}
    print(
        f"\nRedis memory per article over {n}: {per_article:.0f} B (used_memory growth); "
        "MEMORY USAGE per article by table: "
        + ", ".join(f"{p}={v:.0f} B" for p, v in by_table.items())
        + f" (sum {sum(by_table.values()):.0f} B)"
    )
    assert client.object("encoding", samples["b"][0]) == b"listpack"
    assert client.object("encoding", samples["u"][0]) == b"listpack"
    assert per_article < 1024
    assert index.pending_count() == 0
    # Past the near-duplicate window their signatures go: what stays is URLs, exact texts.
    started = time.perf_counter()
    index.prune_near(30, now=time.time() + 31 * 86400, max_blocks=1000)
    took = time.perf_counter() - started
    pruned = (int(client.info("memory")["used_memory"]) - before) / n
    print(f"after pruning the near window ({took:.2f} s): {pruned:.0f} B an article")
    assert pruned < 400
    client.close()
    index.close()
