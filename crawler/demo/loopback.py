"""Serve a table of routes over real HTTP on 127.0.0.1 (the demo site and test fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Resource:
    """One response: status, body bytes and headers.

    ``stream``, when set, replaces ``body``: a function returning the body's pieces, sent
    with chunked transfer coding and no Content-Length as they come (a generator may
    sleep between pieces to play a slow or stalled server). ``length``, when set, is the
    Content-Length declared instead of the body's: a longer one plays a server that hangs
    up cleanly before the end.
    """

    body: bytes
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: Callable[[], Iterable[bytes]] | None = None
    length: int | None = None


# A route is a fixed resource, or a function of the request path and headers.
Route = Resource | Callable[[str, Mapping[str, str]], Resource]


class LoopbackServer:
    """A threaded HTTP server on loopback whose routes can be changed while it runs."""

    def __init__(
        self, routes: Mapping[str, Route] | None = None, port: int = 0, host: str = LOOPBACK
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client hung up: nothing to report

            def do_GET(self) -> None:
                server.requests.append(self.path)
                self._reply(send_body=True)

            def do_HEAD(self) -> None:
                self._reply(send_body=False)

            def _reply(self, *, send_body: bool) -> None:
                path = urlsplit(self.path).path
                route = server.routes.get(path) or server.routes.get(self.path)
                if route is None:
                    resource = Resource(b"not found", "text/plain", status=404)
                elif isinstance(route, Resource):
                    resource = route
                else:
                    resource = route(self.path, dict(self.headers.items()))
                self.send_response(resource.status)
                if resource.content_type is not None:
                    self.send_header("Content-Type", resource.content_type)
                for name, value in resource.headers.items():
                    self.send_header(name, value)
                try:
                    if resource.stream is None:
                        length = len(resource.body) if resource.length is None else resource.length
                        self.send_header("Content-Length", str(length))
                        self.end_headers()
                        if send_body:
                            self.wfile.write(resource.body)
                        # Short of what was declared: hang up, as a server cut off would.
                        self.close_connection |= length != len(resource.body)
                        return
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if send_body:
                        self._stream(resource.stream())
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout, size limit)

            def _stream(self, pieces: Iterable[bytes]) -> None:
                for piece in pieces:
                    if piece:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, format: str, *args: object) -> None:
                """Keep the terminal quiet; the crawler reports what it fetched."""

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        # Polled every 50 ms for shutdown (the default 0.5 s is what each stop() waited).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """Return the server's root URL, such as ``http://127.0.0.1:8123``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on this server."""
        return self.base_url + path

    def start(self) -> LoopbackServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        """Serve for the duration of a ``with`` block."""
        self.start()
        try:
            yield self
        finally:
            self.stop()
