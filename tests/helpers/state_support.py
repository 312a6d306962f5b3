"""Helpers for the tests of the index state in S3: a counting store, archived articles.

Run as a program it is one run's end (the crash tests' child): it opens an archive's index
from a cache, archives and indexes a few articles, then ships them, and may be killed on
the way by ``WIREARCHIVE_STATE_KILL_AT`` (pipelines/index/state_publish.py).

    python -m tests.helpers.state_support URI CACHE FIRST COUNT [--compact]
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.archive.stores import Store, open_store
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.index import manifest as manifest_rules
from pipelines.index.sqlite import StateIndex, open_state
from pipelines.index.sync import sync_state

DUMPED = ("articles", "urls", "texts", "validators", "rejected", "near_docs", "near_bands")


def article_id(number: int) -> str:
    return f"{number:020x}"


def story(number: int) -> str:
    """A text of its own per number, long enough for a near-dup signature."""
    return " ".join(f"story{number} word{n} item{(n * 7 + number) % 97}" for n in range(60))


def archive_article(store: Store, index: StateIndex, number: int) -> None:
    """Write an article and its raw record to the archive, then index it (as a run does)."""
    ident = article_id(number)
    key = f"articles/wire/2026/12/01/{ident}.json"
    raw_key = f"raw/wire/2026/12/01/{ident}.warc.gz"
    text = story(number)
    url = f"https://example.org/news/{number}"
    record = {"id": ident, "url": url, "text": text, "raw_key": raw_key, "version": 1}
    store.put(raw_key, b"raw")
    store.put(key, json.dumps(record).encode(), content_type="application/json")
    index.record_article(
        article_id=ident,
        key=key,
        content_sha256="0" * 64,
        urls=[url],
        fingerprint=exact_fingerprint(text),
        text=text,
    )


def run(store: Store, cache: Path, numbers: range, *, compact: bool = False) -> None:
    """One run: open the index from ``cache``, archive and index ``numbers``, ship them."""
    index = open_state(store, cache=cache)
    for number in numbers:
        archive_article(store, index, number)
    saved = manifest_rules.COMPACT_SEGMENTS
    manifest_rules.COMPACT_SEGMENTS = 1 if compact else saved
    try:
        sync_state(index, store)
    finally:
        manifest_rules.COMPACT_SEGMENTS = saved
        index.close()


def dump(index: StateIndex) -> dict[str, list[tuple[object, ...]]]:
    """Every replicated row of an index, sorted: two caches equal iff these are."""
    conn: sqlite3.Connection = index.conn
    return {table: sorted(conn.execute(f"SELECT * FROM {table}")) for table in DUMPED}  # noqa: S608


@dataclass
class Call:
    op: str
    key: str
    size: int = 0


@dataclass
class CountingStore:
    """A store that records each request it passes on (what, which key, how many bytes)."""

    inner: Store
    calls: list[Call] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return self.inner.uri

    def reset(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls

    def put(self, key: str, data: bytes, **options: object) -> bool:
        self.calls.append(Call("put", key, len(data)))
        return self.inner.put(key, data, **options)  # type: ignore[arg-type]

    def get(self, key: str) -> bytes:
        data = self.inner.get(key)
        self.calls.append(Call("get", key, len(data)))
        return data

    def exists(self, key: str) -> bool:
        self.calls.append(Call("exists", key))
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.calls.append(Call("delete", key))
        self.inner.delete(key)

    def keys(self, prefix: str = "") -> Iterator[str]:
        self.calls.append(Call("list", prefix))
        return self.inner.keys(prefix)

    def check(self) -> None:
        self.inner.check()

    def local_path(self, key: str) -> Path | None:
        return self.inner.local_path(key)

    def upload_file(self, key: str, path: Path, **options: str) -> None:
        self.calls.append(Call("upload", key, path.stat().st_size))
        self.inner.upload_file(key, path, **options)

    def download_file(self, key: str, path: Path) -> None:
        self.inner.download_file(key, path)
        self.calls.append(Call("download", key, path.stat().st_size))

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        data, tag = self.inner.get_tagged(key)
        self.calls.append(Call("get", key, len(data)))
        return data, tag

    def put_tagged(self, key: str, data: bytes, **options: object) -> str | None:
        self.calls.append(Call("put", key, len(data)))
        return self.inner.put_tagged(key, data, **options)  # type: ignore[arg-type]


def main(argv: list[str]) -> None:
    uri, cache, first, count = argv[0], Path(argv[1]), int(argv[2]), int(argv[3])
    if "--compact" in argv:
        manifest_rules.COMPACT_SEGMENTS = 1  # this run's segment makes a compaction due
    store = open_store(uri)
    index = open_state(store, cache=cache)
    for number in range(first, first + count):
        archive_article(store, index, number)
    sync_state(index, store)
    index.close()


if __name__ == "__main__":
    main(sys.argv[1:])
