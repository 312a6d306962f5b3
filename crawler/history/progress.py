"""Which CC-NEWS files a source's backfill finished: one small object per file in the archive.

A file is the unit of resumption. Its mark is written once every record of the source it
held is settled (archived, recorded as a duplicate, or rejected with a reason), under
``_state/backfill/{source}/ccnews/{filter}/{file name}.json``: in the archive, so it
survives a fresh container; ``{filter}`` is a digest of the source's hosts and rules, so
changing them scans the files again. The mark keeps the capture days the scan took, as a
later run with a wider range still needs the file's other days.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from crawler.history.ccnews import MARGIN, file_stamp
from crawler.sources import Source
from pipelines.archive.stores import KeyNotFound, Store

PROGRESS_PREFIX = "_state/backfill"


def filter_digest(source: Source) -> str:
    """Return a short digest of what a scan keeps for a source: its hosts and rules."""
    described = json.dumps(
        {"hosts": sorted(source.hosts()), "allow": source.allow, "deny": source.deny},
        sort_keys=True,
    )
    return hashlib.sha256(described.encode()).hexdigest()[:12]


def progress_key(source: Source, path: str) -> str:
    """Return the key of a CC-NEWS file's mark for a source."""
    name = path.rsplit("/", 1)[-1]
    return f"{PROGRESS_PREFIX}/{source.name}/ccnews/{filter_digest(source)}/{name}.json"


@dataclass(frozen=True)
class Days:
    """An inclusive range of UTC days (None: open on that side)."""

    since: date | None
    until: date | None

    def covers(self, other: Days) -> bool:
        """Tell whether every day of ``other`` is one of these."""
        low = self.since is None or (other.since is not None and other.since >= self.since)
        high = self.until is None or (other.until is not None and other.until <= self.until)
        return low and high

    def joins(self, other: Days) -> Days | None:
        """Return the union of two ranges that overlap or touch, else None."""
        if self.since and other.until and (other.until - self.since).days < -1:
            return None
        if other.since and self.until and (self.until - other.since).days < -1:
            return None
        since = None if self.since is None or other.since is None else min(self.since, other.since)
        until = None if self.until is None or other.until is None else max(self.until, other.until)
        return Days(since, until)


def needed_days(path: str, wanted: Days) -> Days:
    """Return the days of ``wanted`` a file can hold records of (its stamp, a day either side)."""
    stamp = file_stamp(path)
    if stamp is None:
        return wanted
    low, high = stamp.date() - MARGIN, stamp.date() + MARGIN
    since = low if wanted.since is None else max(low, wanted.since)
    until = high if wanted.until is None else min(high, wanted.until)
    return Days(since, until)


def is_finished(done: Days | None, path: str, wanted: Days) -> bool:
    """Tell whether a mark's days (None: no mark) cover the days of ``wanted`` a file holds."""
    return done is not None and done.covers(needed_days(path, wanted))


def listing_prefix(source: Source, path: str) -> str:
    """Return the prefix that lists a file's mark with those of its month (or it alone)."""
    key = progress_key(source, path)
    stamp = file_stamp(path)
    name = path.rsplit("/", 1)[-1]
    at = name.find(stamp.strftime("%Y%m%d%H%M%S")) if stamp is not None else -1
    if at < 0:
        return key
    return f"{key.rsplit('/', 1)[0]}/{name[: at + 6]}"  # ...up to the stamp's YYYYMM


def _parse(data: bytes) -> Days | None:
    try:
        mark = json.loads(data)
        return Days(
            date.fromisoformat(mark["since"]) if mark.get("since") else None,
            date.fromisoformat(mark["until"]) if mark.get("until") else None,
        )
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable mark: the file is scanned again


class Progress:
    """The marks of one source's CC-NEWS backfill in an archive."""

    def __init__(self, store: Store, source: Source) -> None:
        self.store = store
        self.source = source

    def done_days(self, path: str) -> Days | None:
        """Return the days an earlier run finished a file for, or None."""
        return self._read(progress_key(self.source, path))

    def _read(self, key: str) -> Days | None:
        try:
            return _parse(self.store.get(key))
        except KeyNotFound:
            return None

    def plan(self, paths: list[str], wanted: Days) -> tuple[list[str], dict[str, Days]]:
        """Return the files of ``paths`` not finished for ``wanted``, and the marks they have.

        One listing of the marks of each month the files are of, then one read of each
        mark listed: a file without a mark (most of them, in a first run) costs nothing.
        """
        keys = {progress_key(self.source, path): path for path in paths}
        listed: set[str] = set()
        for prefix in sorted({listing_prefix(self.source, path) for path in paths}):
            listed.update(key for key in self.store.keys(prefix) if key in keys)
        marks: dict[str, Days] = {}
        for key in sorted(listed):
            days = self._read(key)
            if days is not None:
                marks[keys[key]] = days
        unfinished = [path for path in paths if not is_finished(marks.get(path), path, wanted)]
        return unfinished, {path: marks[path] for path in unfinished if path in marks}

    def mark_done(
        self, path: str, wanted: Days, counts: dict[str, Any], *, earlier: Days | None
    ) -> None:
        """Record that the file is finished for ``wanted``, joined with its ``earlier`` mark.

        ``earlier``: the mark's days as read before the scan (None: no mark). It is not read
        again: under the run lock, or the file's claim, no one else writes it meanwhile.
        """
        days = wanted
        if earlier is not None:
            days = earlier.joins(wanted) or wanted
        mark = {
            "file": path,
            "source": self.source.name,
            "since": days.since.isoformat() if days.since else None,
            "until": days.until.isoformat() if days.until else None,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": counts,
        }
        self.store.put(
            progress_key(self.source, path),
            json.dumps(mark, sort_keys=True).encode(),
            content_type="application/json",
            overwrite=True,
        )
