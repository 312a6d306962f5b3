"""The dedup index of one machine in SQLite: archived URLs and texts, validators, rejections.

One embedded file: inside a local archive, else a local cache of the remote archive's copy
(``sync.py`` fetches it and ships what each run changed). Entries are written only after the
archive write they describe succeeded, each in its own transaction: a crash or an outage
never marks a page as done.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from pipelines.archive.stores import Store
from pipelines.dedup.fingerprints import Signature
from pipelines.index import journal
from pipelines.index.base import Known, NearMatch, text_hash, url_hash
from pipelines.index.near import NearIndex
from pipelines.index.rejections import Rejection
from pipelines.index.state_cache import STATE_KEY, state_path
from pipelines.index.sync import fetch_state, sync_state

SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    hash BLOB PRIMARY KEY, article_id TEXT NOT NULL, kind TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS texts (
    hash BLOB PRIMARY KEY, article_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, key TEXT NOT NULL, content_sha256 TEXT NOT NULL,
    versions INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS validators (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected (
    hash BLOB PRIMARY KEY, reason TEXT NOT NULL, attempts INTEGER NOT NULL,
    retry_at REAL NOT NULL
) WITHOUT ROWID;
"""


class StateIndex:
    """The SQLite index of one archive. Single-threaded: the reactor thread owns it."""

    def __init__(self, path: Path, *, journal_changes: bool | None = None) -> None:
        """Open (or create) the index at ``path``.

        ``journal_changes``: True for a cache of a remote archive (each change is journaled
        for the run's segment, see journal.py), False for an index inside its archive,
        None to keep whatever the file does.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file;
        # a lost entry only means a page is fetched again and found already archived.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.near = NearIndex(self.conn)
        if journal_changes is True:
            journal.enable(self.conn)
        elif journal_changes is False:
            journal.disable(self.conn)

    def save(self, store: Store, *, rebuild: bool = False) -> None:
        """Ship the run's changes to the archive (S3), or leave the index where it is (local).

        ``rebuild``: write the whole index as the archive's fresh base (``verify --repair``).
        """
        sync_state(self, store, rebuild=rebuild)

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()

    # -- lookups -------------------------------------------------------------------------

    def url(self, url: str) -> Known | None:
        """Return the article a URL belongs to, if the index knows the URL."""
        row = self.conn.execute(
            "SELECT u.article_id, a.key, u.kind FROM urls u "
            "LEFT JOIN articles a ON a.article_id = u.article_id WHERE u.hash = ?",
            (url_hash(url),),
        ).fetchone()
        return Known(row[0], row[1] or "", row[2]) if row else None

    def text(self, fingerprint: str) -> Known | None:
        """Return the archived article with this exact-text fingerprint, if any."""
        row = self.conn.execute(
            "SELECT t.article_id, a.key FROM texts t "
            "JOIN articles a ON a.article_id = t.article_id WHERE t.hash = ?",
            (text_hash(fingerprint),),
        ).fetchone()
        return Known(row[0], row[1], "exact") if row else None

    def near_match(self, text: str, signature: Signature | None = None) -> NearMatch | None:
        """Return the archived article this text is a near-copy of, if any.

        ``signature``: the text's, when the caller made it already.
        """
        if signature is None:
            return self.near.find(text)
        return self.near.find_signature(signature)

    def article(self, article_id: str) -> tuple[str, str, int] | None:
        """Return (key, content_sha256, versions) of an archived article."""
        row = self.conn.execute(
            "SELECT key, content_sha256, versions FROM articles WHERE article_id = ?",
            (article_id,),
        ).fetchone()
        return (row[0], row[1], int(row[2])) if row else None

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    # -- records (one transaction each, after the archive write succeeded) ---------------

    def record_article(
        self,
        *,
        article_id: str,
        key: str,
        content_sha256: str,
        urls: Iterable[str],
        fingerprint: str,
        text: str,
        version: int = 1,
        signature: Signature | None = None,
    ) -> None:
        """Index an archived article: its URLs, its exact text, and its near-dup signature.

        ``signature``: the text's, when the caller made it already.
        """
        with self._transaction():
            self.conn.execute(
                "INSERT INTO articles (article_id, key, content_sha256, versions) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(article_id) DO UPDATE SET "
                "content_sha256 = excluded.content_sha256, versions = excluded.versions",
                (article_id, key, content_sha256, version),
            )
            self._add_urls(urls, article_id, "article")
            self.conn.execute(
                "INSERT OR IGNORE INTO texts (hash, article_id) VALUES (?, ?)",
                (text_hash(fingerprint), article_id),
            )
            if version == 1 and signature is not None:
                self.near.add_signature(article_id, key, signature, time.time())
            elif version == 1:
                self.near.add(article_id, key, text, time.time())

    def replace_text(
        self, article_id: str, key: str, content_sha256: str, fingerprint: str, text: str
    ) -> None:
        """Re-index an article whose text was re-extracted: new fingerprint and signature."""
        with self._transaction():
            self.conn.execute("DELETE FROM texts WHERE article_id = ?", (article_id,))
            self.conn.execute(
                "INSERT OR IGNORE INTO texts (hash, article_id) VALUES (?, ?)",
                (text_hash(fingerprint), article_id),
            )
            self.conn.execute(
                "UPDATE articles SET content_sha256 = ? WHERE article_id = ?",
                (content_sha256, article_id),
            )
            self.near.add(article_id, key, text, time.time())

    def articles(self) -> list[tuple[str, str]]:
        """Return (article id, JSON key) of every indexed article."""
        rows = self.conn.execute("SELECT article_id, key FROM articles").fetchall()
        return [(str(article_id), str(key)) for article_id, key in rows]

    def forget(self, article_id: str) -> None:
        """Drop an article and everything pointing at it (its object is gone): refetch it."""
        with self._transaction():
            for table in ("articles", "urls", "texts"):
                self.conn.execute(f"DELETE FROM {table} WHERE article_id = ?", (article_id,))  # noqa: S608
            self.near.remove(article_id)

    def record_urls(self, urls: Iterable[str], article_id: str, kind: str) -> None:
        """Index URLs that lead to an archived article (duplicates, aliases)."""
        with self._transaction():
            self._add_urls(urls, article_id, kind)

    def _add_urls(self, urls: Iterable[str], article_id: str, kind: str) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO urls (hash, article_id, kind) VALUES (?, ?, ?)",
            [(url_hash(url), article_id, kind) for url in dict.fromkeys(urls) if url],
        )

    def prune_near(self, days: float) -> int:
        """Drop near-dup entries indexed more than ``days`` ago (syndication is recent).

        At most once a day: pruning scans the near index (seconds at a million articles),
        and a day's worth of stale entries costs nothing but a little space.
        """
        now = time.time()
        if now - float(self.get_meta("near_pruned_at") or 0) < 86400:
            return 0
        with self._transaction():
            removed = self.near.prune(now - days * 86400)
        self.set_meta("near_pruned_at", str(now))
        return removed

    # -- conditional GET -----------------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the (ETag, Last-Modified) last seen for a feed or sitemap URL."""
        row = self.conn.execute(
            "SELECT etag, last_modified FROM validators WHERE url = ?", (url,)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_validators(self, entries: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Remember validators; the caller saves them only after a run that lost nothing."""
        with self._transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO validators (url, etag, last_modified) VALUES (?, ?, ?)",
                list(entries),
            )

    # -- metadata -------------------------------------------------------------------------

    # -- pages rejected for a lasting reason (see pipelines/index/rejections.py) ---------------

    def rejection(self, url: str) -> Rejection | None:
        """Return what is remembered of a URL's last rejections, if any."""
        row = self.conn.execute(
            "SELECT reason, attempts, retry_at FROM rejected WHERE hash = ?", (url_hash(url),)
        ).fetchone()
        return Rejection(row[0], int(row[1]), float(row[2])) if row else None

    def record_rejection(self, url: str, rejection: Rejection) -> None:
        """Remember a URL's rejection until it may be asked for again."""
        with self._transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO rejected (hash, reason, attempts, retry_at) "
                "VALUES (?, ?, ?, ?)",
                (url_hash(url), rejection.reason, rejection.attempts, rejection.retry_at),
            )

    def get_meta(self, name: str) -> str | None:
        """Return a metadata value (e.g. the generation synced from S3)."""
        row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, name: str, value: str) -> None:
        """Set a metadata value."""
        with self._transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value)
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def snapshot(self, target: Path) -> None:
        """Write a consistent copy of the index to ``target`` (SQLite's online backup)."""
        copy = sqlite3.connect(target)
        try:
            self.conn.backup(copy)
        finally:
            copy.close()


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")


def open_state(
    store: Store, cache: Path | None = None, *, repair: bool = False, fetch: bool = True
) -> StateIndex:
    """Open an archive's index, first bringing a remote archive's cache up to date.

    ``repair``: a damaged remote index starts an empty cache instead of failing (the caller
    rebuilds it from the archive's objects). ``fetch``: False when this run already brought
    the cache up to date under its lock (``runner.locked_archive``): no second manifest GET.
    """
    path = state_path(store, cache)
    if fetch:
        fetch_state(store, path, repair=repair)
    return StateIndex(path, journal_changes=store.local_path(STATE_KEY) is None)
