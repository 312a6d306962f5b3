"""Bring the search index up to date with the archive: index what it holds and the index lacks."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pipelines.archive.stores import Store, StoreError
from pipelines.search.index import SearchIndex

logger = logging.getLogger(__name__)

# Objects are read and indexed in batches: one transaction each, so a crash loses one batch.
BATCH = 500
_ARTICLE_NAME = re.compile(r"^(?P<id>[^/.]+)(?:\.v(?P<version>\d+))?\.json$")


@dataclass
class CatchUp:
    """What one catch-up did."""

    articles: int = 0
    copies: int = 0
    unreadable: int = 0
    skipped: int = 0

    def describe(self) -> str:
        """Return a one-line account of the catch-up."""
        line = f"indexed {self.articles} articles and {self.copies} copies"
        if self.unreadable:
            line += f"; {self.unreadable} unreadable objects skipped (see the log)"
        return line


def parse_object_key(key: str) -> tuple[str, int] | None:
    """Return (id, version) of ``{kind}/{source}/{YYYY}/{MM}/{DD}/{id}[.vN].json``, or None."""
    parts = key.split("/")
    if len(parts) != 6:
        return None
    match = _ARTICLE_NAME.match(parts[5])
    if match is None:
        return None
    return match["id"], int(match["version"] or 1)


def _read(store: Store, key: str, report: CatchUp) -> dict[str, Any] | None:
    try:
        record = json.loads(store.get(key))
    except (StoreError, ValueError) as err:
        logger.warning("cannot index %s: %s", key, err)
        report.unreadable += 1
        return None
    if not isinstance(record, dict) or "id" not in record:
        logger.warning("cannot index %s: not an archive record", key)
        report.unreadable += 1
        return None
    return record


def _batches(
    store: Store, prefix: str, missing: Callable[[str, int], bool], report: CatchUp
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    batch: list[tuple[str, dict[str, Any]]] = []
    for key in store.keys(prefix):
        parsed = parse_object_key(key)
        if parsed is None:
            continue
        if not missing(*parsed):
            report.skipped += 1
            continue
        record = _read(store, key, report)
        if record is None:
            continue
        batch.append((key, record))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def catch_up(store: Store, index: SearchIndex) -> CatchUp:
    """Index every article and duplicate record of the archive that the index lacks."""
    report = CatchUp()

    def article_missing(article_id: str, version: int) -> bool:
        known = index.version_of(article_id)
        return known is None or known < version

    for batch in _batches(store, "articles/", article_missing, report):
        report.articles += index.add_articles(batch)
    for batch in _batches(store, "duplicates/", lambda i, _v: not index.has_copy(i), report):
        report.copies += index.add_duplicates(batch)
    return report
