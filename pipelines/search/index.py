"""The search index: archived articles in SQLite FTS5, and the copies that point at each.

One SQLite file. With a local archive it lives inside the archive
(``_state/search.sqlite3``); with an S3 archive in the local cache folder, next to the
crawl index's cache. Everything in it can be rebuilt from the archive (``catch_up``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pipelines.archive.keys import archive_date
from pipelines.archive.stores import Store, StoreError
from pipelines.index.state_cache import cache_dir
from pipelines.search.query import COPY_COUNT, DEFAULT_LIMIT, Filters, Results, run_search, where
from pipelines.search.text import indexed_form, meta_form

SEARCH_KEY = "_state/search.sqlite3"
BUSY_TIMEOUT_MS = 30_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, source TEXT NOT NULL, day TEXT NOT NULL, agency TEXT,
    language TEXT, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, key TEXT NOT NULL,
    url TEXT NOT NULL, published TEXT, fetched_at TEXT, dateline TEXT
);
CREATE INDEX IF NOT EXISTS docs_day ON docs (day);
CREATE INDEX IF NOT EXISTS docs_source_day ON docs (source, day);
CREATE TABLE IF NOT EXISTS texts (
    rowid INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, meta TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (
    title, body, meta, content='texts', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS copies (
    id TEXT PRIMARY KEY, original TEXT NOT NULL, key TEXT NOT NULL, url TEXT NOT NULL,
    source TEXT NOT NULL, fetched_at TEXT, kind TEXT, similarity REAL, title TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS copies_original ON copies (original);
"""


class SearchIndexError(StoreError):
    """The search index file cannot be opened or written; the message says what to check."""


@dataclass(frozen=True)
class Copy:
    """A duplicate record pointing at an archived article."""

    id: str
    original: str
    key: str
    url: str
    source: str
    fetched_at: str | None
    kind: str | None
    similarity: float | None
    title: str | None


@dataclass(frozen=True)
class Listed:
    """An article selected for export: its id, latest key, day and number of copies."""

    id: str
    key: str
    day: date
    copies: int


def search_path(store: Store, cache: Path | None = None) -> Path:
    """Return the local path of an archive's search index: inside it, else in the cache."""
    local = store.local_path(SEARCH_KEY)
    if local is not None:
        return local
    digest = hashlib.sha256(store.uri.encode("utf-8")).hexdigest()[:16]
    return (cache or cache_dir()) / digest / "search.sqlite3"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class SearchIndex:
    """Full-text search over an archive's articles, with their copies; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection per thread: the web app answers requests from a thread pool.
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn.executescript(SCHEMA)
            # Headline words weigh double; the hidden filter column never counts.
            self.conn.execute(
                "INSERT INTO search (search, rank) VALUES ('rank', 'bm25(2.0, 1.0, 0.0)')"
            )
        except (OSError, sqlite3.Error) as err:
            raise SearchIndexError(
                f"cannot open the search index {path}: {err}; check the folder is writable "
                "(it can be deleted: `wirearchive index` rebuilds it)"
            ) from err

    @classmethod
    def for_store(cls, store: Store, cache: Path | None = None) -> SearchIndex:
        """Open the search index of an archive."""
        return cls(search_path(store, cache))

    @property
    def conn(self) -> sqlite3.Connection:
        """Return this thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            # WAL: the crawl can add articles while the web app reads.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ------------------------------------------------------------ writing

    def version_of(self, article_id: str) -> int | None:
        """Return the indexed version of an article, or None when it is not indexed."""
        row = self.conn.execute("SELECT version FROM docs WHERE id = ?", (article_id,)).fetchone()
        return int(row[0]) if row else None

    def has_copy(self, duplicate_id: str) -> bool:
        """Tell whether a duplicate record is indexed."""
        found = self.conn.execute("SELECT 1 FROM copies WHERE id = ?", (duplicate_id,))
        return found.fetchone() is not None

    def add_articles(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Index (key, article JSON) pairs in one transaction; a newer version replaces older.

        Returns how many were added or replaced.
        """
        added = 0
        with self._write() as conn:
            for key, record in items:
                added += self._add_article(conn, key, record)
        return added

    def _add_article(self, conn: sqlite3.Connection, key: str, record: Mapping[str, Any]) -> int:
        article_id = str(record["id"])
        version = int(record.get("version") or 1)
        old = conn.execute(
            "SELECT d.rowid, d.version, t.title, t.body, t.meta FROM docs d JOIN texts t"
            " ON t.rowid = d.rowid WHERE d.id = ?",
            (article_id,),
        ).fetchone()
        if old is not None:
            if int(old[1]) > version:
                return 0
            conn.execute(
                "INSERT INTO search (search, rowid, title, body, meta)"
                " VALUES ('delete', ?, ?, ?, ?)",
                (old[0], old[2], old[3], old[4]),
            )
            conn.execute("DELETE FROM docs WHERE rowid = ?", (old[0],))
            conn.execute("DELETE FROM texts WHERE rowid = ?", (old[0],))
        wire = _mapping(record.get("wire"))
        published = _text(record.get("published"))
        fetched_at = _text(record.get("fetched_at")) or ""
        day = archive_date(published, fetched_at).isoformat()
        title = indexed_form(_text(record.get("title")) or "")
        body = indexed_form(_text(record.get("text")) or "")
        source = str(record.get("source") or "")
        agency = _text(wire.get("agency"))
        language = _text(record.get("language"))
        cursor = conn.execute(
            "INSERT INTO docs (source, day, agency, language, id, version, key, url,"
            " published, fetched_at, dateline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                source,
                day,
                agency,
                language,
                article_id,
                version,
                key,
                str(record.get("url") or ""),
                published,
                fetched_at or None,
                _text(wire.get("dateline")),
            ),
        )
        meta = meta_form(source, agency, language, date.fromisoformat(day))
        for table in ("texts", "search"):
            conn.execute(
                f"INSERT INTO {table} (rowid, title, body, meta) VALUES (?, ?, ?, ?)",  # noqa: S608 - fixed names
                (cursor.lastrowid, title, body, meta),
            )
        return 1

    def add_duplicates(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Record (key, duplicate JSON) pairs as copies of their originals."""
        rows = [
            (
                str(record["id"]),
                str(record["duplicate_of"]),
                key,
                str(record.get("url") or ""),
                str(record.get("source") or ""),
                _text(record.get("fetched_at")),
                _text(record.get("kind")),
                float(record["similarity"]) if record.get("similarity") is not None else None,
                _text(record.get("title")),
            )
            for key, record in items
        ]
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO copies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        return len(rows)

    # ------------------------------------------------------------ reading

    def search(
        self,
        words: str,
        filters: Filters | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
        offset: int = 0,
        newest_first: bool = False,
    ) -> Results:
        """Return the articles matching every word (best first), or the newest without words."""
        return run_search(
            self.conn, words, filters, limit=limit, offset=offset, newest_first=newest_first
        )

    def key_of(self, article_id: str) -> str | None:
        """Return the archive key of an indexed article's latest version, or None."""
        row = self.conn.execute("SELECT key FROM docs WHERE id = ?", (article_id,)).fetchone()
        return str(row[0]) if row else None

    def copy(self, duplicate_id: str) -> Copy | None:
        """Return one duplicate record by its id, or None."""
        row = self.conn.execute(
            "SELECT id, original, key, url, source, fetched_at, kind, similarity, title FROM copies"
            " WHERE id = ?",
            (duplicate_id,),
        ).fetchone()
        return Copy(*row) if row else None

    def copies_of(self, article_id: str) -> list[Copy]:
        """Return every duplicate record pointing at an article, first seen first."""
        rows = self.conn.execute(
            "SELECT id, original, key, url, source, fetched_at, kind, similarity, title FROM copies"
            " WHERE original = ? ORDER BY fetched_at, id",
            (article_id,),
        ).fetchall()
        return [Copy(*row) for row in rows]

    def copy_counts(self) -> Iterator[tuple[str, int]]:
        """Yield (article id, number of copies) for every article that has copies."""
        yield from self.conn.execute("SELECT original, count(*) FROM copies GROUP BY original")

    def agencies_by_source(self, sources: Iterable[str] = ()) -> dict[str, list[tuple[str, int]]]:
        """Return, per source, the agencies whose stories it carries, most first.

        A source carries a story when it archived it or when its page was a copy of it.
        """
        wanted = list(sources)
        only = f"WHERE source IN ({', '.join('?' * len(wanted))})" if wanted else ""
        carried = (
            "SELECT source, agency FROM docs WHERE agency IS NOT NULL"
            " UNION ALL SELECT c.source, d.agency FROM copies c JOIN docs d"
            " ON d.id = c.original WHERE d.agency IS NOT NULL"
        )
        grouped = "GROUP BY source, agency ORDER BY source, n DESC, agency"
        sql = f"SELECT source, agency, count(*) AS n FROM ({carried}) {only} {grouped}"  # noqa: S608 - fixed text, values bound
        rows = self.conn.execute(sql, wanted).fetchall()
        table: dict[str, list[tuple[str, int]]] = {}
        for source, agency, count in rows:
            table.setdefault(source, []).append((agency, int(count)))
        return table

    def listing(self, filters: Filters, fetched_after: str | None = None) -> Iterator[Listed]:
        """Yield the latest version of every selected article with its copy count, by day."""
        clauses, params = where(filters)
        if fetched_after:
            clauses.append("d.fetched_at > ?")
            params.append(fetched_after)
        condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        selected = f"SELECT d.id, d.key, d.day, {COPY_COUNT} FROM docs d"  # noqa: S608 - fixed text
        sql = f"{selected} {condition} ORDER BY d.day, d.id"
        for row in self.conn.execute(sql, params):
            yield Listed(row[0], row[1], date.fromisoformat(row[2]), int(row[3]))

    def copy_listing(self, filters: Filters, fetched_after: str | None = None) -> Iterator[str]:
        """Yield the keys of the selected duplicate records (by their source and fetch day)."""
        clauses: list[str] = []
        params: list[Any] = []
        if filters.sources:
            clauses.append(f"source IN ({', '.join('?' * len(filters.sources))})")
            params.extend(filters.sources)
        if filters.since:
            clauses.append("substr(fetched_at, 1, 10) >= ?")
            params.append(filters.since.isoformat())
        if filters.until:
            clauses.append("substr(fetched_at, 1, 10) <= ?")
            params.append(filters.until.isoformat())
        if fetched_after:
            clauses.append("fetched_at > ?")
            params.append(fetched_after)
        condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT key FROM copies {condition} ORDER BY fetched_at, id"  # noqa: S608 - as above
        for (key,) in self.conn.execute(sql, params):
            yield str(key)

    def facets(self) -> dict[str, list[str]]:
        """Return the sources, agencies and languages present, for the search form."""
        return {
            column: [
                str(value)
                for (value,) in self.conn.execute(
                    f"SELECT DISTINCT {column} FROM docs WHERE {column} IS NOT NULL"  # noqa: S608 - fixed names
                    f" ORDER BY {column}"
                )
            ]
            for column in ("source", "agency", "language")
        }

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    def count_copies(self) -> int:
        """Return how many duplicate records are indexed."""
        return int(self.conn.execute("SELECT count(*) FROM copies").fetchone()[0])
