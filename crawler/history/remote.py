"""Read CC-NEWS over HTTP(S) through the address guard, or from S3 with boto3 unsigned.

Scrapy buffers a response whole; a CC-NEWS file is about a gigabyte, so files (and their
monthly listings) are streamed here, in worker threads, instead. The address guard's
decision is the crawl's: the host's addresses are resolved and judged by the same
Policy, and the connection goes to the address that was judged (no second lookup that
a rebinding name could answer differently).
"""

from __future__ import annotations

import gzip
import http.client
import io
import logging
import socket
import ssl
from collections.abc import Callable
from datetime import date
from typing import IO, Any, Protocol
from urllib.parse import urljoin, urlsplit

from crawler.downloadermiddlewares.address_guard import Policy
from crawler.history import ccnews

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_LISTING_BYTES = 64 * 1024 * 1024  # a month's warc.paths.gz is a few KB


class RemoteError(Exception):
    """A CC-NEWS listing or file could not be read; the message says which and why."""


class NotFound(RemoteError):
    """No such listing or file (a month CC-NEWS does not have)."""


class Refused(RemoteError):
    """The address guard refused the host."""


class Remote(Protocol):
    """Where CC-NEWS is read from: its listings and files, by path relative to the base."""

    def open(self, path: str) -> IO[bytes]:
        """Open a file for streaming; raise NotFound or RemoteError."""

    def read(self, path: str) -> bytes:
        """Read a small object whole; raise NotFound or RemoteError."""


class CountingStream(io.RawIOBase):
    """A byte stream that counts what was read and names a broken connection as such."""

    def __init__(self, raw: IO[bytes], on_close: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.raw = raw
        self.read_bytes = 0
        self.on_close = on_close

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.read_bytes

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # fastwarc asks where it is (seek(0, SEEK_CUR)); a stream cannot go anywhere else.
        if (offset, whence) in ((0, io.SEEK_CUR), (self.read_bytes, io.SEEK_SET)):
            return self.read_bytes
        raise io.UnsupportedOperation("a CC-NEWS stream is read forward only")

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.raw.read(size)
        except (OSError, http.client.HTTPException) as err:
            raise RemoteError(f"the connection broke after {self.read_bytes} bytes: {err}") from err
        if not data and size != 0:
            # http.client answers a clean close before Content-Length with b"" (no
            # IncompleteRead), which fastwarc takes for the file's end: say it broke.
            missing = getattr(self.raw, "length", None)
            if isinstance(missing, int) and missing > 0:
                raise RemoteError(
                    f"the connection closed after {self.read_bytes} bytes, {missing} short "
                    "of the Content-Length"
                )
        self.read_bytes += len(data)
        return data

    def close(self) -> None:
        super().close()
        self.raw.close()
        if self.on_close is not None:
            self.on_close()


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address judged beforehand, the certificate checked for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


class HttpRemote:
    """CC-NEWS over HTTP(S), such as https://data.commoncrawl.org/."""

    def __init__(self, base: str, policy: Policy, user_agent: str, timeout: float = 60.0) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.policy = policy
        self.user_agent = user_agent
        self.timeout = timeout

    def _address(self, host: str, port: int) -> str:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as err:
            raise RemoteError(f"{host} does not resolve: {err}") from err
        refusal = None
        for info in infos:
            address = str(info[4][0])
            reason = self.policy.reason(address)
            if reason is None:
                return address
            refusal = refusal or reason
        raise Refused(f"refused {host}: {refusal} (set allow_private_addresses: true to allow)")

    def _response(self, url: str) -> http.client.HTTPResponse:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RemoteError(f"{url} is not an http(s) URL")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = self._address(parts.hostname, port)
            connection: http.client.HTTPConnection
            if parts.scheme == "https":
                connection = _GuardedHTTPSConnection(parts.hostname, address, port, self.timeout)
            else:
                connection = http.client.HTTPConnection(address, port, timeout=self.timeout)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                # One request a connection: without "close", the server would hold the
                # connection open for a next request that never comes.
                connection.request(
                    "GET",
                    target,
                    headers={
                        "Host": parts.netloc,
                        "User-Agent": self.user_agent,
                        "Connection": "close",
                    },
                )
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as err:
                connection.close()
                raise RemoteError(f"{url}: {err}") from err
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                connection.close()
                continue
            if response.status == 404:
                connection.close()
                raise NotFound(f"{url}: 404 Not Found")
            if response.status != 200:
                connection.close()
                raise RemoteError(f"{url}: HTTP {response.status} {response.reason}")
            return response
        raise RemoteError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def open(self, path: str) -> IO[bytes]:
        """Open a file for streaming."""
        response: IO[bytes] = self._response(urljoin(self.base, path))
        return response

    def read(self, path: str) -> bytes:
        """Read a small object whole."""
        response = self._response(urljoin(self.base, path))
        try:
            data = response.read(MAX_LISTING_BYTES + 1)
        except (OSError, http.client.HTTPException) as err:
            raise RemoteError(f"{path}: {err}") from err
        finally:
            response.close()
        if len(data) > MAX_LISTING_BYTES:
            raise RemoteError(f"{path} is over {MAX_LISTING_BYTES} bytes")
        return data


class S3Remote:
    """CC-NEWS as s3://commoncrawl/ read without credentials (boto3's unsigned config)."""

    def __init__(self, uri: str) -> None:
        parts = urlsplit(uri)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._client: Any = None

    @property
    def client(self) -> Any:
        """One boto3 client, made on first use (in the thread that reads)."""
        if self._client is None:
            import boto3  # noqa: PLC0415 - only S3 readers need it loaded
            from botocore import UNSIGNED  # noqa: PLC0415
            from botocore.config import Config  # noqa: PLC0415

            self._client = boto3.client("s3", config=Config(signature_version=UNSIGNED))
        return self._client

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _get(self, path: str) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(path))["Body"]
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                raise NotFound(f"s3://{self.bucket}/{self._key(path)}: no such key") from err
            raise RemoteError(f"s3://{self.bucket}/{self._key(path)}: {code or err}") from err
        except BotoCoreError as err:
            raise RemoteError(f"s3://{self.bucket}/{self._key(path)}: {err}") from err

    def open(self, path: str) -> IO[bytes]:
        """Open a file for streaming."""
        body: IO[bytes] = self._get(path)
        return body

    def read(self, path: str) -> bytes:
        """Read a small object whole."""
        data: bytes = self._get(path).read()
        return data


def open_remote(base: str, policy: Policy, user_agent: str) -> Remote:
    """Return the reader of a CC-NEWS base: ``https://...`` or ``s3://bucket[/prefix]``."""
    if base.startswith("s3://"):
        return S3Remote(base)
    if not base.startswith(("http://", "https://")):
        raise RemoteError(f"WIREARCHIVE_CCNEWS_URL {base!r}: expected https://... or s3://bucket/")
    return HttpRemote(base, policy, user_agent)


def month_listing(remote: Remote, path: str) -> bytes:
    """Read and gunzip a month's ``warc.paths.gz``."""
    data = remote.read(path)
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as err:
        raise RemoteError(f"{path} is not gzip: {err}") from err


def range_files(remote: Remote, since: date, until: date) -> list[str]:
    """Return the CC-NEWS files of a date range, oldest first, from the months' listings."""
    paths: list[str] = []
    for year, month in ccnews.months(since, until):
        listing = ccnews.listing_path(year, month)
        try:
            paths += ccnews.read_listing(month_listing(remote, listing))
        except NotFound:
            logger.warning("CC-NEWS has no listing %s: no files that month", listing)
    return ccnews.pick_files(paths, since, until)
