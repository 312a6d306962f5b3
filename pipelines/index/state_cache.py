"""The local copy of an archive's SQLite index: where it lives and what it holds.

Its ``meta`` rows are the cache's own account of which base and segments of the archive's
manifest it holds; the manifest and the marker of an archive from before segments are
read here too. Fetching is in ``state_fetch.py``, publishing in ``state_publish.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.archive.stores import KeyNotFound, Store
from pipelines.index.manifest import MANIFEST_KEY, CacheState, Manifest

logger = logging.getLogger(__name__)

STATE_KEY = "_state/index.sqlite3"
GENERATION_KEY = "_state/index.json"  # the marker of an archive from before segments
HASH_BUFFER = 1024 * 1024


def cache_dir() -> Path:
    """Return where S3 archives keep their local index cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wirearchive"


def state_path(store: Store, cache: Path | None = None) -> Path:
    """Return the local path of an archive's index: inside a local archive, else a cache."""
    local = store.local_path(STATE_KEY)
    if local is not None:
        return local
    digest = hashlib.sha256(store.uri.encode("utf-8")).hexdigest()[:16]
    return (cache or cache_dir()) / digest / "index.sqlite3"


def file_sha256(path: Path) -> str:
    """Return a file's sha256, reading it in pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_BUFFER):
            digest.update(chunk)
    return digest.hexdigest()


# -- the manifest, and the cache's own account of what it holds ----------------------------


def read_manifest(store: Store) -> tuple[Manifest | None, str | None]:
    """Return the archive's manifest and its version tag, (None, None) if there is none."""
    try:
        data, tag = store.get_tagged(MANIFEST_KEY)
    except KeyNotFound:
        return None, None
    return Manifest.decode(data), tag


def cache_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """Return the index's meta rows ({} when it has none)."""
    try:
        return {str(k): str(v) for k, v in conn.execute("SELECT name, value FROM meta")}
    except sqlite3.DatabaseError:  # no meta table, or not a database: rebuild from the archive
        return {}


def cache_state(meta: dict[str, str]) -> CacheState:
    """Return which base and segments of the archive a cache with these meta rows holds."""
    applied = tuple(json.loads(meta.get("state_segments", "[]")))
    return CacheState(meta.get("instance"), meta.get("state_base"), applied)


def set_meta(conn: sqlite3.Connection, values: dict[str, str | None]) -> None:
    """Write meta rows; a None value deletes the row."""
    for name, value in values.items():
        if value is None:
            conn.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction of an autocommit connection: committed whole or rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass(frozen=True)
class Generation:
    """Which copy of an archive's index a file is: the archive's instance, and a counter."""

    instance: str | None
    number: int


def legacy_generation(store: Store) -> Generation | None:
    """Return the generation marker of an archive from before segments, None if absent."""
    try:
        marker = json.loads(store.get(GENERATION_KEY))
        return Generation(marker.get("instance"), int(marker["generation"]))
    except KeyNotFound:
        return None
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning(
            "unreadable %s in %s; treating the archive index as absent", GENERATION_KEY, store.uri
        )
        return None
