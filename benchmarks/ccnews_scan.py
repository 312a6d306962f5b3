"""CC-NEWS skip-scan rate: MB/s of gzipped WARC on one core, against plain fastwarc iteration.

Usage: python benchmarks/ccnews_scan.py [--records N] [--share PCT] [--repeat K]

Writes one CC-NEWS-like file (a request, a response and a metadata record per page, each
its own gzip member; the responses are the real pages of the extraction dev set, under
many hosts) and times, on the same file and from a Python stream as a backfill reads it:

- fastwarc: plain iteration over every record with fastwarc (no HTTP parsing), the limit;
- skip-scan: crawler/history/ccnews.scan, keeping one source's in-range pages (``--share``
  percent of the responses), reading and parsing those records whole.

It prints both rates and their ratio (the target: skip-scan within 1.5x of fastwarc).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastwarc import ArchiveIterator

from crawler.history.ccnews import RecordFilter, ScanCounts, scan

DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "extraction-dev" / "html"
TARGET = "wanted.example"


def member(head: list[str], block: bytes) -> bytes:
    """Return one WARC record as its own gzip member."""
    text = "\r\n".join(["WARC/1.0", *head, f"Content-Length: {len(block)}"]) + "\r\n\r\n"
    gz = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return gz.compress(text.encode() + block + b"\r\n\r\n") + gz.flush()


def write_file(path: Path, records: int, share: float) -> int:
    """Write a CC-NEWS-like WARC of ``records`` pages; return how many are the target's."""
    pages = [gzip.decompress(p.read_bytes()) for p in sorted(DEV_SET.glob("*.html.gz"))]
    every = max(1, round(100 / share)) if share > 0 else 0
    wanted = 0
    with path.open("wb") as out:
        for n in range(records):
            host = TARGET if every and n % every == 0 else f"site{n % 997}.example"
            wanted += host == TARGET
            url = f"https://www.{host}/news/{n}.html"
            date = f"2026-10-0{1 + n % 3}T{n % 24:02d}:00:00Z"
            rid = f"<urn:uuid:{uuid.uuid4()}>"
            page = pages[n % len(pages)]
            request = f"GET /news/{n}.html HTTP/1.1\r\nHost: www.{host}\r\n\r\n".encode()
            common = [f"WARC-Target-URI: {url}", f"WARC-Date: {date}"]
            out.write(
                member(
                    [
                        "WARC-Type: request",
                        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>",
                        *common,
                        "Content-Type: application/http; msgtype=request",
                    ],
                    request,
                )
            )
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + page
            out.write(
                member(
                    [
                        "WARC-Type: response",
                        f"WARC-Record-ID: {rid}",
                        *common,
                        "Content-Type: application/http; msgtype=response",
                    ],
                    http,
                )
            )
            out.write(
                member(
                    [
                        "WARC-Type: metadata",
                        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>",
                        *common,
                        f"WARC-Concurrent-To: {rid}",
                        "Content-Type: application/warc-fields",
                    ],
                    b"fetchTimeMs: 120\r\n",
                )
            )
    return wanted


def fastwarc_plain(path: Path) -> int:
    """Iterate every record with fastwarc, as plainly as it goes; return the record count."""
    with path.open("rb") as stream:
        return sum(1 for _ in ArchiveIterator(stream, parse_http=False))


def skip_scan(path: Path) -> int:
    """Scan for the target's pages of the first two days; return how many were kept."""
    from datetime import date  # noqa: PLC0415

    wanted = RecordFilter(frozenset({TARGET}), date(2026, 10, 1), date(2026, 10, 2))
    counts = ScanCounts()
    with path.open("rb") as stream:
        return sum(1 for _ in scan(stream, wanted, path.name, counts))


def best_time(run: Callable[[Path], int], path: Path, repeat: int) -> tuple[float, int]:
    """Return the best wall time of ``repeat`` runs (one core: nothing runs in parallel)."""
    best, result = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run(path)
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=4000, help="pages in the file")
    parser.add_argument("--share", type=float, default=1.0, help="%% of pages of the source")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "CC-NEWS-20261001000000-00000.warc.gz"
        wanted = write_file(path, args.records, args.share)
        size_mb = path.stat().st_size / 1e6
        plain, records = best_time(fastwarc_plain, path, args.repeat)
        scanned, kept = best_time(skip_scan, path, args.repeat)
    print(f"file: {size_mb:.1f} MB gzipped, {records} records, {wanted} of the source")
    print(f"fastwarc plain iteration: {size_mb / plain:7.1f} MB/s ({plain:.2f} s)")
    print(f"skip-scan (kept {kept}):  {size_mb / scanned:7.1f} MB/s ({scanned:.2f} s)")
    print(f"ratio fastwarc / skip-scan: {scanned / plain:.2f}x (target: at most 1.5x)")


if __name__ == "__main__":
    main()
