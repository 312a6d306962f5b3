"""Storage behind one small protocol, chosen by the archive URI's scheme: local folder or S3."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Temp files start with this and end with TEMP_SUFFIX so keys() can tell them from objects.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
S3_MAX_ATTEMPTS = 5
S3_CONNECT_TIMEOUT = 10
S3_POOL_CONNECTIONS = 32
S3_READ_TIMEOUT = 60
# Files (the archive index's base, tens to thousands of MB) go in parts: memory stays at about
# chunk x concurrency whatever the file's size, and one object may exceed one PUT's 5 GB.
S3_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024,
    multipart_chunksize=16 * 1024 * 1024,
    max_concurrency=4,
)
# Error codes S3-compatible servers use when a conditional create lost the race.
S3_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
S3_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
S3_UNAVAILABLE_CODES = {
    "NoSuchBucket",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidBucketName",
    "403",
    "ExpiredToken",
    "InvalidToken",
}


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


class LocalStore:
    """Objects as files under a root folder, written whole via temp file and rename/link."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()
        self.uri = str(self.root)

    def local_path(self, key: str) -> Path:
        """Return the file path that holds the key."""
        return self.root / validate_key(key)

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        overwrite: bool = False,
    ) -> bool:
        """Write data under key whole; return False if it exists and overwrite is False."""
        path = self.local_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                prefix=TEMP_PREFIX + path.name + ".", suffix=TEMP_SUFFIX, dir=path.parent
            )
        except OSError as err:
            raise StoreUnavailable(
                f"cannot write under {path.parent}: {err}; check the folder and its permissions"
            ) from err
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                # fsync before the rename so a crash never leaves a visible but empty file.
                os.fsync(handle.fileno())
            if overwrite:
                os.replace(tmp_name, path)  # noqa: PTH105 - mkstemp gives a str path; os.* keeps the steps alike
                return True
            try:
                # link() fails if the target exists: an atomic create-if-absent.
                os.link(tmp_name, path)
            except FileExistsError:
                return False
            return True
        except OSError as err:
            raise StoreError(
                f"cannot write {path}: {err}; check free space and permissions"
            ) from err
        finally:
            # After a link or a failure the temp file is still there; after replace it is gone.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)  # noqa: PTH108 - mkstemp gives a str path; os.* keeps the steps alike

    def get(self, key: str) -> bytes:
        """Return the bytes stored under key."""
        path = self.local_path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as err:
            raise KeyNotFound(f"no object {key!r} in {self.uri}") from err
        except OSError as err:
            raise StoreError(f"cannot read {path}: {err}; check permissions") from err

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under key."""
        return self.local_path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the object under key, if any."""
        with contextlib.suppress(FileNotFoundError):
            self.local_path(key).unlink()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Yield every key that starts with prefix, skipping temp files."""
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    yield key

    def upload_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        """Copy a file under key (streamed; replaces any object there)."""
        target = self.local_path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                prefix=TEMP_PREFIX + target.name + ".", suffix=TEMP_SUFFIX, dir=target.parent
            )
            with os.fdopen(fd, "wb") as handle, path.open("rb") as source:
                shutil.copyfileobj(source, handle, 1024 * 1024)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)  # noqa: PTH105 - mkstemp gives a str path
        except OSError as err:
            raise StoreError(
                f"cannot write {target}: {err}; check free space and permissions"
            ) from err

    def download_file(self, key: str, path: Path) -> None:
        """Copy the object under key to a file (streamed)."""
        source = self.local_path(key)
        try:
            shutil.copyfile(source, path)
        except (FileNotFoundError, IsADirectoryError) as err:
            if not source.is_file():
                raise KeyNotFound(f"no object {key!r} in {self.uri}") from err
            raise StoreError(f"cannot write {path}: {err}; check the folder") from err
        except OSError as err:
            raise StoreError(f"cannot copy {source} to {path}: {err}") from err

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """Return the object under key and its version tag (a hash of its bytes)."""
        data = self.get(key)
        return data, hashlib.sha256(data).hexdigest()

    def put_tagged(
        self,
        key: str,
        data: bytes,
        *,
        expect: str | None,
        content_type: str = "application/octet-stream",
    ) -> str | None:
        """Write key only if its version is still ``expect`` (None: only if absent).

        Return the new version's tag, or None when another writer got there first. The
        folder is locked (flock) between the comparison and the rename.
        """
        path = self.local_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            folder = os.open(path.parent, os.O_RDONLY)
        except OSError as err:
            raise StoreUnavailable(f"cannot write under {path.parent}: {err}") from err
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            try:
                current: str | None = self.get_tagged(key)[1]
            except KeyNotFound:
                current = None
            if current != expect:
                return None
            self.put(key, data, content_type=content_type, overwrite=True)
            return hashlib.sha256(data).hexdigest()
        finally:
            os.close(folder)  # releases the flock

    def sweep_temporary(self) -> int:
        """Delete temp files a killed writer left behind; call it only under the run lock."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                    (Path(dirpath) / name).unlink(missing_ok=True)
                    removed += 1
        return removed

    def check(self) -> None:
        """Create the root folder and make sure a file can be written there."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX):
                pass
        except OSError as err:
            raise StoreUnavailable(
                f"archive folder {self.root} is not writable: {err}; "
                "fix the path or its permissions"
            ) from err


class S3Store:
    """Objects in an S3 bucket under a prefix, through boto3's standard configuration."""

    def __init__(self, uri: str) -> None:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise StoreError(f"invalid S3 URI {uri!r}: use s3://bucket/prefix")
        self.uri = uri
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._client: S3Client | None = None
        # boto3 clients are thread-safe once built, but building one is not.
        self._lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        """Return the store's boto3 client, creating it on first use."""
        with self._lock:
            if self._client is None:
                # AWS_MAX_ATTEMPTS, when set, wins: boto3's own chain stays in charge.
                attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or S3_MAX_ATTEMPTS)
                config = Config(
                    retries={"max_attempts": attempts, "mode": "standard"},
                    connect_timeout=S3_CONNECT_TIMEOUT,
                    read_timeout=S3_READ_TIMEOUT,
                    # One client per process serves every writer thread (see ArchivePipeline).
                    max_pool_connections=S3_POOL_CONNECTIONS,
                )
                self._client = boto3.session.Session().client("s3", config=config)
            return self._client

    def local_path(self, key: str) -> Path | None:
        """Return None: S3 objects have no local file."""
        validate_key(key)
        return None

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _endpoint(self) -> str:
        return (
            os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or "AWS default endpoint"
        )

    def _error(self, err: Exception, action: str) -> StoreError:
        """Turn a boto3 error into a StoreError that says what to check (never secrets)."""
        where = f"s3://{self.bucket} at {self._endpoint()}"
        if isinstance(err, ClientError):
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in S3_MISSING_KEY_CODES:
                return KeyNotFound(f"{action}: no such object in {where}")
            if code in S3_UNAVAILABLE_CODES:
                return StoreUnavailable(
                    f"{action}: {code} for {where}; check the bucket exists and "
                    "AWS_ENDPOINT_URL_S3 / credentials allow access"
                )
            return StoreError(f"{action}: {code or err} from {where}")
        if isinstance(err, BotoCoreError):
            return StoreUnavailable(
                f"{action}: cannot reach {where} ({type(err).__name__}); "
                "set AWS_ENDPOINT_URL_S3 / credentials and check the network"
            )
        return StoreError(f"{action}: {err}")

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        overwrite: bool = False,
    ) -> bool:
        """Upload data under key in one PUT; return False if it exists and overwrite is False."""
        full = self._key(key)
        try:
            if overwrite:
                self.client.put_object(
                    Bucket=self.bucket, Key=full, Body=data, ContentType=content_type
                )
            else:
                # The server decides who wins: no check-then-write race between workers.
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=full,
                    Body=data,
                    ContentType=content_type,
                    IfNoneMatch="*",
                )
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code", "")) in S3_CONFLICT_CODES:
                return False
            raise self._error(err, f"put {key!r}") from err
        except BotoCoreError as err:
            raise self._error(err, f"put {key!r}") from err
        return True

    def get(self, key: str) -> bytes:
        """Return the bytes stored under key."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, f"get {key!r}") from err

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under key."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as err:
            mapped = self._error(err, f"exists {key!r}")
            if isinstance(mapped, KeyNotFound):
                return False
            raise mapped from err
        return True

    def delete(self, key: str) -> None:
        """Remove the object under key, if any (S3 deletes are idempotent)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, f"delete {key!r}") from err

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Yield every key under the store's prefix that starts with prefix."""
        root = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=root + prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"][len(root) :]
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, f"list {prefix!r}") from err

    def upload_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        """Upload a file under key, in parts when large (boto3's transfer manager)."""
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                self._key(key),
                ExtraArgs={"ContentType": content_type},
                Config=S3_TRANSFER,
            )
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, f"upload {key!r}") from err
        except S3UploadFailedError as err:
            raise StoreError(f"upload {key!r}: {err}; check the endpoint and free space") from err

    def download_file(self, key: str, path: Path) -> None:
        """Download the object under key to a file, in parts when large."""
        try:
            self.client.download_file(self.bucket, self._key(key), str(path), Config=S3_TRANSFER)
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, f"download {key!r}") from err

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """Return the object under key and its ETag."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return answer["Body"].read(), str(answer["ETag"])
        except (ClientError, BotoCoreError) as err:
            raise self._error(err, f"get {key!r}") from err

    def put_tagged(
        self,
        key: str,
        data: bytes,
        *,
        expect: str | None,
        content_type: str = "application/octet-stream",
    ) -> str | None:
        """Write key only if its ETag is still ``expect`` (None: only if absent).

        The server decides (If-Match / If-None-Match): return the new ETag, or None when
        another writer replaced the object since it was read.
        """
        full = self._key(key)
        try:
            if expect is None:
                answer = self.client.put_object(
                    Bucket=self.bucket,
                    Key=full,
                    Body=data,
                    ContentType=content_type,
                    IfNoneMatch="*",
                )
            else:
                answer = self.client.put_object(
                    Bucket=self.bucket,
                    Key=full,
                    Body=data,
                    ContentType=content_type,
                    IfMatch=expect,
                )
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in S3_CONFLICT_CODES or code in S3_MISSING_KEY_CODES:
                return None
            raise self._error(err, f"put {key!r}") from err
        except BotoCoreError as err:
            raise self._error(err, f"put {key!r}") from err
        return str(answer["ETag"])

    def check(self) -> None:
        """Make sure the bucket exists and the credentials reach it."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as err:
            mapped = self._error(err, "check")
            if not isinstance(mapped, StoreUnavailable):
                # head_bucket answers a bare 404 for a missing bucket.
                mapped = StoreUnavailable(
                    f"bucket s3://{self.bucket} at {self._endpoint()} is missing or unreachable; "
                    "create it or fix AWS_ENDPOINT_URL_S3 / credentials"
                )
            raise mapped from err


def _local(uri: str) -> Store:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StoreError(
                f"unsupported file URI {uri!r}: use file:///absolute/path or a plain path"
            )
        return LocalStore(parts.path)
    return LocalStore(uri)


STORE_SCHEMES: dict[str, Callable[[str], Store]] = {"": _local, "file": _local, "s3": S3Store}


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
