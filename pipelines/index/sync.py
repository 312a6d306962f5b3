"""Where an archive's SQLite index lives, and its copy in a remote archive.

With a local archive the index lives inside it (``_state/index.sqlite3``); with an S3
archive it is a local cache of the object of the same key, fetched at the start of a run
when the cache is missing or older, and uploaded at the end, so a cron job in a fresh
container knows what earlier runs archived. A marker (``_state/index.json``) names the
archive's instance and a generation counter, so a cache can tell whether it is stale.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.archive.stores import KeyNotFound, Store

if TYPE_CHECKING:
    from pipelines.index.sqlite import StateIndex

logger = logging.getLogger(__name__)

STATE_KEY = "_state/index.sqlite3"
GENERATION_KEY = "_state/index.json"


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


@dataclass(frozen=True)
class Generation:
    """Which copy of an archive's index a file is: the archive's instance, and a counter."""

    instance: str | None
    number: int


def _remote_generation(store: Store) -> Generation | None:
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


def _local_generation(path: Path) -> Generation | None:
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return Generation(None, -1)  # unreadable: replace it
    return Generation(rows.get("instance"), int(rows.get("generation", 0)))


def _stale_cache(local: Generation | None, remote: Generation | None) -> bool:
    """Tell whether the local cache must give way to the archive's copy (or to nothing)."""
    if local is None:
        return False
    if remote is None:
        # The archive has no index: a cache that was synced to it once belongs to an archive
        # that has since been emptied or replaced, so it would claim pages that are gone.
        return local.instance is not None
    return local.instance != remote.instance or local.number < remote.number


def fetch_state(store: Store, path: Path) -> None:
    """Bring the cache at ``path`` up to a remote archive's index (a no-op when local)."""
    if store.local_path(STATE_KEY) is not None:
        return
    remote = _remote_generation(store)
    local = _local_generation(path)
    if _stale_cache(local, remote):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        local = None
    if remote is not None and local is None:
        logger.info("fetching the archive index (generation %d) from %s", remote.number, store.uri)
        data = store.get(STATE_KEY)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temp:
            temp.write(data)
        Path(temp.name).replace(path)


def sync_state(index: StateIndex, store: Store) -> None:
    """Upload the index of a remote archive (a no-op for a local archive)."""
    if store.local_path(STATE_KEY) is not None:
        return
    remote = _remote_generation(store)
    instance = index.get_meta("instance") or (remote.instance if remote else None)
    if not instance:
        instance = uuid.uuid4().hex
        index.set_meta("instance", instance)
    generation = max(remote.number if remote else 0, int(index.get_meta("generation") or 0)) + 1
    index.set_meta("generation", str(generation))
    with tempfile.TemporaryDirectory(dir=index.path.parent) as folder:
        copy = Path(folder) / "upload.sqlite3"
        index.snapshot(copy)
        store.put(
            STATE_KEY, copy.read_bytes(), content_type="application/vnd.sqlite3", overwrite=True
        )
    marker = {
        "instance": instance,
        "generation": generation,
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    store.put(
        GENERATION_KEY, json.dumps(marker).encode(), content_type="application/json", overwrite=True
    )
