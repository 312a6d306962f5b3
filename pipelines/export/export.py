"""Export the archive: the latest version of every selected article, with its copy count.

The search index is the catalogue: it knows each article's latest key and its copies, so
the export reads each selected object once, in day order, and never holds more than one
batch of rows in memory.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pipelines.archive.stores import KeyNotFound, Store, StoreError
from pipelines.export.rows import ARTICLE_SCHEMA, DUPLICATE_SCHEMA, article_row, duplicate_row
from pipelines.export.writers import Closing, JsonlWriter, ParquetWriter, RowWriter
from pipelines.search.index import SearchIndex
from pipelines.search.query import Filters

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "parquet")


class ExportError(Exception):
    """The export cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class Selection:
    """Which articles to export: sources, a day range, and only those fetched after a run."""

    filters: Filters = field(default_factory=Filters)
    after_run: str | None = None


@dataclass
class ExportReport:
    """What an export wrote."""

    articles: int = 0
    duplicates: int = 0
    missing: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """Return a one-line account of the export."""
        rate = self.articles / self.seconds if self.seconds > 0 else 0.0
        line = f"exported {self.articles} articles"
        if self.duplicates:
            line += f" and {self.duplicates} duplicate records"
        line += f" in {self.seconds:.1f}s ({rate:.0f} articles/s)"
        if self.missing:
            line += f"; {self.missing} listed objects were missing or unreadable (see the log)"
        return line


def run_finished_at(store: Store, run_id: str) -> str:
    """Return when a run finished (its summary's ``finished_at``): the incremental cut-off."""
    try:
        summary = json.loads(store.get(f"runs/{run_id}.json"))
    except KeyNotFound as err:
        raise ExportError(
            f"--after {run_id!r}: no run summary runs/{run_id}.json in {store.uri}; "
            "give a run id from the runs/ folder"
        ) from err
    except ValueError as err:
        raise ExportError(f"--after {run_id!r}: the run summary is not JSON") from err
    finished = summary.get("finished_at") if isinstance(summary, dict) else None
    if not isinstance(finished, str) or not finished:
        raise ExportError(f"--after {run_id!r}: the run summary has no finished_at")
    return finished


def _writer(fmt: str, out: str, kind: str) -> RowWriter:
    if fmt == "parquet":
        return ParquetWriter(out, ARTICLE_SCHEMA if kind == "articles" else DUPLICATE_SCHEMA)
    return JsonlWriter(out)


def _read(store: Store, key: str) -> dict[str, Any] | None:
    try:
        record = json.loads(store.get(key))
    except (StoreError, ValueError) as err:
        logger.warning("cannot export %s: %s", key, err)
        return None
    return record if isinstance(record, dict) else None


def _write_articles(
    store: Store, index: SearchIndex, writer: RowWriter, selection: Selection, after: str | None
) -> tuple[int, int]:
    written = missing = 0
    for listed in index.listing(selection.filters, after):
        record = _read(store, listed.key)
        if record is None:
            missing += 1
            continue
        row = partial(article_row, record, listed.key, listed.day, listed.copies)
        # JSON Lines: the record as archived, its key and copy count added.
        writer.write({**record, "key": listed.key, "copies": listed.copies}, row)
        written += 1
    return written, missing


def export_archive(
    store: Store,
    index: SearchIndex,
    *,
    fmt: str,
    out: str,
    selection: Selection | None = None,
    duplicates_out: str | None = None,
) -> ExportReport:
    """Write the selected articles (and duplicate records) as JSON Lines or Parquet."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    started = time.monotonic()
    selection = selection or Selection()
    after = run_finished_at(store, selection.after_run) if selection.after_run else None
    report = ExportReport()
    with Closing(_writer(fmt, out, "articles")) as writer:
        report.articles, report.missing = _write_articles(store, index, writer, selection, after)
    if duplicates_out:
        with Closing(_writer(fmt, duplicates_out, "duplicates")) as writer:
            for key in index.copy_listing(selection.filters, after):
                record = _read(store, key)
                if record is None:
                    report.missing += 1
                    continue
                writer.write({**record, "key": key}, partial(duplicate_row, record, key))
                report.duplicates += 1
    report.seconds = time.monotonic() - started
    return report
