"""Read the archive's history of run summaries (``runs/*.json``) for health and stats."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

from pipelines.archive.stores import Store, StoreError, open_store
from pipelines.daterange import parse_time

logger = logging.getLogger(__name__)

# Reading every summary of a years-old archive would be slow on S3: the rules need the last
# few dozen runs of each source.
DEFAULT_MAX_RUNS = 500
# Run ids start with the run's start time, so a key shows its day without a GET.
_RUN_KEY = re.compile(r"^runs/(\d{8})T\d{6}Z[^/]*\.json$")
# The newest runs are listed month by month from this one back, this many months at most:
# a cron run every 5 minutes leaves 100,000 summaries a year, 100 LIST pages on S3 at the
# end of every run if the whole folder were listed to find the last few dozen.
LOOKBACK_MONTHS = 13
# Summaries read at once (boto3 clients and local files are safe to share between threads).
READERS = 8


def open_archive(uri: str) -> Store:
    """Open an archive to read, refusing a local folder that does not exist."""
    store = open_store(uri)
    root = store.local_path("runs")
    if root is not None and not root.parent.is_dir():
        raise StoreError(f"archive folder {root.parent} does not exist")
    return store


def _read_summary(store: Store, key: str) -> Any:
    try:
        return json.loads(store.get(key))
    except (StoreError, ValueError) as err:
        logger.warning("skipping unreadable run summary %s: %s", key, err)
        return None


def _summary_keys(store: Store, prefix: str) -> list[str]:
    return sorted(key for key in store.keys(prefix) if key.endswith(".json"))


def newest_run_keys(store: Store, max_runs: int, today: date | None = None) -> list[str]:
    """Return the keys of the newest ``max_runs`` run summaries (all when 0), oldest first.

    Listed a month at a time from the next one back (a run id from a clock a little ahead
    may name it); a history shorter than ``max_runs`` over LOOKBACK_MONTHS is small enough
    to list whole.
    """
    if max_runs <= 0:
        return _summary_keys(store, "runs/")
    day = today or datetime.now(UTC).date()
    year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
    found: list[str] = []
    for _ in range(LOOKBACK_MONTHS):
        found[:0] = _summary_keys(store, f"runs/{year:04d}{month:02d}")
        if len(found) >= max_runs:
            return found[-max_runs:]
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return _summary_keys(store, "runs/")[-max_runs:]


def load_history(store: Store, max_runs: int = DEFAULT_MAX_RUNS) -> list[dict[str, Any]]:
    """Read the newest ``max_runs`` run summaries (``runs/*.json``; run ids sort by start).

    Read READERS at a time: on S3 each is a round trip, and every run's end reads 60.
    """
    keys = newest_run_keys(store, max_runs)
    with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="runs") as pool:
        read = list(pool.map(lambda key: _read_summary(store, key), keys))
    return [data for data in read if isinstance(data, dict)]


def runs_since(store: Store, since: date | None) -> list[dict[str, Any]]:
    """Read the run summaries that started on or after ``since`` (None: all), oldest first."""
    runs: list[dict[str, Any]] = []
    for key in sorted(store.keys("runs/")):
        if not key.endswith(".json"):
            continue
        match = _RUN_KEY.match(key)
        if since and match and match[1] < f"{since:%Y%m%d}":
            continue
        run = _read_summary(store, key)
        started = parse_time(run.get("started_at")) if isinstance(run, dict) else None
        if started is None or (since and started.date() < since):
            continue
        runs.append(run)
    runs.sort(key=lambda run: str(run.get("started_at")))
    return runs


def sources_in_history(history: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return every source name the run summaries mention, sorted."""
    names: set[str] = set()
    for summary in history:
        names.update(summary.get("sources") or ())
        names.update(summary.get("per_source") or {})
    return sorted(names)
