"""Loopback stand-ins for Common Crawl News and the Wayback Machine, with WARCs made here."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.demo.loopback import LoopbackServer, Resource, Route


@dataclass(frozen=True)
class Rec:
    """One response record to write: a page captured at ``date``, or raw bytes as its block."""

    url: str
    date: str  # WARC-Date, such as 2026-10-01T10:00:00Z
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    block: bytes | None = None  # the whole HTTP block as given (bad bytes)


def warc_file(records: Iterable[Rec]) -> tuple[bytes, dict[str, int]]:
    """Return a gzipped WARC (a member per record, a request before each response, as
    CC-NEWS has them) and each response record's offset by URL."""
    out = BytesIO()
    writer = WARCWriter(out, gzip=True)
    offsets = {}
    for rec in records:
        request = writer.create_warc_record(
            rec.url,
            "request",
            http_headers=StatusAndHeaders(
                f"GET {urlsplit(rec.url).path} HTTP/1.1", [("Host", "x")], is_http_request=True
            ),
            warc_headers_dict={"WARC-Date": rec.date},
        )
        writer.write_record(request)
        offsets[rec.url] = out.tell()
        if rec.block is not None:
            # As a resource first: warcio would parse (and refuse) the bad bytes of a response.
            response = writer.create_warc_record(
                rec.url,
                "resource",
                payload=BytesIO(rec.block),
                length=len(rec.block),
                warc_content_type="application/http; msgtype=response",
                warc_headers_dict={"WARC-Date": rec.date},
            )
            response.rec_type = "response"
            response.rec_headers.replace_header("WARC-Type", "response")
        else:
            response = writer.create_warc_record(
                rec.url,
                "response",
                payload=BytesIO(rec.body),
                length=len(rec.body),
                http_headers=StatusAndHeaders(
                    f"{rec.status} X", [("Content-Type", rec.content_type)], protocol="HTTP/1.1"
                ),
                warc_headers_dict={"WARC-Date": rec.date},
            )
        writer.write_record(response)
    return out.getvalue(), offsets


class PrefixRoutes(dict[str, Route]):
    """Routes where a key ending in ``*`` answers every path that starts with the rest."""

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        if path in self:
            return self[path]
        for key, route in self.items():
            if key.endswith("*") and path.startswith(key[:-1]):
                return route
        return default


class HitLog:
    """When each path was asked for (monotonic seconds), across the server's threads."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    def add(self, path: str) -> None:
        with self.lock:
            self.hits.append((path, time.monotonic()))

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for path, _ in self.hits if path.startswith(prefix))


@dataclass
class CCNewsTree:
    """A CC-NEWS base on loopback: month listings and WARC files, served like the real one."""

    server: LoopbackServer = field(default_factory=LoopbackServer)
    files: dict[str, bytes] = field(default_factory=dict)  # path -> gzipped WARC
    slow: dict[str, float] = field(default_factory=dict)  # path -> seconds between pieces
    cut: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before hanging up
    log: HitLog = field(default_factory=HitLog)

    def add_file(self, path: str, data: bytes) -> None:
        self.files[path] = data

    def publish(self) -> None:
        """Write each month's warc.paths.gz from the files added, and route everything."""
        routes = PrefixRoutes()
        months: dict[str, list[str]] = {}
        for path in self.files:
            months.setdefault(path.rsplit("/", 1)[0], []).append(path)
        for month, paths in months.items():
            listing = gzip.compress(("\n".join(sorted(paths)) + "\n").encode())
            routes[f"/{month}/warc.paths.gz"] = Resource(listing, "application/octet-stream")
        routes["/crawl-data/*"] = self._file
        routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
        self.server.routes = routes

    def _file(self, path: str, headers: Mapping[str, str]) -> Resource:
        key = urlsplit(path).path.lstrip("/")
        self.log.add(key)
        data = self.files.get(key)
        if data is None:
            return Resource(b"not found", "text/plain", status=404)
        if key in self.cut:
            # The whole file's length declared, a part of it sent, then a clean close.
            return Resource(data[: self.cut[key]], "application/octet-stream", length=len(data))
        delay = self.slow.get(key)
        if delay is None:
            return Resource(data, "application/octet-stream")

        def pieces() -> Iterator[bytes]:
            for start in range(0, len(data), 256):
                time.sleep(delay)
                yield data[start : start + 256]

        return Resource(b"", "application/octet-stream", stream=pieces)


@dataclass
class WaybackServer:
    """A CDX API and ``id_`` captures on loopback; the first ``throttled`` captures get 429."""

    captures: list[tuple[str, str, bytes]] = field(default_factory=list)  # (timestamp, url, html)
    throttled: int = 0
    retry_after: int = 1
    server: LoopbackServer = field(default_factory=LoopbackServer)
    log: HitLog = field(default_factory=HitLog)
    cdx_queries: list[dict[str, list[str]]] = field(default_factory=list)

    def publish(self) -> None:
        """Route the CDX API and the captures."""
        routes = PrefixRoutes()
        routes["/cdx/search/cdx"] = self._cdx
        routes["/web/*"] = self._capture
        routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
        self.server.routes = routes

    def _cdx(self, path: str, headers: Mapping[str, str]) -> Resource:
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(urlsplit(path).query):
            query.setdefault(name, []).append(value)
        self.cdx_queries.append(query)
        domain = query["url"][0]
        low, high = query["from"][0], query["to"][0]
        rows: list[list[str]] = [["timestamp", "original", "mimetype", "statuscode"]]
        seen = set()
        for timestamp, url, _html in sorted(self.captures):
            host = urlsplit(url).hostname or ""
            if not (host == domain or host.endswith("." + domain)):
                continue
            if not low <= timestamp[: len(low)] or timestamp[: len(high)] > high:
                continue
            if url in seen:  # collapse=urlkey
                continue
            seen.add(url)
            rows.append([timestamp, url, "text/html", "200"])
        # Two pages, to follow the resume key: the first capture, then the rest.
        resume = query.get("resumeKey", [None])[0]
        if resume is None and len(rows) > 2:
            rows = [*rows[:2], [], ["page2"]]
        elif resume == "page2":
            rows = [rows[0], *rows[2:]]
        return Resource(json.dumps(rows).encode(), "application/json")

    def _capture(self, path: str, headers: Mapping[str, str]) -> Resource:
        self.log.add(path)
        if self.throttled > 0:
            self.throttled -= 1
            return Resource(
                b"slow down",
                "text/plain",
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        rest = urlsplit(path).path.removeprefix("/web/")
        timestamp, _, url = rest.partition("id_/")
        for stamp, captured, html in self.captures:
            if stamp == timestamp and captured == url:
                return Resource(
                    html,
                    "text/html; charset=utf-8",
                    headers={
                        "X-Archive-Orig-Server": "publisher/1.0",
                        "X-Archive-Orig-Content-Length": str(len(html)),
                        "Memento-Datetime": "x",
                    },
                )
        return Resource(b"no capture", "text/plain", status=404)


def serve_all(*servers: LoopbackServer) -> Callable[[], None]:
    """Start servers; return the function that stops them all."""
    for server in servers:
        server.start()

    def stop() -> None:
        for server in servers:
            server.stop()

    return stop
