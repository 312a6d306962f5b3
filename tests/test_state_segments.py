"""An S3 archive's index as a base plus one segment per run: what each run writes and
fetches, crash safety at every step, compaction by one machine at a time, and repair.

All against a real S3 server (SeaweedFS); requests are counted by a wrapper at the Store
level (tests/helpers/state_support.py), never by patching boto3.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.archive.s3_store import S3Store
from pipelines.archive.stores import Store, open_store
from pipelines.archive.verify import verify
from pipelines.index import journal
from pipelines.index import manifest as manifest_rules
from pipelines.index.manifest import (
    BASE_PREFIX,
    MANIFEST_KEY,
    SEGMENT_PREFIX,
    CacheState,
    Manifest,
    StateObject,
    catch_up,
    should_compact,
)
from pipelines.index.rejections import Rejection
from pipelines.index.sqlite import StateIndex, open_state
from pipelines.index.state_cache import GENERATION_KEY, STATE_KEY, read_manifest
from pipelines.index.state_publish import KILL_AT_ENV
from pipelines.index.sync import StateBroken, StateConflict, sync_state
from tests.helpers.fixtures_s3 import S3Server
from tests.helpers.state_support import (
    CountingStore,
    archive_article,
    article_id,
    dump,
    run,
)
from tests.helpers.support import ROOT, run_cli

PER_ARTICLE = 2048
PER_RUN = 16 * 1024


def state_objects(store: Store) -> set[str]:
    return {*store.keys(BASE_PREFIX), *store.keys(SEGMENT_PREFIX)}


def indexed(store: Store, cache: Path) -> set[str]:
    index = open_state(store, cache=cache)
    try:
        return {article for article, _key in index.articles()}
    finally:
        index.close()


def ids(numbers: range | list[int]) -> set[str]:
    return {article_id(n) for n in numbers}


# -- the rules, as tables ---------------------------------------------------------------------


def obj(key: str, size: int = 100) -> StateObject:
    return StateObject(key, size, "0" * 64)


BASE, OLD = obj("b2", 10_000_000), "b1"
NOW = Manifest("i", 9, BASE, (obj("s5"), obj("s6")), OLD, (obj("s3"), obj("s4")))


@pytest.mark.parametrize(
    ("cache", "rebuild", "fetched"),
    [
        (None, True, []),
        (CacheState("i", "b2", ("s5", "s6")), False, []),
        (CacheState("i", "b2", ("s5",)), False, ["s6"]),
        (CacheState("i", "b2", ()), False, ["s5", "s6"]),
        (CacheState("i", "b1", ("s3",)), False, ["s4", "s5", "s6"]),
        (CacheState("i", "b1", ("s3", "s4")), False, ["s5", "s6"]),
        (CacheState("i", "b1", ("s4",)), True, []),  # not a prefix: another history
        (CacheState("i", "b0", ()), True, []),  # two compactions behind
        (CacheState("j", "b2", ("s5", "s6")), True, []),  # another archive instance
        (CacheState("i", None, ()), True, []),  # a cache from before segments
        (CacheState("i", "b2", ("s5", "s6", "s7")), True, []),  # ahead of the archive
    ],
)
def test_what_a_cache_fetches(cache: CacheState | None, rebuild: bool, fetched: list[str]) -> None:
    plan = catch_up(cache, NOW)
    assert plan.rebuild == rebuild
    assert [s.key for s in plan.segments] == fetched


@pytest.mark.parametrize(
    ("segments", "size", "due"),
    [
        (0, 100, False),
        (63, 100, False),
        (64, 100, True),
        (3, 400_000, True),  # over a quarter of the 4 MB base... and over 1 MB
        (3, 300_000, False),
    ],
)
def test_when_to_compact(segments: int, size: int, due: bool) -> None:
    manifest = Manifest(
        "i", 1, obj("b", 4_000_000), tuple(obj(f"s{n}", size) for n in range(segments))
    )
    assert should_compact(manifest) == due


# -- writing and fetching, counted ---------------------------------------------------------


def test_a_run_adds_one_segment_and_writes_no_copy_of_the_base(
    s3_bucket: str, tmp_path: Path
) -> None:
    inner = open_store(f"s3://{s3_bucket}/wire")
    store = CountingStore(inner)
    run(store, tmp_path / "one", range(30))  # the archive's first run: its first base
    assert len(list(inner.keys(BASE_PREFIX))) == 1
    store.reset()
    index = open_state(store, cache=tmp_path / "one")
    # A current cache costs one request: the manifest.
    assert [(c.op, c.key) for c in store.reset()] == [("get", MANIFEST_KEY)]
    for number in range(30, 35):
        archive_article(inner, index, number)
    sync_state(index, store)
    index.close()
    writes = [c for c in store.reset() if c.op in ("put", "upload")]
    assert [c.op for c in writes] == ["upload", "put"]
    assert writes[0].key.startswith(SEGMENT_PREFIX)
    assert writes[1].key == MANIFEST_KEY
    assert sum(c.size for c in writes) <= 5 * PER_ARTICLE + PER_RUN
    assert len(list(inner.keys(BASE_PREFIX))) == 1
    assert len(list(inner.keys(SEGMENT_PREFIX))) == 1
    # A run that learned nothing writes nothing.
    run(store, tmp_path / "one", range(0))
    assert [c for c in store.reset() if c.op in ("put", "upload", "delete")] == []


def test_a_fresh_cache_catches_up_from_base_and_segments(s3_bucket: str, tmp_path: Path) -> None:
    inner = open_store(f"s3://{s3_bucket}/wire")
    store = CountingStore(inner)
    writer_cache = tmp_path / "writer"
    run(store, writer_cache, range(10))
    run(store, writer_cache, range(10, 13))
    # A run of every kind of change: validators, rejections, a forgotten article, a
    # re-extracted text, duplicate URLs, and its near-dup entries.
    index = open_state(store, cache=writer_cache)
    index.save_validators([("https://example.org/feed", '"v2"', "Tue, 01 Dec 2026 00:00:00 GMT")])
    index.record_rejection("https://example.org/gone", Rejection("http_404", 2, 1.8e9))
    index.forget(article_id(1))
    index.replace_text(article_id(2), "articles/x.json", "1" * 64, "ab" * 16, "new text " * 40)
    index.record_urls(["https://mirror.example/3"], article_id(3), "url")
    sync_state(index, store)
    writer = dump(index)
    index.close()
    store.reset()
    fresh = open_state(store, cache=tmp_path / "fresh")
    calls = store.reset()
    manifest, _tag = read_manifest(inner)
    assert manifest is not None
    assert len(manifest.segments) == 2
    # The manifest, the base, each segment; not one archived page (articles/, raw/).
    assert [c.key for c in calls] == [
        MANIFEST_KEY,
        manifest.base.key,
        *(s.key for s in manifest.segments),
    ]
    assert {c.op for c in calls} <= {"get", "download"}
    assert dump(fresh) == writer
    assert fresh.validators("https://example.org/feed")[0] == '"v2"'
    assert fresh.rejection("https://example.org/gone") == Rejection("http_404", 2, 1.8e9)
    # Applying a segment again changes nothing (a catch-up cut short is simply redone).
    segment = tmp_path / "again.gz"
    inner.download_file(manifest.segments[-1].key, segment)
    journal.apply_segment(fresh.conn, segment)
    assert dump(fresh) == writer
    fresh.close()


def test_a_cache_one_generation_behind_downloads_only_the_missing_segment(
    s3_bucket: str, tmp_path: Path
) -> None:
    inner = open_store(f"s3://{s3_bucket}/wire")
    store = CountingStore(inner)
    one, two = tmp_path / "one", tmp_path / "two"
    run(store, one, range(20))
    assert indexed(store, two) == ids(range(20))
    run(store, one, range(20, 22))
    manifest, _tag = read_manifest(inner)
    assert manifest is not None
    store.reset()
    assert indexed(store, two) == ids(range(22))
    calls = [(c.op, c.key) for c in store.reset()]
    assert calls == [("get", MANIFEST_KEY), ("get", manifest.segments[-1].key)]
    # Across a compaction too: the folded segment it lacks, not the new base.
    run(store, one, range(22, 24), compact=True)
    manifest, _tag = read_manifest(inner)
    assert manifest is not None
    assert manifest.segments == ()
    store.reset()
    assert indexed(store, two) == ids(range(24))
    calls = [(c.op, c.key) for c in store.reset()]
    assert calls == [("get", MANIFEST_KEY), ("get", manifest.retired[-1].key)]


# -- failures: kills, a lost lock, damage ---------------------------------------------------

KILLS = [
    ("segment-written", False),
    ("manifest-written", False),
    ("base-written", True),
    ("manifest-written", True),
    ("cache-updated", True),
    ("swept-one", True),
]


def test_a_kill_at_any_step_loses_nothing_and_shows_nothing_half_written(
    s3_bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    stores = [open_store(f"s3://{s3_bucket}/kill{n}") for n in range(len(KILLS))]
    for n, store in enumerate(stores):
        run(store, tmp_path / f"cache{n}", range(4))
        run(store, tmp_path / f"cache{n}", range(4, 6))
    env = {**os.environ, **s3_server.env(), "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.helpers.state_support",
                store.uri,
                str(tmp_path / f"cache{n}"),
                "10",
                "3",
                *(["--compact"] if compact else []),
            ],
            env={**env, KILL_AT_ENV: step},
            cwd=ROOT,
        )
        for n, (store, (step, compact)) in enumerate(zip(stores, KILLS, strict=True))
    ]
    codes = [child.wait(timeout=60) for child in children]
    assert codes == [-9] * len(KILLS)  # a real SIGKILL at the named step, in every case
    for n, (store, (step, compact)) in enumerate(zip(stores, KILLS, strict=True)):
        where = f"killed at {step} ({'compaction' if compact else 'segment'})"
        manifest, _tag = read_manifest(store)
        assert manifest is not None, where
        assert all(store.exists(key) for key in manifest.named()), where
        # Another machine sees the state before the killed run, or after it: never a part.
        seen = indexed(store, tmp_path / f"other{n}")
        shipped = step != "segment-written"
        assert seen == ids([*range(6), *(range(10, 13) if shipped else [])]), where
        # The killed machine's next run ships whatever the manifest lacked; a compaction
        # then leaves no garbage.
        run(store, tmp_path / f"cache{n}", range(20, 21), compact=True)
        assert indexed(store, tmp_path / f"late{n}") == ids([*range(6), *range(10, 13), 20]), where
        final, _tag = read_manifest(store)
        assert final is not None
        assert state_objects(store) == final.named(), where
        index = open_state(store, cache=tmp_path / f"verify{n}")
        assert verify(store, index).clean, where
        index.close()


class RacingStore(CountingStore):
    """A store whose first read of the manifest lets another machine write it right after."""

    def __init__(self, inner: Store, race: object) -> None:
        super().__init__(inner)
        self.race = race

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        answer = super().get_tagged(key)
        if key == MANIFEST_KEY and callable(self.race):
            race, self.race = self.race, None
            race()
        return answer


def test_a_run_that_lost_the_lock_cannot_write_or_compact(s3_bucket: str, tmp_path: Path) -> None:
    store = S3Store(f"s3://{s3_bucket}/wire")
    one, two = tmp_path / "one", tmp_path / "two"
    run(store, one, range(5))
    assert indexed(store, two) == ids(range(5))
    # Machine two holds a current cache; machine one (the lock's new holder) compacts.
    late = open_state(store, cache=two)
    archive_article(store, late, 50)
    run(store, one, range(5, 7), compact=True)
    with pytest.raises(StateConflict, match="changed since this run started"):
        sync_state(late, store)
    late.close()
    # Two compactions at once: two reads the manifest, one compacts in between, then two
    # writes. The manifest's compare-and-swap refuses two; its new base is removed.
    before = read_manifest(store)[0]
    assert before is not None
    racer = open_state(store, cache=tmp_path / "three")
    archive_article(store, racer, 60)
    raced = RacingStore(store, lambda: run(store, one, range(7, 8), compact=True))
    manifest_rules.COMPACT_SEGMENTS = 1
    try:
        with pytest.raises(StateConflict, match="replaced while this run"):
            sync_state(racer, raced)  # type: ignore[arg-type]
    finally:
        manifest_rules.COMPACT_SEGMENTS = 64
        racer.close()
    after, _tag = read_manifest(store)
    assert after is not None
    assert after.generation > before.generation
    assert state_objects(store) == after.named()  # the loser's segment is gone too
    assert indexed(store, tmp_path / "four") == ids(range(8))


def test_an_archive_from_before_segments_is_read_then_migrated(
    s3_bucket: str, tmp_path: Path
) -> None:
    store = open_store(f"s3://{s3_bucket}/wire")
    # The layout an older wirearchive wrote: one whole index and its generation marker.
    old = StateIndex(tmp_path / "old" / "index.sqlite3")
    archive_article(store, old, 1)
    old.set_meta("instance", "legacy-instance")
    old.set_meta("generation", "7")
    old.snapshot(tmp_path / "upload.sqlite3")
    old.close()
    store.upload_file(STATE_KEY, tmp_path / "upload.sqlite3")
    store.put(GENERATION_KEY, b'{"instance": "legacy-instance", "generation": 7}')
    assert indexed(store, tmp_path / "one") == ids([1])
    run(store, tmp_path / "one", range(2, 4))
    manifest, _tag = read_manifest(store)
    assert manifest is not None
    assert (manifest.instance, manifest.generation) == ("legacy-instance", 8)
    assert not store.exists(STATE_KEY)
    assert not store.exists(GENERATION_KEY)
    assert indexed(store, tmp_path / "two") == ids([1, 2, 3])


def test_verify_repair_rebuilds_a_damaged_index(
    s3_bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    store = open_store(f"s3://{s3_bucket}/wire")
    run(store, tmp_path / "one", range(3))
    run(store, tmp_path / "one", range(3, 5))
    manifest, _tag = read_manifest(store)
    assert manifest is not None
    store.delete(manifest.segments[0].key)
    with pytest.raises(StateBroken, match="verify --repair"):
        open_state(store, cache=tmp_path / "fresh")
    cache = tmp_path / "xdg"
    env = {**s3_server.env(), "XDG_CACHE_HOME": str(cache)}
    repaired = run_cli(["verify", "--repair", "--archive", store.uri], env=env)
    assert repaired.status == 0, repaired.stderr
    assert indexed(store, tmp_path / "after") == ids(range(5))
    final, _tag = read_manifest(store)
    assert final is not None
    assert final.segments == ()
    assert state_objects(store) == final.named()


def test_an_unreadable_cache_is_replaced_from_the_archive(s3_bucket: str, tmp_path: Path) -> None:
    store = open_store(f"s3://{s3_bucket}/wire")
    run(store, tmp_path / "one", range(3))
    index = open_state(store, cache=tmp_path / "two")
    path = index.path
    index.close()
    for leftover in path.parent.glob(path.name + "-*"):
        leftover.unlink()
    path.write_bytes(b"not a database, a disk that lost it" * 200)
    assert indexed(store, tmp_path / "two") == ids(range(3))


class LostAnswerStore(CountingStore):
    """A store whose first manifest write goes through but answers as a refused retry does."""

    lost = False

    def put_tagged(self, key: str, data: bytes, **options: object) -> str | None:
        written = super().put_tagged(key, data, **options)
        if key == MANIFEST_KEY and not self.lost:
            self.lost = True
            return None
        return written


def test_a_manifest_write_whose_answer_was_lost_still_counts(
    s3_bucket: str, tmp_path: Path
) -> None:
    store = S3Store(f"s3://{s3_bucket}/wire")
    run(store, tmp_path / "one", range(2))
    lossy = LostAnswerStore(store)
    run(lossy, tmp_path / "one", range(2, 4))  # type: ignore[arg-type]
    assert lossy.lost
    manifest, _tag = read_manifest(store)
    assert manifest is not None
    assert len(manifest.segments) == 1
    assert all(store.exists(key) for key in manifest.named())
    assert indexed(store, tmp_path / "two") == ids(range(4))
