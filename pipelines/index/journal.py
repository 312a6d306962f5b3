"""What a run changed in the SQLite index, as a small file another machine can apply.

A cache of an S3 archive's index keeps a journal: triggers note the key of every row a run
inserts, replaces or deletes (``state_journal``: table name, key). At the end of the run
the journaled keys become a *segment*: a small SQLite file (gzip-compressed for the trip)
holding each changed row as it is now, and a tombstone for each row now gone. Applying a
segment writes those rows and removes those keys: the result does not depend on how many
times it is applied, so a segment applied twice (a catch-up cut short) does no harm.

Near-duplicate entries travel as ``near_docs`` rows with their id: the run that wrote them
was caught up with the archive (it holds the lock), so every cache that applies the same
segments in the same order numbers them alike. Their LSH buckets (``near_bands``) are
derived from the stored signature, so they are rebuilt on apply rather than shipped.
"""

from __future__ import annotations

import contextlib
import gzip
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipelines.index.near import NearIndex

# Every replicated table and its key column. ``near_bands`` is derived (from near_docs.sig).
TABLES: dict[str, str] = {
    "articles": "article_id",
    "urls": "hash",
    "texts": "hash",
    "validators": "url",
    "rejected": "hash",
    "meta": "name",
    "near_docs": "id",
}
# Meta rows that describe this cache's copy rather than the archive: never replicated.
LOCAL_META = ("instance", "generation", "state_base", "state_segments", "state_pending")

JOURNAL_SCHEMA = "CREATE TABLE IF NOT EXISTS state_journal (seq INTEGER PRIMARY KEY, tbl, key)"
# Segments are tiny: small pages keep a run's segment at a few KB, not 4 KB per table.
SEGMENT_PAGE_SIZE = 1024
COPY_BUFFER = 1024 * 1024
# Each change a trigger notes, and the row (before or after it) that holds the key.
EVENTS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def _trigger_name(table: str, event: str) -> str:
    return f"state_journal_{table}_{event.lower()}"


def _triggers(table: str, column: str) -> list[str]:
    local = ""
    if table == "meta":
        names = ", ".join(f"'{name}'" for name in LOCAL_META)
        local = f" WHEN {{row}}.name NOT IN ({names})"
    statements = []
    for event, row in EVENTS:
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {_trigger_name(table, event)} "  # noqa: S608
            f"AFTER {event} ON {table}{local.format(row=row)} BEGIN "
            f"INSERT INTO state_journal (tbl, key) VALUES ('{table}', {row}.{column}); END"
        )
    return statements


def enable(conn: sqlite3.Connection) -> None:
    """Journal every change of this index from now on (a cache of a remote archive)."""
    conn.execute(JOURNAL_SCHEMA)
    for table, column in TABLES.items():
        for statement in _triggers(table, column):
            conn.execute(statement)


def disable(conn: sqlite3.Connection) -> None:
    """Journal nothing (an index that lives inside its archive has nothing to ship)."""
    for table in TABLES:
        for event, _row in EVENTS:
            conn.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)}")
    conn.execute("DROP TABLE IF EXISTS state_journal")


def last_change(conn: sqlite3.Connection) -> int:
    """Return the number of the journal's last entry (0: nothing journaled)."""
    row = conn.execute("SELECT coalesce(max(seq), 0) FROM state_journal").fetchone()
    return int(row[0])


def pending_changes(conn: sqlite3.Connection) -> int:
    """Return how many journaled changes no segment holds yet."""
    return int(conn.execute("SELECT count(*) FROM state_journal").fetchone()[0])


def trim(conn: sqlite3.Connection, through: int) -> None:
    """Forget journal entries up to ``through``: a published segment holds them."""
    conn.execute("DELETE FROM state_journal WHERE seq <= ?", (through,))


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]


@contextlib.contextmanager
def _segment_attached(conn: sqlite3.Connection, database: str) -> Iterator[None]:
    """Attach a segment file as ``segment`` around a transaction the caller begins.

    The transaction is committed at the end, rolled back on any error; the file is
    detached either way.
    """
    conn.execute("ATTACH DATABASE ? AS segment", (database,))
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("DETACH DATABASE segment")


def build_segment(conn: sqlite3.Connection, target: Path, through: int) -> int:
    """Write the rows journaled up to ``through`` to ``target`` (gzip); return their count.

    Runs outside any transaction of ``conn`` (ATTACH needs that).
    """
    plain = target.with_name(target.name + ".sqlite3")
    plain.unlink(missing_ok=True)
    with _segment_attached(conn, str(plain)):
        conn.execute(f"PRAGMA segment.page_size = {SEGMENT_PAGE_SIZE}")
        conn.execute("PRAGMA segment.journal_mode = OFF")
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE segment.deleted (tbl TEXT NOT NULL, key)")
        count = 0
        for table, column in TABLES.items():
            changed = "SELECT key FROM main.state_journal WHERE tbl = ? AND seq <= ?"
            conn.execute(f"CREATE TABLE segment.{table} AS SELECT * FROM main.{table} WHERE 0")  # noqa: S608
            count += conn.execute(
                f"INSERT INTO segment.{table} SELECT * FROM main.{table} "  # noqa: S608
                f"WHERE {column} IN ({changed})",
                (table, through),
            ).rowcount
            count += conn.execute(
                "INSERT INTO segment.deleted (tbl, key) SELECT DISTINCT tbl, key "  # noqa: S608
                "FROM main.state_journal j WHERE tbl = ? AND seq <= ? AND NOT EXISTS "
                f"(SELECT 1 FROM main.{table} t WHERE t.{column} = j.key)",
                (table, through),
            ).rowcount
    with plain.open("rb") as source, gzip.open(target, "wb", compresslevel=6) as sink:
        shutil.copyfileobj(source, sink, COPY_BUFFER)
    plain.unlink()
    return count


def apply_segment(conn: sqlite3.Connection, segment: Path) -> int:
    """Apply a downloaded segment (gzip) to the index; return the rows it wrote or removed.

    One transaction: a segment is applied whole or not at all. The journal entries the
    writes cause are dropped: these rows came from the archive, they are not news.
    """
    plain = segment.with_name(segment.name + ".sqlite3")
    with gzip.open(segment, "rb") as source, plain.open("wb") as sink:
        shutil.copyfileobj(source, sink, COPY_BUFFER)
    try:
        with _segment_attached(conn, f"file:{plain}?mode=ro"):
            journaled = _journal_exists(conn)
            before = last_change(conn) if journaled else 0
            conn.execute("BEGIN IMMEDIATE")
            count = _apply_near(conn)
            for table, column in TABLES.items():
                if table == "near_docs":
                    continue
                count += conn.execute(
                    f"DELETE FROM main.{table} WHERE {column} IN "  # noqa: S608
                    "(SELECT key FROM segment.deleted WHERE tbl = ?)",
                    (table,),
                ).rowcount
                columns = ", ".join(_columns(conn, "segment", table))
                count += conn.execute(
                    f"INSERT OR REPLACE INTO main.{table} ({columns}) "  # noqa: S608
                    f"SELECT {columns} FROM segment.{table}"
                ).rowcount
            if journaled:
                conn.execute("DELETE FROM main.state_journal WHERE seq > ?", (before,))
    finally:
        plain.unlink(missing_ok=True)
    return count


def _journal_exists(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'state_journal'"
    ).fetchone()
    return row is not None


def _apply_near(conn: sqlite3.Connection) -> int:
    """Replace the near_docs rows a segment names (by id), their buckets with them."""
    # Unqualified names in NearIndex's SQL resolve to main before the attached segment.
    near = NearIndex(conn)
    named = (
        "SELECT key FROM segment.deleted WHERE tbl = 'near_docs' "
        "UNION SELECT id FROM segment.near_docs"
    )
    count = int(conn.execute(f"SELECT count(*) FROM ({named})").fetchone()[0])  # noqa: S608
    near.forget(
        conn.execute(f"SELECT id, sig FROM main.near_docs WHERE id IN ({named})").fetchall()  # noqa: S608
    )
    near.add_rows(
        conn.execute(
            "SELECT id, indexed_at, article_id, key, sig FROM segment.near_docs"
        ).fetchall()
    )
    return count
