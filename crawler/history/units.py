"""The CC-NEWS files of one backfill run, each the unit of resumption.

A file is finished once its scan ended and every record it held is settled (its page
archived, dropped or failed). A finished file with nothing unfinished, in a run that still
holds the lock, gets its mark in the archive (progress.py) and later runs skip it; then
its claim (claims.py, distributed mode) is given back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crawler.history.capture import UNIT_META
from crawler.history.claims import FileClaims
from crawler.history.feeder import FileEnded
from crawler.history.progress import Days, Progress, is_finished
from crawler.lease_keeper import LeaseKeeper
from pipelines.outcomes import (
    HISTORY_BYTES,
    HISTORY_FILES_FAILED,
    HISTORY_FILES_SCANNED,
    HISTORY_NAMELESS,
    HISTORY_OUT_OF_RANGE,
    HISTORY_RECORDS,
    Counters,
)

logger = logging.getLogger(__name__)


@dataclass
class Unit:
    """One CC-NEWS file in this run: its records still in the pipeline, and how it ended."""

    pending: int = 0
    scanned: bool = False  # the scan reached the end of the file (or its corrupt part)
    failed: bool = False  # something of it is unfinished: the next run scans it again
    finished: bool = False
    counts: dict[str, int] = field(default_factory=dict)


class FileUnits:
    """The files of this run by name, their marks being written, and their claims."""

    def __init__(
        self,
        files: list[str],
        counters: Counters,
        progress: Progress,
        days: Days,
        *,
        may_write: Callable[[], str | None],
        claims: FileClaims | None = None,
        earlier: dict[str, Days] | None = None,
    ) -> None:
        self.counters = counters
        self.progress = progress
        self.days = days
        self.may_write = may_write  # why the run may no longer write the archive, or None
        self.claims = claims
        # The days of each file's mark as last read (none: no mark), joined into the new one.
        self.earlier = dict(earlier or {})
        self.units = {file: Unit() for file in files}
        self.marks: set[asyncio.Future[None]] = set()
        # Renews the claims held until the last mark is written (a scan can outlast the TTL).
        self.keeper = LeaseKeeper(claims) if claims is not None else None

    def start(self) -> None:
        """Start renewing the claims this worker will hold (distributed mode)."""
        if self.keeper is not None:
            self.keeper.start()

    def take(self, file: str) -> bool:
        """Distributed mode: claim a file, unless another worker holds or finished it."""
        assert self.claims is not None
        if not self.claims.claim(file):
            return False
        # Read again under the claim: another worker may have finished it since the listing.
        done = self.progress.done_days(file)
        if is_finished(done, file, self.days):
            self.claims.release(file)
            return False
        if done is None:
            self.earlier.pop(file, None)
        else:
            self.earlier[file] = done
        return True

    def ended(self, event: FileEnded) -> None:
        """Count a file's scan, which reached its end or gave up."""
        unit = self.units[event.file]
        counts = event.counts
        self.counters.history(HISTORY_BYTES, event.bytes_read)
        self.counters.history(HISTORY_RECORDS, counts.records)
        self.counters.history(HISTORY_OUT_OF_RANGE, counts.out_of_range)
        if counts.nameless:
            self.counters.history(HISTORY_NAMELESS, counts.nameless)
        if counts.filtered:
            self.counters.discovered("filtered", counts.filtered)
        unit.counts = {
            "bytes": event.bytes_read,
            "records": counts.records,
            "out_of_range": counts.out_of_range,
        }
        unit.scanned = True
        if event.error is not None:
            if event.corrupt:
                self.counters.error("ccnews_corrupt_file")
            else:
                unit.failed = True
        self.maybe_finish(event.file)

    def unscanned(self) -> None:
        """The scans are over: a file whose scanner died without a word is not finished."""
        for file, unit in self.units.items():
            if not unit.scanned:
                unit.scanned = unit.failed = True
                self.maybe_finish(file)

    def settle(self, request: Any, *, done: bool) -> None:
        """One record of a file left the pipeline: ``done``, or to be fetched again."""
        file = request.meta.get(UNIT_META) if request is not None else None
        unit = self.units.get(file) if file is not None else None
        if unit is None:
            return
        unit.pending -= 1
        if not done:
            unit.failed = True
        self.maybe_finish(str(file))

    def maybe_finish(self, file: str) -> None:
        """Finish a file once it is scanned and settled: mark it, in a thread."""
        unit = self.units[file]
        if unit.finished or not unit.scanned or unit.pending > 0:
            return
        unit.finished = True
        done = not unit.failed and self.may_write() is None
        if done:
            self.counters.history(HISTORY_FILES_SCANNED)
        else:
            self.counters.history(HISTORY_FILES_FAILED)
            logger.warning("CC-NEWS file %s is unfinished: the next run scans it again", file)
        task = asyncio.ensure_future(asyncio.to_thread(self._finish_file, file, done, unit.counts))
        self.marks.add(task)
        task.add_done_callback(self.marks.discard)

    def _finish_file(self, file: str, done: bool, counts: dict[str, int]) -> None:
        """Mark a finished file, then give its claim back (in a thread; close waits for it).

        In this order: another worker must not claim a finished file before its mark is
        there; an unfinished one is free for the next run rather than held for the TTL.
        """
        try:
            if done:
                self.progress.mark_done(file, self.days, counts, earlier=self.earlier.get(file))
        finally:
            if self.claims is not None:
                self.claims.release(file)

    async def close(self) -> None:
        """Wait for the file marks being written; then stop renewing the claims."""
        if self.marks:
            results = await asyncio.gather(*self.marks, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    self.counters.error("history_progress")
                    logger.error("could not record a finished CC-NEWS file: %s", result)
        if self.keeper is not None:
            await asyncio.to_thread(self.keeper.stop)
