"""The archive store as files under a local folder (see stores.py for the protocol)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipelines.archive.stores import (
    KeyNotFound,
    StoreError,
    StoreUnavailable,
    validate_key,
)

# Temp files start with this and end with TEMP_SUFFIX so keys() can tell them from objects.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"


def _temp_beside(path: Path) -> tuple[int, str]:
    """Create path's folder and an open temp file in it, named so keys() skips it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(
        prefix=TEMP_PREFIX + path.name + ".", suffix=TEMP_SUFFIX, dir=path.parent
    )


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
            fd, tmp_name = _temp_beside(path)
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
        """Yield every key that starts with prefix, skipping temp files.

        Only the folder the prefix names is walked (``articles/ap/2026/0`` walks
        ``articles/ap/2026``): a month's listing must not read the whole archive.
        """
        folder = self._listed_folder(prefix)
        if folder is None:
            return
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    yield key

    def _listed_folder(self, prefix: str) -> Path | None:
        """Return the deepest folder holding every key under prefix, or None if no key can be.

        Each step is checked as os.walk(root) would take it, which lists no key through a
        symlinked folder, a '.', '..' or empty segment: the subtree gives the same keys.
        """
        folder = self.root
        if not folder.is_dir():
            return None
        parts = prefix.rpartition("/")[0]
        for part in parts.split("/") if parts else ():
            if part in ("", ".", ".."):
                return None
            folder = folder / part
            if folder.is_symlink() or not folder.is_dir():
                return None
        return folder

    def upload_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> None:
        """Copy a file under key (streamed; replaces any object there)."""
        target = self.local_path(key)
        try:
            fd, tmp_name = _temp_beside(target)
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
