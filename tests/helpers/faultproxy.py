"""An HTTP proxy in front of the test S3 server that injects faults: throttling, outages.

The S3 client is pointed at the proxy (AWS_ENDPOINT_URL_S3), which forwards each request
unchanged (same Host header, so SigV4 signatures still verify) unless a fault rule says
otherwise. Faults are real HTTP answers or real closed connections, not patched clients.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FaultProxy:
    """Forward to ``upstream``; some PUTs answer 503 SlowDown, or are dropped after a while.

    By default only writes fail: the bucket stops accepting objects (an outage of the write
    path, a quota) while reads and deletes still work. With ``outage_deletes``, deletes fail
    with the writes, so a run cannot release its lock either (a full outage at its end).
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.throttle_every = 0  # every Nth PUT answers 503 SlowDown (0: never)
        self.fail_after_puts: int | None = None  # after N PUTs, every PUT is dropped
        self.outage_deletes = False  # once PUTs are dropped, drop DELETEs too
        self.puts = 0
        self.throttled = 0
        self.dropped = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of each request, in order
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                verdict = proxy.decide(self.command, self.path)
                if verdict == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if verdict == "throttle":
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(SLOW_DOWN)
                    return
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    upstream.request(self.command, self.path, body, dict(self.headers.items()))
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def decide(self, method: str, path: str = "") -> str:
        """Return what to do with one request: forward, throttle or drop."""
        with self.lock:
            self.requests.append((method, path))
            outage = self.fail_after_puts is not None and self.puts >= self.fail_after_puts
            if method == "DELETE" and outage and self.outage_deletes:
                self.dropped += 1
                return "drop"
            if method != "PUT":
                return "forward"
            if outage:
                self.dropped += 1
                return "drop"
            self.puts += 1
            if self.throttle_every and self.puts % self.throttle_every == 0:
                self.throttled += 1
                return "throttle"
            return "forward"

    @contextmanager
    def running(self) -> Iterator[FaultProxy]:
        """Serve while the block runs."""
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
