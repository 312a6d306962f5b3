"""CC-NEWS: which files a date range needs, and the skip-scan of one WARC file.

CC-NEWS has no index: its WARC files are sorted by time, not by site, so a source's pages
are found by reading every file of the range. The scan decompresses everything (that cost
is fastwarc's, in Rust) but looks at a record's WARC headers only: the target URI's host
and the capture date decide, and only the records of the source's hosts are read further.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from fastwarc import ArchiveIterator, WarcRecord, WarcRecordType

from crawler.history.capture import Capture, header, parse_http_block, parse_warc_date
from pipelines.extract.pipeline import is_html
from pipelines.outcomes import http_reason
from pipelines.urls import site_host

CCNEWS_PREFIX = "crawl-data/CC-NEWS"
FILE_NAME = re.compile(r"CC-NEWS-(\d{14})-\d{5}\.warc\.gz$")
# A file is named for when it was started: its records may belong to the day before or after.
MARGIN = timedelta(days=1)


def listing_path(year: int, month: int) -> str:
    """Return the path (relative to the CC-NEWS base) of a month's ``warc.paths.gz``."""
    return f"{CCNEWS_PREFIX}/{year:04d}/{month:02d}/warc.paths.gz"


def months(since: date, until: date) -> list[tuple[int, int]]:
    """Return the (year, month) listings a range needs, its day of margin either side included."""
    first, last = since - MARGIN, until + MARGIN
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def file_stamp(path: str) -> datetime | None:
    """Return the time a CC-NEWS file's name gives (when it was started), or None."""
    match = FILE_NAME.search(path)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def pick_files(paths: list[str], since: date, until: date) -> list[str]:
    """Return the files whose name-stamp falls in the range with a day of margin, oldest first."""
    picked = []
    for path in paths:
        stamp = file_stamp(path)
        if stamp is not None and since - MARGIN <= stamp.date() <= until + MARGIN:
            picked.append(path)
    return sorted(set(picked), key=lambda path: (file_stamp(path), path))


def read_listing(data: bytes) -> list[str]:
    """Return the paths of a (gunzipped) ``warc.paths.gz``: one a line, blanks skipped."""
    return [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]


def uri_host(uri: str) -> str | None:
    """Return the host of a WARC-Target-URI as ``domains`` compares it (fast: no urlsplit)."""
    start = uri.find("://")
    if start < 0:
        return None
    rest = uri[start + 3 :]
    end = len(rest)
    for stop in "/?#":
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    netloc = rest[:end].rpartition("@")[2]
    if netloc.startswith("["):
        host = netloc[1 : netloc.find("]")] if "]" in netloc else ""
    else:
        host = netloc.partition(":")[0]
    return site_host(host) or None


class Readable(Protocol):
    """A byte stream: an HTTP response, an S3 body, a file."""

    def read(self, size: int = -1, /) -> bytes:
        """Return up to ``size`` bytes; b"" at the end."""


@dataclass(frozen=True)
class RecordFilter:
    """Which records a source wants: its hosts, the capture days, its allow/deny rules."""

    hosts: frozenset[str]
    since: date | None = None
    until: date | None = None
    accepts: Callable[[str], bool] = field(default=lambda url: True)
    max_size: int = 10 * 1024 * 1024

    def in_range(self, warc_date: str) -> bool:
        """Tell whether a WARC-Date falls on a wanted UTC day (ISO dates compare as text)."""
        day = warc_date[:10]
        if self.since is not None and day < self.since.isoformat():
            return False
        return self.until is None or day <= self.until.isoformat()


@dataclass
class ScanCounts:
    """What a scan looked at: compressed bytes read, response records, out-of-range ones."""

    records: int = 0
    out_of_range: int = 0
    filtered: int = 0
    nameless: int = 0  # response records without a WARC-Target-URI (cut-off headers)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record of the source not sent to the pipeline, and the reason it is counted under."""

    url: str
    reason: str


def scan(
    stream: Readable, wanted: RecordFilter, file: str, counts: ScanCounts
) -> Iterator[Capture | Skipped]:
    """Yield the source's in-range response records of one gzipped WARC stream, or why not.

    Raise OSError when the stream cannot be decompressed or parsed any further.
    """
    hosts = wanted.hosts

    def ours(record: WarcRecord) -> bool:
        counts.records += 1
        uri = record.headers.get("WARC-Target-URI")
        if uri is None:
            counts.nameless += 1  # whose page it was cannot be told: counted for the run
            return False
        return uri_host(uri) in hosts

    for record in ArchiveIterator(
        cast(Any, stream),  # its stub asks for seek/tell; a stream read forward is enough
        record_types=WarcRecordType.response,
        parse_http=False,
        func_filter=ours,
    ):
        url = record.headers.get("WARC-Target-URI") or ""
        if not wanted.in_range(record.headers.get("WARC-Date") or ""):
            counts.out_of_range += 1
            continue
        if not wanted.accepts(url):
            counts.filtered += 1
            continue
        yield _capture(record, url, file, wanted.max_size)


def _capture(record: WarcRecord, url: str, file: str, max_size: int) -> Capture | Skipped:
    """Read one record of the source whole: a Capture, or why it is skipped."""
    length = record.content_length
    if record.headers.get("WARC-Truncated"):
        return Skipped(url, "record_truncated")
    if length > max_size:
        return Skipped(url, "too_large")
    offset = record.stream_pos
    block = record.reader.read(length)
    if len(block) < length:
        return Skipped(url, "record_truncated")  # the file ends inside the record
    try:
        captured_at = parse_warc_date(record.headers.get("WARC-Date") or "")
        protocol, status, headers, payload = parse_http_block(block)
    except ValueError:
        return Skipped(url, "record_unreadable")
    reason = None if status == 200 else http_reason(status)
    if reason is None and not is_html(header(headers, "Content-Type"), payload):
        reason = "not_html"
    if reason is not None:
        return Skipped(url, reason)
    return Capture(
        url=url,
        status=status,
        protocol=protocol,
        headers=headers,
        body=payload,
        captured_at=captured_at,
        origin={"kind": "ccnews", "warc": file, "offset": offset},
        record=warc_record(record, block),
        ip_address=record.headers.get("WARC-IP-Address"),
    )


def warc_record(record: WarcRecord, block: bytes) -> bytes:
    """Return a record as it was stored: its WARC headers, then its block."""
    lines = [record.headers.status_line or "WARC/1.0"]
    lines += [f"{name}: {value}" for name, value in record.headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + block + b"\r\n\r\n"
