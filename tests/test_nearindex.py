"""NearIndex on a real SQLite file: add, find, prune, persistence, size per article."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.dedup.fingerprints import signature_of
from pipelines.index.base import NearMatch
from pipelines.index.near import NearIndex
from tests.test_neardup import OTHER, STORY, SYNDICATED, text

DAY = 86400.0
T0 = 1_780_000_000.0


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(tmp_path / "index.sqlite3")
    yield connection
    connection.close()


def test_add_find_len(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    assert len(index) == 0
    assert index.find(text(STORY)) is None
    conn.execute("BEGIN")
    index.add("a" * 20, "articles/ap/2026/05/01/a.json", text(STORY), T0)
    index.add("b" * 20, "articles/ap/2026/05/01/b.json", text(OTHER), T0)
    # Uncommitted rows of the same connection are visible: add() never commits.
    match = index.find(text(SYNDICATED["everything at once"]))
    assert conn.in_transaction
    conn.execute("COMMIT")
    assert len(index) == 2
    assert isinstance(match, NearMatch)
    assert (match.article_id, match.key) == ("a" * 20, "articles/ap/2026/05/01/a.json")
    assert 0.5 <= match.similarity < 1.0
    assert index.find(text(STORY)) == NearMatch("a" * 20, "articles/ap/2026/05/01/a.json", 1.0)
    other = index.find(text(OTHER[:-1]))
    assert other is not None and other.article_id == "b" * 20


def test_short_texts_are_not_indexed(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    index.add("c" * 20, "k", "A short brief of a few words.", T0)
    assert len(index) == 0
    assert index.find("A short brief of a few words.") is None


def test_find_returns_the_best_match(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    index.add("cut", "k-cut", text(SYNDICATED["last two paragraphs cut, byline"]), T0)
    index.add("full", "k-full", text(STORY), T0)
    index.add("edited", "k-edited", text(SYNDICATED["words changed"]), T0)
    match = index.find(text(SYNDICATED["site boilerplate"]))
    assert match is not None and match.article_id == "full"


def test_different_story_is_not_found(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    index.add("a" * 20, "k", text(STORY), T0)
    assert index.find(text(OTHER)) is None


def test_prune_drops_entries_indexed_before_the_cutoff(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    index.add("old", "k-old", text(STORY), T0 - 40 * DAY)
    index.add("new", "k-new", text(OTHER), T0 - 2 * DAY)
    assert index.prune(T0 - 30 * DAY) == 1
    assert len(index) == 1
    assert index.find(text(STORY)) is None
    assert conn.execute("SELECT count(DISTINCT id) FROM near_bands").fetchone()[0] == 1
    assert index.prune(T0 - 30 * DAY) == 0
    assert index.find(text(OTHER)) is not None


def test_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    first = connect(path)
    first.execute("BEGIN")
    NearIndex(first).add("a" * 20, "key-a", text(STORY), T0)
    first.execute("COMMIT")
    first.close()
    second = connect(path)
    index = NearIndex(second)  # tables exist already: no error, no loss
    assert len(index) == 1
    match = index.find(text(SYNDICATED["last paragraph cut"]))
    assert match is not None and match.key == "key-a"
    second.close()


def test_rolled_back_adds_leave_nothing(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    conn.execute("BEGIN")
    index.add("a" * 20, "k", text(STORY), T0)
    conn.execute("ROLLBACK")
    assert len(index) == 0
    assert conn.execute("SELECT count(*) FROM near_bands").fetchone()[0] == 0


def test_size_per_article_is_under_budget(tmp_path: Path) -> None:
    path = tmp_path / "size.sqlite3"
    conn = connect(path)
    index = NearIndex(conn)
    rng = random.Random(5)
    vocabulary = sorted({w for p in STORY + OTHER for w in p.split()})
    count = 2000
    sigs = [signature_of(" ".join(rng.choices(vocabulary, k=150))) for _ in range(count)]
    conn.execute("BEGIN")
    index.add_many(
        (f"{i:020x}", f"articles/apnews/2026/05/01/{i:020x}.json", sig, T0)
        for i, sig in enumerate(sigs)
        if sig is not None
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(index) == count
    conn.close()
    assert path.stat().st_size / count <= 800


@pytest.mark.parametrize(
    ("article_id", "key"),
    [
        ("0123456789abcdef0123", "articles/apnews/2026/05/01/0123456789abcdef0123.json"),
        ("0123456789abcdef0123", "articles/apnews/2026/05/01/0123456789abcdef0123.v2.json"),
        ("0123456789abcdef0123", "articles/apnews/2026/05/01/other.json"),  # id not in key
        ("0123456789ABCDEF0123", "articles/x/0123456789ABCDEF0123.json"),  # not lowercase
        ("not-hex", "articles/x/not-hex.json"),
        ("abc", "articles/x/abc.json"),  # odd number of hex digits
        ("ab", "articles/ab/ab/ab.json"),
        ("ab", "ab.json"),
        ("", "articles/x/.json"),
        ("a\0b", "articles/x/a\0b.json"),
    ],
)
def test_ids_and_keys_are_stored_compactly_and_losslessly(
    conn: sqlite3.Connection, article_id: str, key: str
) -> None:
    index = NearIndex(conn)
    index.add(article_id, key, text(STORY), T0)
    match = index.find(text(STORY))
    assert match is not None and (match.article_id, match.key) == (article_id, key)
    stored_id, stored_key = conn.execute("SELECT article_id, key FROM near_docs").fetchone()
    if article_id == "0123456789abcdef0123":
        assert stored_id == bytes.fromhex(article_id)
    if key == "articles/apnews/2026/05/01/0123456789abcdef0123.json":
        assert stored_key == b"apnews/2026/05/01"


def test_many_candidates_are_verified_together(conn: sqlite3.Connection) -> None:
    index = NearIndex(conn)
    conn.execute("BEGIN")
    sigs = [signature_of(text(STORY[i:] + STORY[:i])) for i in range(len(STORY))]
    index.add_many((f"{i:020x}", f"k{i}", sig, T0) for i, sig in enumerate(sigs) if sig)
    conn.execute("COMMIT")
    match = index.find(text(STORY))
    assert match is not None and match.article_id == f"{0:020x}" and match.similarity == 1.0
