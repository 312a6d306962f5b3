"""The Wayback Machine: the CDX query of a source's captures, the raw ``id_`` URL of one,
and the Capture its answer makes.

CDX answers every capture of a URL pattern; asked for HTML with status 200, collapsed by
URL key, it gives one capture per page of the range. Pages are asked for
``web/{timestamp}id_/{url}``: the bytes captured, without the Wayback Machine's banner or
rewritten links.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode, urljoin

from crawler.history.capture import Capture
from pipelines.archive.warc import response_record

CDX_PATH = "cdx/search/cdx"
CDX_PAGE_SIZE = 5000  # captures a CDX answer lists; the resume key asks for the next ones
CDX_FIELDS = ("timestamp", "original", "mimetype", "statuscode")
TIMESTAMP = re.compile(r"^\d{14}$")
CAPTURE_URL = re.compile(r"/web/(\d{14})id_/(.+)$")
# The Wayback Machine prefixes the captured response's own headers with this.
ORIGINAL_PREFIX = "x-archive-orig-"
# Headers that describe the bytes as the Wayback Machine sent them, not as the page served them.
TRANSPORT_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
# One connection to the Wayback Machine, a pause between requests: it is a shared public
# service that answers 429 when pressed. A user's -s still wins (cmdline priority).
POLITENESS = {
    "CONCURRENT_REQUESTS": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_DELAY": 1.0,
    "RETRY_TIMES": 6,  # a 429 burst is waited out (Retry-After), not given up on
}


@dataclass(frozen=True, slots=True)
class CdxCapture:
    """One capture a CDX query listed."""

    timestamp: str  # YYYYMMDDhhmmss, UTC
    url: str  # the page's own URL

    @property
    def captured_at(self) -> datetime:
        """The capture time."""
        return timestamp_time(self.timestamp)


def timestamp_time(timestamp: str) -> datetime:
    """Return a Wayback timestamp (YYYYMMDDhhmmss, UTC) as an aware datetime."""
    return datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def cdx_url(base: str, domain: str, since: date, until: date, resume_key: str | None = None) -> str:
    """Return the CDX query for a domain's HTML 200 captures in a range, one per URL."""
    query: list[tuple[str, str]] = [
        ("url", domain),
        ("matchType", "domain"),
        ("from", since.strftime("%Y%m%d")),
        ("to", until.strftime("%Y%m%d") + "235959"),
        ("filter", "statuscode:200"),
        ("filter", "mimetype:text/html"),
        ("collapse", "urlkey"),
        ("output", "json"),
        ("fl", ",".join(CDX_FIELDS)),
        ("limit", str(CDX_PAGE_SIZE)),
        ("showResumeKey", "true"),
    ]
    if resume_key:
        query.append(("resumeKey", resume_key))
    return urljoin(base, CDX_PATH) + "?" + urlencode(query)


def parse_cdx(body: bytes) -> tuple[list[CdxCapture], str | None]:
    """Return the captures of a CDX JSON answer and its resume key (None: the last page).

    The answer is a list of rows, the first naming the fields; with ``showResumeKey`` an
    empty row is followed by the key. Raise ValueError when it is not such a list, or a
    row is shorter than the fields it names.
    """
    text = body.strip()
    if not text:
        return [], None
    rows = json.loads(text)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ValueError("a CDX answer is a JSON list of rows")
    if not rows:
        return [], None
    fields = rows[0]
    resume = None
    if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
        resume = str(rows[-1][0])
        rows = rows[:-2]
    try:
        at_time, at_url = fields.index("timestamp"), fields.index("original")
    except ValueError as err:
        raise ValueError(f"a CDX answer without timestamp and original fields: {fields}") from err
    status = fields.index("statuscode") if "statuscode" in fields else None
    mime = fields.index("mimetype") if "mimetype" in fields else None
    captures = []
    for row in rows[1:]:
        if not row:
            continue
        if len(row) < len(fields):
            raise ValueError(f"a CDX row with {len(row)} fields of {len(fields)}: {row[:4]}")
        # The filters asked for these already; a server that ignored them is checked here.
        if status is not None and row[status] != "200":
            continue
        if mime is not None and row[mime] != "text/html":
            continue
        if TIMESTAMP.match(str(row[at_time])):
            captures.append(CdxCapture(str(row[at_time]), str(row[at_url])))
    return captures, resume


def capture_url(base: str, timestamp: str, url: str) -> str:
    """Return the URL of a capture's raw bytes: ``web/{timestamp}id_/{url}``."""
    # Joined as text: urljoin would fold the page's "http://" into "http:/".
    return urljoin(base, f"web/{timestamp}id_/") + url


def served_timestamp(url: str, asked: str) -> str:
    """Return the timestamp of the capture served at ``url`` (a redirect may pick another)."""
    match = CAPTURE_URL.search(url)
    return match.group(1) if match else asked


def original_headers(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    """Return the page's own response headers from an ``id_`` answer's.

    The captured headers come back prefixed ``X-Archive-Orig-``; Content-Type is the
    capture's. Those describing the transfer (encoding, length) are replaced by the length
    of the body kept, which is stored decoded.
    """
    kept: list[tuple[str, str]] = []
    content_type = None
    for name, value in headers:
        lower = name.lower()
        if lower.startswith(ORIGINAL_PREFIX):
            original = name[len(ORIGINAL_PREFIX) :]
            if original.lower() not in TRANSPORT_HEADERS | {"content-type"}:
                kept.append((original, value))
        elif lower == "content-type":
            content_type = value
    if content_type is not None:
        kept.insert(0, ("Content-Type", content_type))
    kept.append(("Content-Length", str(length)))
    return kept


def answer_capture(
    base: str,
    page: str,
    *,
    served_url: str,
    asked: str,
    status: int,
    answer_headers: list[tuple[str, str]],
    body: bytes,
) -> Capture:
    """Return the Capture of ``page`` from the answer to its ``id_`` request.

    ``served_url``: where the answer came from (a redirect may pick another capture than
    the ``asked`` timestamp); ``answer_headers``: all of the answer's own.
    """
    timestamp = served_timestamp(served_url, asked)
    captured_at = timestamp_time(timestamp)
    headers = original_headers(answer_headers, len(body))
    record = response_record(
        page,
        f"{status} OK" if status == 200 else str(status),
        headers,
        body,
        captured_at,
        # Where these bytes were read: the capture, not the page's own server.
        extra={"WARC-Source-URI": capture_url(base, timestamp, page)},
    )
    return Capture(
        url=page,
        status=status,
        protocol="HTTP/1.1",
        headers=headers,
        body=body,
        captured_at=captured_at,
        origin={"kind": "wayback", "timestamp": timestamp},
        record=record,
    )
