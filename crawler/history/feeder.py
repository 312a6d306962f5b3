"""Scan CC-NEWS files in worker threads and hand what they find to the crawl, file by file.

Each thread takes the next file, streams it (never stored), scans it and puts what it
found on a bounded queue the spider reads from the reactor; a full queue holds the scans
back, so memory stays bounded by the queue, not by the files. With distributed mode a
file is first claimed in Redis: the workers of one backfill share the files.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.history.capture import Capture
from crawler.history.ccnews import RecordFilter, ScanCounts, Skipped, scan
from crawler.history.remote import CountingStream, Remote, RemoteError

logger = logging.getLogger(__name__)

QUEUE_SIZE = 64  # found records waiting for the reactor, all threads together
PUT_WAIT = 0.5  # seconds between looks at the stop flag while the queue is full


@dataclass(frozen=True, slots=True)
class Found:
    """A record of the source that a file held: a Capture to archive, or Skipped."""

    file: str
    item: Capture | Skipped


@dataclass(frozen=True, slots=True)
class FileEnded:
    """A file read to its end (``error`` None), or given up (``error`` says why).

    A file given up is unfinished, and the next run scans it again: its connection broke,
    or closed before the Content-Length it declared (CountingStream tells that from the
    end of the file); whether it was done could not be read; the run is stopping.
    ``corrupt``: the file itself is broken past some record; reading it again would not
    help, so it is finished like a whole one (and the error counted).
    """

    file: str
    counts: ScanCounts
    bytes_read: int
    error: str | None = None
    corrupt: bool = False


@dataclass(frozen=True, slots=True)
class ClaimedElsewhere:
    """Another worker of a distributed backfill holds the file."""

    file: str


Event = Found | FileEnded | ClaimedElsewhere


@dataclass
class FileFeeder:
    """Scan files in ``workers`` threads; ``next_event`` hands over what they found."""

    remote: Remote
    files: list[str]
    wanted: RecordFilter
    workers: int = 1
    claim: Callable[[str], bool] | None = None  # distributed mode: False, another worker has it
    events: queue.Queue[Event] = field(default_factory=lambda: queue.Queue(QUEUE_SIZE))
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.waiting = deque(self.files)
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, name=f"ccnews-{n}", daemon=True)
            for n in range(max(1, min(self.workers, len(self.files))))
        ]
        self.running = 0

    def start(self) -> None:
        """Start the scanning threads."""
        self.running = len(self.threads) if self.files else 0
        for thread in self.threads if self.files else []:
            thread.start()

    def stop(self) -> None:
        """Ask the threads to stop after the record at hand (the run is ending)."""
        self.stopping.set()

    @property
    def finished(self) -> bool:
        """Every file was scanned and every event handed over."""
        with self.lock:
            return self.running == 0 and self.events.empty()

    def next_event(self, timeout: float) -> Event | None:
        """Return the next event, or None after ``timeout`` seconds without one."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _put(self, event: Event) -> bool:
        while not self.stopping.is_set():
            try:
                self.events.put(event, timeout=PUT_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def _next_file(self) -> str | None:
        with self.lock:
            return self.waiting.popleft() if self.waiting else None

    def _work(self) -> None:
        try:
            while not self.stopping.is_set():
                file = self._next_file()
                if file is None:
                    return
                try:
                    # Inside the try: a claim that fails past Redis (the archive cannot tell
                    # whether the file is done) gives up this file, not the thread; its
                    # FileEnded gives the claim back.
                    if self.claim is not None and not self.claim(file):
                        self._put(ClaimedElsewhere(file))
                        continue
                    ended = self._scan(file)
                except BaseException as err:
                    logger.error("CC-NEWS file %s: given up: %r", file, err)
                    ended = FileEnded(file, ScanCounts(), 0, f"given up: {err!r}")
                self._put(ended)
        finally:
            with self.lock:
                self.running -= 1

    def _scan(self, file: str) -> FileEnded:
        counts = ScanCounts()
        stream: CountingStream | None = None
        corrupt = False
        try:
            stream = CountingStream(self.remote.open(file))
            for item in scan(stream, self.wanted, file, counts):
                if not self._put(Found(file, item)):
                    return FileEnded(file, counts, stream.read_bytes, "the run is stopping")
            return FileEnded(file, counts, stream.read_bytes)
        except RemoteError as err:
            error = str(err)
        except OSError as err:
            # fastwarc: the gzip or WARC framing is broken past this point.
            error = f"unreadable past the records already read: {err}"
            corrupt = True
        finally:
            if stream is not None:
                stream.close()
        logger.warning("CC-NEWS file %s: %s", file, error)
        return FileEnded(file, counts, stream.read_bytes if stream else 0, error, corrupt)
