"""A persistent near-duplicate index in SQLite: MinHash LSH buckets plus stored signatures.

Two tables, prefixed ``near_``:

* ``near_docs``: one row per indexed article (integer id, indexing time in whole seconds,
  article id, archive key, packed signature, see ``neardup.Signature``). A hex article id
  is stored as a blob (half the bytes); a key ``articles/{path}/{article id}{suffix}``
  as the blob ``{path}`` (suffix ``.json``) or ``{path}\\0{suffix}``: both decode losslessly
  (the SQLite type tells them apart from verbatim text).
* ``near_bands``: one row per (LSH bucket, doc id), a ``WITHOUT ROWID`` table clustered
  on the bucket, so a lookup is one index range per band: O(bands) whatever the size.
  Buckets are 32-bit (4 bytes in a record): at 1M articles x 20 bands a random bucket
  collision adds a candidate to ~1 lookup in 200, verified away.

Candidates sharing at least one bucket are verified with their stored signature
(``neardup.compare_many``); the best match by estimated Jaccard similarity is returned.
Only a recent window needs indexing (syndication happens within days); the caller prunes.
The index never commits: the caller owns the transaction, and SQLite lets ``find`` see
uncommitted rows of the same connection.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence

from pipelines.dedup.fingerprints import Signature, band_keys, compare_many, signature_of
from pipelines.index.base import NearMatch
from pipelines.index.packing import pack_id, pack_key, unpack_id, unpack_key

# article_id and key hold TEXT (verbatim) or BLOB (compact): no type affinity.
SCHEMA = """
CREATE TABLE IF NOT EXISTS near_docs (
    id INTEGER PRIMARY KEY, indexed_at INTEGER NOT NULL,
    article_id BLOB NOT NULL, key BLOB NOT NULL, sig BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS near_bands (
    bucket INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (bucket, id)
) WITHOUT ROWID;
"""


# One statement per band count (placeholders only, no values in the SQL text).
_FIND_SQL = {
    n: "SELECT article_id, key, sig FROM near_docs WHERE id IN "  # noqa: S608
    f"(SELECT id FROM near_bands WHERE bucket IN ({','.join('?' * n)}))"
    for n in range(1, 257)
}


# A near_docs row as stored: id, indexed_at (whole seconds), packed article id and key, sig.
StoredDoc = tuple[int, int, str | bytes, str | bytes, bytes]


def _row(article_id: str, key: str) -> tuple[str | bytes, str | bytes]:
    return pack_id(article_id), pack_key(key, article_id)


class NearIndex:
    """Near-duplicate lookups over the articles indexed on one SQLite connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)

    # -- lookups ---------------------------------------------------------------------------

    def find(self, text: str) -> NearMatch | None:
        """Return the indexed article this text is a near-duplicate of, best first."""
        sig = signature_of(text)
        return None if sig is None else self.find_signature(sig)

    def find_signature(self, sig: Signature) -> NearMatch | None:
        """Like ``find`` for a signature already computed (``neardup.signature_of``)."""
        keys = band_keys(sig)
        rows = [
            row
            for row in self.conn.execute(_FIND_SQL[len(keys)], keys).fetchall()
            if len(row[2]) == len(sig)  # else made with other parameters: not comparable
        ]
        best: tuple[float, str | bytes, str | bytes] | None = None
        for (article_id, key, _), result in zip(
            rows, compare_many(sig, [row[2] for row in rows]), strict=True
        ):
            if result.match and (best is None or result.jaccard > best[0]):
                best = (result.jaccard, article_id, key)
        if best is None:
            return None
        similarity, stored_id, stored_key = best
        article_id = unpack_id(stored_id)
        return NearMatch(article_id, unpack_key(stored_key, article_id), similarity)

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM near_docs").fetchone()[0])

    # -- writes (inside the caller's transaction) -----------------------------------------

    def add(self, article_id: str, key: str, text: str, indexed_at: float) -> None:
        """Index an article's text; texts too short to near-match are not indexed."""
        sig = signature_of(text)
        if sig is not None:
            self.add_signature(article_id, key, sig, indexed_at)

    def add_signature(self, article_id: str, key: str, sig: Signature, indexed_at: float) -> None:
        """Index an article by a signature already computed."""
        cursor = self.conn.execute(
            "INSERT INTO near_docs (indexed_at, article_id, key, sig) VALUES (?, ?, ?, ?)",
            (math.floor(indexed_at), *_row(article_id, key), sig),
        )
        doc = cursor.lastrowid
        self.conn.executemany(
            "INSERT OR IGNORE INTO near_bands (bucket, id) VALUES (?, ?)",
            [(bucket, doc) for bucket in band_keys(sig)],
        )

    def add_many(self, entries: Iterable[tuple[str, str, Signature, float]]) -> int:
        """Index (article_id, key, signature, indexed_at) entries in bulk; return how many."""
        start = int(self.conn.execute("SELECT coalesce(max(id), 0) FROM near_docs").fetchone()[0])
        docs = [
            (start + i, math.floor(indexed_at), *_row(article_id, key), sig)
            for i, (article_id, key, sig, indexed_at) in enumerate(entries, 1)
        ]
        self.add_rows(docs)
        return len(docs)

    def add_rows(self, docs: Sequence[StoredDoc]) -> None:
        """Insert rows as stored, ids included (another index's rows: a segment applied)."""
        self.conn.executemany(
            "INSERT INTO near_docs (id, indexed_at, article_id, key, sig) VALUES (?, ?, ?, ?, ?)",
            docs,
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO near_bands (bucket, id) VALUES (?, ?)",
            [(bucket, doc[0]) for doc in docs for bucket in band_keys(doc[4])],
        )

    def forget(self, docs: Sequence[tuple[int, bytes]]) -> None:
        """Delete (id, signature) rows; their buckets are found again from the signature,
        so no second index is needed."""
        self.conn.executemany(
            "DELETE FROM near_bands WHERE bucket = ? AND id = ?",
            [(bucket, doc) for doc, sig in docs for bucket in band_keys(sig)],
        )
        self.conn.executemany("DELETE FROM near_docs WHERE id = ?", [(doc,) for doc, _ in docs])

    def remove(self, article_id: str) -> int:
        """Forget one article (a repair: scans ``near_docs``, as there is no id index)."""
        docs = self.conn.execute(
            "SELECT id, sig FROM near_docs WHERE article_id = ?", (pack_id(article_id),)
        ).fetchall()
        self.forget(docs)
        return len(docs)

    def prune(self, older_than: float) -> int:
        """Forget articles indexed before ``older_than`` (epoch seconds); return how many.

        Times are kept in whole seconds (floor), so an entry from the same second as the
        cut-off is kept: pruning errs on keeping. There is no index on the time (it would
        cost ~15 bytes per article): pruning scans ``near_docs``, which is rare (daily) and
        takes ~3 s for a day of 33k entries at 1M articles (see benchmarks/dedup.py).
        """
        cutoff = math.floor(older_than)
        old = self.conn.execute(
            "SELECT id, sig FROM near_docs WHERE indexed_at < ?", (cutoff,)
        ).fetchall()
        self.forget(old)
        return len(old)
