"""Storage behind one small protocol, chosen by the archive URI's scheme: local folder or S3.

The stores themselves are in local_store.py and s3_store.py; each is imported when a URI of
its scheme is opened, so local-only users never load boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit


class StoreError(Exception):
    """A storage operation failed; the message says what to do next."""


class StoreUnavailable(StoreError):
    """The endpoint, bucket or folder cannot be reached or written."""


class KeyNotFound(StoreError):
    """No object is stored under the key."""


class InvalidKey(StoreError, ValueError):
    """The key is not a safe relative '/'-separated path."""


def validate_key(key: str) -> str:
    """Return the key if it is a safe relative '/'-separated path, else raise InvalidKey."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"invalid key {key!r}: use a non-empty relative path like 'runs/x.json'")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(f"invalid key {key!r}: no backslashes or NUL characters allowed")
    if key.startswith("/"):
        raise InvalidKey(f"invalid key {key!r}: keys are relative to the archive root")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidKey(f"invalid key {key!r}: no empty, '.' or '..' segments allowed")
    return key


class Store(Protocol):
    """Where archive objects live; keys are relative to the store's root."""

    uri: str

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        overwrite: bool = False,
    ) -> bool: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> Iterator[str]: ...
    def check(self) -> None: ...
    def local_path(self, key: str) -> Path | None: ...

    # -- files, streamed (never whole in memory) -----------------------------------------
    def upload_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None: ...
    def download_file(self, key: str, path: Path) -> None: ...

    # -- compare-and-swap: an object replaced only if it is still the version one read ------
    def get_tagged(self, key: str) -> tuple[bytes, str]: ...
    def put_tagged(
        self,
        key: str,
        data: bytes,
        *,
        expect: str | None,
        content_type: str = "application/octet-stream",
    ) -> str | None: ...


def _local(uri: str) -> Store:
    from pipelines.archive.local_store import LocalStore  # noqa: PLC0415 - local_store imports this module

    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StoreError(
                f"unsupported file URI {uri!r}: use file:///absolute/path or a plain path"
            )
        return LocalStore(parts.path)
    return LocalStore(uri)


def _s3(uri: str) -> Store:
    from pipelines.archive.s3_store import S3Store  # noqa: PLC0415 - only S3 users need boto3 loaded

    return S3Store(uri)


STORE_SCHEMES: dict[str, Callable[[str], Store]] = {"": _local, "file": _local, "s3": _s3}


def open_store(uri: str) -> Store:
    """Return the store for an archive URI: a plain path, file:///path or s3://bucket/prefix."""
    scheme = urlsplit(uri).scheme
    # A one-letter "scheme" is a Windows drive letter, not a URI scheme.
    if len(scheme) <= 1:
        scheme = ""
    factory = STORE_SCHEMES.get(scheme)
    if factory is None:
        known = ", ".join(sorted(s for s in STORE_SCHEMES if s))
        raise StoreError(
            f"unsupported archive scheme {scheme!r} in {uri!r}: use a path or one of {known}"
        )
    return factory(uri)
