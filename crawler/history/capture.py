"""One page as a history archive captured it: what the pipeline needs, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Request meta: the Capture a request stands for (answered from it, never downloaded).
REPLAY_META = "wirearchive_replay"
# Request meta: the unit of resumption (a CC-NEWS file) a request's page belongs to.
UNIT_META = "wirearchive_history_unit"


@dataclass(frozen=True, slots=True)
class Capture:
    """A captured HTTP response of a page: its headers, its body and its own WARC record."""

    url: str  # the page's own URL (WARC-Target-URI, the CDX original)
    status: int
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes  # the payload as captured
    captured_at: datetime
    origin: dict[str, Any]  # {"kind": "ccnews", "warc", "offset"} or {"kind": "wayback", ...}
    record: bytes  # the WARC response record, uncompressed
    ip_address: str | None = None


def parse_warc_date(value: str) -> datetime:
    """Return a WARC-Date (ISO 8601, UTC) as an aware datetime; ValueError if it is not one."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_http_block(block: bytes) -> tuple[str, int, list[tuple[str, str]], bytes]:
    """Split a WARC response block into (protocol, status, headers, payload).

    Raise ValueError when the bytes are not an HTTP response (a record with bad bytes).
    """
    end = block.find(b"\r\n\r\n")
    if end < 0:
        raise ValueError("no end of the HTTP headers")
    head, payload = block[:end], block[end + 4 :]
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP status line: {lines[0][:60]!r}")
    status = int(parts[1])
    if not 100 <= status <= 599:
        raise ValueError(f"not an HTTP status: {status}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name.strip() or name != name.strip():
            raise ValueError(f"not an HTTP header line: {line[:60]!r}")
        headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return parts[0].decode("ascii", "replace"), status, headers, payload


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    """Return the first header called ``name`` (any case), or None."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)
