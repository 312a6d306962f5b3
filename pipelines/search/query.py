"""A search over the index: the SQL of full-text matching, filters, ranking and snippets."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipelines.search.text import (
    HIT_END,
    HIT_START,
    Segment,
    display_form,
    fts_query,
    meta_query,
    segments,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
SNIPPET_TOKENS = 32
# Ranking costs ~4 µs a match (bm25 over every match before the first page): past this
# many matches, results come most recently archived first, and the page says so.
RANK_LIMIT = 10_000
COPY_COUNT = "(SELECT count(*) FROM copies c WHERE c.original = d.id)"
_COLUMNS = (
    "d.id, d.key, t.title, d.url, d.source, d.day, d.published, d.agency,"
    f" d.dateline, d.language, {COPY_COUNT}"
)


class SearchError(ValueError):
    """A search cannot run as asked; the message names the offending value."""


@dataclass(frozen=True)
class Filters:
    """What narrows a search: sources, a day range (key date), agency, language."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    agency: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    key: str
    title: str
    url: str
    source: str
    day: str
    published: str | None
    agency: str | None
    dateline: str | None
    language: str | None
    copies: int
    title_marked: list[Segment] = field(default_factory=list)
    snippet: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class Results:
    """A page of results and how many match in all."""

    total: int
    hits: list[Hit]
    order: str = "relevance"  # or "newest": asked for, or too many matches to rank


def where(filters: Filters) -> tuple[list[str], list[Any]]:
    """Return the SQL conditions on ``docs d`` of the filters, and their bound values."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.sources:
        clauses.append(f"d.source IN ({', '.join('?' * len(filters.sources))})")
        params.extend(filters.sources)
    if filters.since:
        clauses.append("d.day >= ?")
        params.append(filters.since.isoformat())
    if filters.until:
        clauses.append("d.day <= ?")
        params.append(filters.until.isoformat())
    if filters.agency:
        clauses.append("d.agency = ? COLLATE NOCASE")
        params.append(filters.agency)
    if filters.language:
        clauses.append("d.language = ? COLLATE NOCASE")
        params.append(filters.language)
    return clauses, params


def _hit(row: tuple[Any, ...]) -> Hit:
    title = display_form(row[2])
    return Hit(
        id=row[0],
        key=row[1],
        title=title,
        url=row[3],
        source=row[4],
        day=row[5],
        published=row[6],
        agency=row[7],
        dateline=row[8],
        language=row[9],
        copies=int(row[10]),
        title_marked=segments(row[11]) if row[11] else [Segment(title, False)],
        snippet=segments(row[12]) if row[12] else [],
    )


def _newest(
    conn: sqlite3.Connection, filters: Filters, limit: int, offset: int
) -> tuple[int, list[Any]]:
    clauses, params = where(filters)
    condition = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    total = conn.execute(f"SELECT count(*) FROM docs d {condition}", params).fetchone()[0]  # noqa: S608 - fixed text, values bound
    rows = conn.execute(
        f"SELECT {_COLUMNS}, NULL, NULL FROM docs d JOIN texts t ON t.rowid = d.rowid {condition}"  # noqa: S608 - as above
        " ORDER BY d.day DESC, d.rowid DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return int(total), rows


def run_search(
    conn: sqlite3.Connection,
    words: str,
    filters: Filters | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    newest_first: bool = False,
) -> Results:
    """Return the articles matching every word (best first), or the newest without words."""
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit {limit} is out of range: use 1 to {MAX_LIMIT}")
    if offset < 0:
        raise SearchError(f"offset {offset} is negative")
    filters = filters or Filters()
    if not words.strip():
        total, rows = _newest(conn, filters, limit, offset)
        return Results(total, [_hit(row) for row in rows], "newest")
    query = fts_query(words)
    if query is None:
        return Results(0, [])
    meta = meta_query(
        filters.sources, filters.agency, filters.language, filters.since, filters.until
    )
    match = f"{{title body}} : ({query})" + (f" AND {meta}" if meta else "")
    # Source, agency, language and months are FTS terms; only exact days need the docs row.
    clauses, params = where(Filters(since=filters.since, until=filters.until))
    condition = " AND ".join(["search MATCH ?", *clauses])
    bound = [match, *params]
    # Without filters the count needs no row of docs: the doclist alone answers it.
    joined = "FROM search JOIN docs d ON d.rowid = search.rowid" if clauses else "FROM search"
    try:
        total = conn.execute(f"SELECT count(*) {joined} WHERE {condition}", bound).fetchone()[0]
        ranked = not newest_first and total <= RANK_LIMIT
        # FTS5's own "ORDER BY rank" ranks every match before the filters apply; bm25()
        # in the ORDER BY is computed only for the rows that pass them.
        order = (
            ("bm25(search, 2.0, 1.0, 0.0)" if clauses else "rank")
            if ranked
            else "search.rowid DESC"
        )
        # Rank first, then build the page: SQLite would otherwise make a snippet and count
        # the copies of every match before sorting, not only of the page's rows.
        page = conn.execute(
            f"SELECT search.rowid {joined} WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
            [*bound, limit, offset],
        ).fetchall()
        rows = [
            conn.execute(
                f"SELECT {_COLUMNS}, highlight(search, 0, ?, ?),"  # noqa: S608 - fixed text, values bound
                f" snippet(search, 1, ?, ?, '…', {SNIPPET_TOKENS})"
                " FROM search JOIN docs d ON d.rowid = search.rowid"
                " JOIN texts t ON t.rowid = d.rowid WHERE search MATCH ? AND search.rowid = ?",
                [HIT_START, HIT_END, HIT_START, HIT_END, match, rowid],
            ).fetchone()
            for (rowid,) in page
        ]
    except sqlite3.OperationalError as err:
        raise SearchError(f"cannot search for {words!r}: {err}") from err
    hits = [_hit(row) for row in rows if row is not None]
    return Results(int(total), hits, "relevance" if ranked else "newest")
