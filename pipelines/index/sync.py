"""Where an archive's SQLite index lives, and how an S3 archive keeps it: base + segments.

With a local archive the index lives inside it (``_state/index.sqlite3``) and nothing is
copied. With an S3 archive it is a local cache, and the archive holds (see ``manifest.py``):

* ``_state/manifest.json``: the live base, the ordered segments since, and the segments
  the last compaction folded in;
* ``_state/base/<generation>-<random>.sqlite3``: a whole index, written by a compaction;
* ``_state/segments/<generation>-<random>.sqlite3.gz``: what one run learned (``journal.py``).

At the start of a run (under the archive lock) ``fetch_state`` brings the cache up to the
manifest: a current cache costs one GET, a cache some runs behind fetches the segments it
lacks, an empty or unrelated one the base and every segment. At the end ``sync_state``
uploads the run's segment, then the manifest (a compare-and-swap on its ETag, so a run
that lost the lock cannot overwrite a newer one), then marks the segment as applied in the
cache. Past a threshold it compacts: a new base, then the manifest, and only then are the
old base and folded segments deleted. A run killed at any step leaves the manifest naming
only whole objects; an object it does not name is garbage the next compaction removes,
and the cache's journal still holds whatever the manifest does not, so the next run on the
same machine ships it again.

Archives written before segments existed hold ``_state/index.sqlite3`` and its marker
``_state/index.json``: they are read as before, and the first run that writes turns the
index into a base and a manifest and removes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.archive.stores import KeyNotFound, Store, StoreError
from pipelines.index import journal
from pipelines.index.manifest import (
    BASE_PREFIX,
    MANIFEST_KEY,
    SEGMENT_PREFIX,
    CacheState,
    Manifest,
    ManifestError,
    StateObject,
    catch_up,
    object_key,
    should_compact,
)

if TYPE_CHECKING:
    from pipelines.index.sqlite import StateIndex

logger = logging.getLogger(__name__)

STATE_KEY = "_state/index.sqlite3"
GENERATION_KEY = "_state/index.json"  # the marker of an archive from before segments
SQLITE_TYPE = "application/vnd.sqlite3"
SEGMENT_TYPE = "application/gzip"
# The crash tests set this to a step's name to have the process SIGKILL itself right there.
KILL_AT_ENV = "WIREARCHIVE_STATE_KILL_AT"
HASH_BUFFER = 1024 * 1024
# Objects up to this size are fetched with one GET into memory; larger ones are streamed.
SMALL_OBJECT = 8 * 1024 * 1024


class StateConflict(StoreError):
    """Another run wrote the archive's index since this one read it: this run must not."""


class StateBroken(StoreError):
    """The archive's index objects cannot be read; ``verify --repair`` rebuilds them."""


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


def checkpoint(step: str) -> None:
    """A named step of a state write: the crash tests kill the process here (a real kill)."""
    if os.environ.get(KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


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


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in conn.execute("SELECT name, value FROM meta")}
    except sqlite3.DatabaseError:  # no meta table, or not a database: rebuild from the archive
        return {}


def _cache_state(meta: dict[str, str]) -> CacheState:
    applied = tuple(json.loads(meta.get("state_segments", "[]")))
    return CacheState(meta.get("instance"), meta.get("state_base"), applied)


def _set_meta(conn: sqlite3.Connection, values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            conn.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _drop(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _journaled(conn: sqlite3.Connection) -> int:
    try:
        return journal.pending_changes(conn)
    except sqlite3.DatabaseError:  # no journal (a cache from before segments), or not a database
        return 0


# -- start of a run: bring the cache up to the archive ---------------------------------------


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
        cache = _adopt_pending(conn, _meta(conn), manifest)
        plan = catch_up(cache, manifest)
        unsynced = _journaled(conn)
        if not plan.rebuild and plan.segments and unsynced:
            # A run here was killed before it shipped its changes, and another machine has
            # written since: the two histories cannot be merged (near-dup row ids would clash).
            logger.warning(
                "dropping %d unsynced index changes of a killed run: the archive moved on "
                "without them (their pages are in the archive; verify --repair re-indexes them)",
                unsynced,
            )
        if plan.rebuild or (plan.segments and unsynced):
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
    with _transaction(conn):
        _set_meta(
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
    cache = _cache_state(meta)
    pending = meta.get("state_pending")
    if pending is None:
        return cache
    shipped = json.loads(pending)
    plan = catch_up(cache, manifest)
    adopted = bool(not plan.rebuild and plan.segments and plan.segments[0].key == shipped["key"])
    with _transaction(conn):
        _set_meta(conn, {"state_pending": None})
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
            with _transaction(conn):
                _set_meta(conn, {"instance": manifest.instance})
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
    remote = _legacy_generation(store)
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


@dataclass(frozen=True)
class Generation:
    """Which copy of an archive's index a file is: the archive's instance, and a counter."""

    instance: str | None
    number: int


def _legacy_generation(store: Store) -> Generation | None:
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


# -- end of a run: ship what it learned ----------------------------------------------------


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
    cache = _cache_state(_meta(index.conn))
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
        with _transaction(conn):
            _set_meta(conn, {"state_pending": json.dumps({"key": key, "through": through})})
        store.upload_file(key, local, content_type=SEGMENT_TYPE)
    checkpoint("segment-written")
    new = manifest.with_segment(segment)
    new_tag = _replace_manifest(store, new, tag)
    if new_tag is None:
        with _transaction(conn):
            _set_meta(conn, {"state_pending": None})
        with contextlib.suppress(StoreError):
            store.delete(key)
        raise StateConflict(
            f"the index of archive {store.uri} was replaced while this run wrote it: another "
            "run holds the lock now; this run's changes stay in the local cache"
        )
    checkpoint("manifest-written")
    with _transaction(conn):
        journal.trim(conn, through)
        _set_meta(
            conn,
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
    instance = (
        (manifest.instance if manifest is not None else None)
        or index.get_meta("instance")
        or (legacy.instance if (legacy := _legacy_generation(store)) else None)
        or uuid.uuid4().hex
    )
    generation = max(
        manifest.generation if manifest is not None else 0,
        int(index.get_meta("generation") or 0),
    )
    key = object_key(BASE_PREFIX, generation + 1, ".sqlite3")
    through = journal.last_change(conn)
    with tempfile.TemporaryDirectory(dir=index.path.parent) as folder:
        local = Path(folder) / "base.sqlite3"
        conn.execute("VACUUM INTO ?", (str(local),))
        copy = sqlite3.connect(local, isolation_level=None)
        try:
            local_meta = ", ".join("?" * len(journal.LOCAL_META))
            copy.execute(f"DELETE FROM meta WHERE name IN ({local_meta})", journal.LOCAL_META)  # noqa: S608
            journal.disable(copy)  # each cache journals its own changes
        finally:
            copy.close()
        base = StateObject(key, local.stat().st_size, file_sha256(local))
        store.upload_file(key, local, content_type=SQLITE_TYPE)
    checkpoint("base-written")
    if manifest is None or not fold:
        new = Manifest(instance, generation + 1, base)
    else:
        new = Manifest(instance, generation + 1, base, (), manifest.base.key, manifest.segments)
    new_tag = _replace_manifest(store, new, tag)
    if new_tag is None:
        with contextlib.suppress(StoreError):
            store.delete(key)
        raise StateConflict(
            f"the index of archive {store.uri} was replaced while this run compacted it: "
            "another run holds the lock now"
        )
    checkpoint("manifest-written")
    with _transaction(conn):
        journal.trim(conn, through)
        _set_meta(
            conn,
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
