"""Start of a run: bring the local cache up to an S3 archive's index (see ``sync.py``)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.archive.stores import KeyNotFound, Store, StoreError
from pipelines.index import journal
from pipelines.index.manifest import (
    MANIFEST_KEY,
    CacheState,
    Manifest,
    ManifestError,
    StateObject,
    catch_up,
)
from pipelines.index.state_cache import (
    STATE_KEY,
    Generation,
    cache_meta,
    cache_state,
    file_sha256,
    legacy_generation,
    read_manifest,
    set_meta,
    transaction,
)

logger = logging.getLogger(__name__)

# Objects up to this size are fetched with one GET into memory; larger ones are streamed.
SMALL_OBJECT = 8 * 1024 * 1024


class StateBroken(StoreError):
    """The archive's index objects cannot be read; ``verify --repair`` rebuilds them."""


def _drop(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _journaled(conn: sqlite3.Connection) -> int:
    try:
        return journal.pending_changes(conn)
    except sqlite3.DatabaseError:  # no journal (a cache from before segments), or not a database
        return 0


@dataclass
class FetchReport:
    """What ``fetch_state`` did: for logs and tests."""

    rebuilt: bool = False
    segments: int = 0
    bytes: int = 0


def fetch_state(store: Store, path: Path, *, repair: bool = False) -> FetchReport:
    """Bring the cache at ``path`` up to a remote archive's index (a no-op when local).

    ``repair``: if the archive's index objects are damaged, start from an empty cache
    (``verify --repair`` then rebuilds the index from the archive's objects) instead of
    stopping with ``StateBroken``.
    """
    report = FetchReport()
    if store.local_path(STATE_KEY) is not None:
        return report
    try:
        manifest, _tag = read_manifest(store)
        if manifest is None:
            _fetch_legacy(store, path, report)
        else:
            _fetch(store, path, manifest, report)
    except (StateBroken, ManifestError) as err:
        if not repair:
            raise StateBroken(
                f"the index of archive {store.uri} is damaged ({err}); rebuild it from the "
                f"archive's objects: wirearchive verify --repair --archive {store.uri}"
            ) from err
        logger.warning("the archive index is damaged (%s): rebuilding it from scratch", err)
        _drop(path)
    return report


def _fetch(store: Store, path: Path, manifest: Manifest, report: FetchReport) -> None:
    if not path.exists():
        _rebuild(store, path, manifest, report)
        return
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")  # as StateIndex: WAL, no fsync per commit
    except sqlite3.DatabaseError:
        logger.warning("the index cache %s is unreadable: fetching it again", path)
        conn.close()
        _drop(path)
        _rebuild(store, path, manifest, report)
        return
    try:
        cache = _adopt_pending(conn, cache_meta(conn), manifest)
        plan = catch_up(cache, manifest)
        unsynced = _journaled(conn)
        drop = bool(unsynced and (plan.rebuild or plan.segments))
        if drop:
            # A run here was killed before it shipped its changes, and another machine has
            # written since (more segments, or compactions that replaced this cache's base):
            # the two histories cannot be merged (near-dup row ids would clash).
            logger.warning(
                "dropping %d unsynced index changes of a killed run: the archive moved on "
                "without them (their pages are in the archive; verify --repair re-indexes them)",
                unsynced,
            )
        if plan.rebuild or drop:
            conn.close()
            _drop(path)
            _rebuild(store, path, manifest, report)
            return
        if plan.segments:
            logger.info("applying %d new index segment(s) from %s", len(plan.segments), store.uri)
        base, applied = _settled(manifest, cache.base, list(cache.applied))
        for segment in plan.segments:
            _apply(store, conn, segment, path.parent, report)
            base, applied = _settled(manifest, base, [*applied, segment.key])
            _write_progress(conn, manifest, base, applied)
        _write_progress(conn, manifest, base, applied)
    finally:
        conn.close()


def _settled(
    manifest: Manifest, base: str | None, applied: list[str]
) -> tuple[str | None, list[str]]:
    """Return (base, applied) with a cache of the old base that applied every folded
    segment counted as a cache of the new base that applied none."""
    folded = [s.key for s in manifest.retired]
    if base == manifest.retired_base and base != manifest.base.key and applied == folded:
        return manifest.base.key, []
    return base, applied


def _write_progress(
    conn: sqlite3.Connection, manifest: Manifest, base: str | None, applied: list[str]
) -> None:
    done = base == manifest.base.key and applied == [s.key for s in manifest.segments]
    with transaction(conn):
        set_meta(
            conn,
            {
                "state_base": base,
                "state_segments": json.dumps(applied),
                "generation": str(manifest.generation) if done else None,
            },
        )


def _adopt_pending(
    conn: sqlite3.Connection, meta: dict[str, str], manifest: Manifest
) -> CacheState:
    """Settle a segment this cache was shipping when its run was killed.

    If the manifest lists it next, it is this cache's own: mark it applied and forget the
    journal entries it holds. If not, the manifest write never happened: the journal still
    holds the changes and the next segment ships them.
    """
    cache = cache_state(meta)
    pending = meta.get("state_pending")
    if pending is None:
        return cache
    shipped = json.loads(pending)
    plan = catch_up(cache, manifest)
    adopted = bool(not plan.rebuild and plan.segments and plan.segments[0].key == shipped["key"])
    with transaction(conn):
        set_meta(conn, {"state_pending": None})
        if adopted:
            journal.trim(conn, int(shipped["through"]))
    if not adopted:
        return cache
    base, applied = _settled(manifest, cache.base, [*cache.applied, shipped["key"]])
    _write_progress(conn, manifest, base, applied)
    return CacheState(cache.instance, base, tuple(applied))


def _rebuild(store: Store, path: Path, manifest: Manifest, report: FetchReport) -> None:
    """Download the base and every segment into a new file, then put it in place."""
    logger.info(
        "fetching the archive index (generation %d: a %d-byte base and %d segment(s)) from %s",
        manifest.generation,
        manifest.base.size,
        len(manifest.segments),
        store.uri,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    incoming = path.with_name(path.name + ".incoming")
    _drop(incoming)
    try:
        _download(store, manifest.base.key, incoming, manifest.base, check_hash=False)
        report.rebuilt, report.bytes = True, report.bytes + manifest.base.size
        conn = sqlite3.connect(incoming, isolation_level=None)
        # Not in place yet: a crash leaves a file the next start discards, so no journal
        # and no fsync per segment; one fsync before the rename below.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        try:
            with transaction(conn):
                set_meta(conn, {"instance": manifest.instance})
            for segment in manifest.segments:
                _apply(store, conn, segment, path.parent, report)
            _write_progress(conn, manifest, manifest.base.key, [s.key for s in manifest.segments])
        finally:
            conn.close()
        with incoming.open("rb+") as handle:
            os.fsync(handle.fileno())
    except BaseException:
        _drop(incoming)
        raise
    _drop(path)
    incoming.replace(path)


def _download(
    store: Store, key: str, target: Path, expected: StateObject, *, check_hash: bool
) -> None:
    try:
        if expected.size <= SMALL_OBJECT:
            target.write_bytes(store.get(key))  # one request, not the transfer manager's two
        else:
            store.download_file(key, target)
    except KeyNotFound as err:
        raise StateBroken(f"{key} is named by {MANIFEST_KEY} but missing") from err
    size = target.stat().st_size
    if size != expected.size:
        raise StateBroken(f"{key} has {size} bytes, the manifest says {expected.size}")
    # The base is checked by size only: hashing a GB would double a fresh start's time, and
    # S3 checks the transfer itself. A segment is small: its hash guards against a mix-up.
    if check_hash and file_sha256(target) != expected.sha256:
        raise StateBroken(f"{key} does not match its sha256 in the manifest")


def _apply(
    store: Store,
    conn: sqlite3.Connection,
    segment: StateObject,
    scratch: Path,
    report: FetchReport,
) -> None:
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        local = Path(folder) / "segment.gz"
        _download(store, segment.key, local, segment, check_hash=True)
        try:
            journal.apply_segment(conn, local)
        except (sqlite3.DatabaseError, OSError, EOFError) as err:
            raise StateBroken(f"{segment.key} cannot be applied: {err}") from err
    report.segments += 1
    report.bytes += segment.size


def _fetch_legacy(store: Store, path: Path, report: FetchReport) -> None:
    """An archive from before segments: one whole index and its generation marker."""
    remote = legacy_generation(store)
    local = _local_generation(path)
    if _stale_cache(local, remote):
        _drop(path)
        local = None
    if remote is not None and local is None:
        logger.info("fetching the archive index (generation %d) from %s", remote.number, store.uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        incoming = path.with_name(path.name + ".incoming")
        try:
            store.download_file(STATE_KEY, incoming)
        except BaseException:
            incoming.unlink(missing_ok=True)
            raise
        report.rebuilt, report.bytes = True, incoming.stat().st_size
        incoming.replace(path)


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
