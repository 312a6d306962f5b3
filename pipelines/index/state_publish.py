"""End of a run: ship what it learned to an S3 archive's index (see ``sync.py``)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pipelines.archive.stores import KeyNotFound, Store, StoreError
from pipelines.index import journal
from pipelines.index.manifest import (
    BASE_PREFIX,
    MANIFEST_KEY,
    SEGMENT_PREFIX,
    Manifest,
    ManifestError,
    StateObject,
    object_key,
    should_compact,
)
from pipelines.index.state_cache import (
    GENERATION_KEY,
    STATE_KEY,
    cache_meta,
    cache_state,
    file_sha256,
    legacy_generation,
    read_manifest,
    set_meta,
    transaction,
)

if TYPE_CHECKING:
    from pipelines.index.sqlite import StateIndex

logger = logging.getLogger(__name__)

SQLITE_TYPE = "application/vnd.sqlite3"
SEGMENT_TYPE = "application/gzip"
# The crash tests set this to a step's name to have the process SIGKILL itself right there.
KILL_AT_ENV = "WIREARCHIVE_STATE_KILL_AT"


class StateConflict(StoreError):
    """Another run wrote the archive's index since this one read it: this run must not."""


def checkpoint(step: str) -> None:
    """A named step of a state write: the crash tests kill the process here (a real kill)."""
    if os.environ.get(KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class SyncReport:
    """What ``sync_state`` wrote: for logs and tests."""

    segment: str | None = None
    base: str | None = None
    bytes: int = 0
    deleted: int = 0


def sync_state(index: StateIndex, store: Store, *, rebuild: bool = False) -> SyncReport:
    """Ship the run's changes to a remote archive (a no-op for a local archive).

    ``rebuild``: write the whole index as a fresh base (``verify --repair``), whatever the
    archive holds.
    """
    report = SyncReport()
    if store.local_path(STATE_KEY) is not None:
        return report
    try:
        data, tag = store.get_tagged(MANIFEST_KEY)
    except KeyNotFound:
        manifest, tag = None, None
    else:
        try:
            manifest = Manifest.decode(data)
        except ManifestError:
            if not rebuild:
                raise
            manifest = None
    if manifest is None or rebuild:
        _publish_base(index, store, manifest, tag, report, fold=not rebuild)
        return report
    _check_current(index, store, manifest)
    if journal.pending_changes(index.conn):
        manifest, tag = _publish_segment(index, store, manifest, tag, report)
    if should_compact(manifest):
        _publish_base(index, store, manifest, tag, report)
    return report


def _check_current(index: StateIndex, store: Store, manifest: Manifest) -> None:
    cache = cache_state(cache_meta(index.conn))
    current = (cache.instance, cache.base, cache.applied) == (
        manifest.instance,
        manifest.base.key,
        tuple(s.key for s in manifest.segments),
    )
    if not current:
        raise StateConflict(
            f"the index of archive {store.uri} changed since this run started (now generation "
            f"{manifest.generation}): another run wrote it, so this one lost the lock; its "
            "changes stay in the local cache and its pages in the archive"
        )


def _publish_segment(
    index: StateIndex, store: Store, manifest: Manifest, tag: str | None, report: SyncReport
) -> tuple[Manifest, str | None]:
    conn = index.conn
    through = journal.last_change(conn)
    key = object_key(SEGMENT_PREFIX, manifest.generation + 1, ".sqlite3.gz")
    with tempfile.TemporaryDirectory(dir=index.path.parent) as folder:
        local = Path(folder) / "segment.gz"
        rows = journal.build_segment(conn, local, through)
        segment = StateObject(key, local.stat().st_size, file_sha256(local))
        with transaction(conn):
            set_meta(conn, {"state_pending": json.dumps({"key": key, "through": through})})
        store.upload_file(key, local, content_type=SEGMENT_TYPE)
    checkpoint("segment-written")
    new = manifest.with_segment(segment)
    new_tag = _replace_manifest(store, new, tag)
    if new_tag is None:
        with transaction(conn):
            set_meta(conn, {"state_pending": None})
        _withdraw(store, key, "wrote it", "; this run's changes stay in the local cache")
    _manifest_written(
        conn,
        through,
        {
            "state_pending": None,
            "state_segments": json.dumps([s.key for s in new.segments]),
            "generation": str(new.generation),
        },
    )
    logger.info("index: %d rows in segment %s (%d bytes)", rows, key, segment.size)
    report.segment, report.bytes = key, report.bytes + segment.size
    return new, new_tag


def _publish_base(
    index: StateIndex,
    store: Store,
    manifest: Manifest | None,
    tag: str | None,
    report: SyncReport,
    *,
    fold: bool = True,
) -> None:
    """Compact: the whole index as a new base, then the manifest, then delete the old.

    ``fold``: the manifest's segments are folded into the new base, and stay listed as
    retired for caches that applied some of them; False (a repair) lists nothing retired.
    """
    conn = index.conn
    instance = _instance(index, store, manifest)
    generation = 1 + max(
        manifest.generation if manifest is not None else 0,
        int(index.get_meta("generation") or 0),
    )
    key = object_key(BASE_PREFIX, generation, ".sqlite3")
    through = journal.last_change(conn)
    with tempfile.TemporaryDirectory(dir=index.path.parent) as folder:
        local = Path(folder) / "base.sqlite3"
        _write_base(conn, local)
        base = StateObject(key, local.stat().st_size, file_sha256(local))
        store.upload_file(key, local, content_type=SQLITE_TYPE)
    checkpoint("base-written")
    if manifest is None or not fold:
        new = Manifest(instance, generation, base)
    else:
        new = manifest.compacted(base, generation)
    new_tag = _replace_manifest(store, new, tag)
    if new_tag is None:
        _withdraw(store, key, "compacted it")
    _manifest_written(
        conn,
        through,
        {
            "instance": instance,
            "generation": str(new.generation),
            "state_base": key,
            "state_segments": "[]",
            "state_pending": None,
        },
    )
    checkpoint("cache-updated")
    logger.info("index: compacted into base %s (%d bytes)", key, base.size)
    report.base, report.bytes = key, report.bytes + base.size
    report.deleted = sweep(store, new)


def _instance(index: StateIndex, store: Store, manifest: Manifest | None) -> str:
    """The archive index's identity: the manifest's, else the cache's or the migrated
    index's (an archive from before segments), else a new one (a fresh archive)."""
    return (
        (manifest.instance if manifest is not None else None)
        or index.get_meta("instance")
        or (legacy.instance if (legacy := legacy_generation(store)) else None)
        or uuid.uuid4().hex
    )


def _write_base(conn: sqlite3.Connection, target: Path) -> None:
    """Write a compact copy of the index to ``target`` with nothing of this cache's own:
    no meta rows about its copy, no journal (each cache journals its own changes)."""
    conn.execute("VACUUM INTO ?", (str(target),))
    copy = sqlite3.connect(target, isolation_level=None)
    try:
        local_meta = ", ".join("?" * len(journal.LOCAL_META))
        copy.execute(f"DELETE FROM meta WHERE name IN ({local_meta})", journal.LOCAL_META)  # noqa: S608
        journal.disable(copy)
    finally:
        copy.close()


def _manifest_written(conn: sqlite3.Connection, through: int, meta: dict[str, str | None]) -> None:
    """The manifest names what this run uploaded: drop the journal it holds, note the state."""
    checkpoint("manifest-written")
    with transaction(conn):
        journal.trim(conn, through)
        set_meta(conn, meta)


def _withdraw(store: Store, key: str, doing: str, outcome: str = "") -> NoReturn:
    """The manifest swap was lost: delete the object this run uploaded for it, and stop."""
    with contextlib.suppress(StoreError):
        store.delete(key)
    raise StateConflict(
        f"the index of archive {store.uri} was replaced while this run {doing}: "
        f"another run holds the lock now{outcome}"
    )


def _replace_manifest(store: Store, new: Manifest, tag: str | None) -> str | None:
    """Write the manifest if it is still the version read (``tag``); return the new tag.

    A refusal is read back before it counts as a conflict: if the write went through but
    its answer was lost, boto3's retry is refused by our own new version, and deleting the
    objects it names would break the archive's index.
    """
    written = store.put_tagged(
        MANIFEST_KEY, new.encode(), expect=tag, content_type="application/json"
    )
    if written is not None:
        return written
    try:
        current, current_tag = read_manifest(store)
    except ManifestError:
        return None
    if current is not None and (current.generation, current.base, current.segments) == (
        new.generation,
        new.base,
        new.segments,
    ):
        return current_tag
    return None


def sweep(store: Store, manifest: Manifest) -> int:
    """Delete state objects the manifest does not name: folded, replaced or orphaned.

    Lists ``_state/base/`` and ``_state/segments/``: only compactions and repairs do this,
    under the lock, never a run's start. Return how many objects were deleted.
    """
    live = manifest.named()
    deleted = 0
    for key in (STATE_KEY, GENERATION_KEY):  # an archive from before segments, migrated
        if store.exists(key):
            store.delete(key)
            deleted += 1
    for prefix in (BASE_PREFIX, SEGMENT_PREFIX):
        for key in list(store.keys(prefix)):
            if key not in live:
                store.delete(key)
                deleted += 1
                checkpoint("swept-one")
    return deleted
