"""The archive store as objects in an S3 bucket (see stores.py for the protocol)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pipelines.archive.stores import KeyNotFound, StoreError, StoreUnavailable, validate_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

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
