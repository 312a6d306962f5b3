"""A local write-ahead spool for archive writes the store refused.

When the store stays down past its retries, an article's objects (raw record, JSON) and
the index entry that would follow them are written to a local folder instead, whole and
atomically (a temp folder renamed into place). The next run flushes the spool into the
archive first, then indexes what it wrote, so a page that vanished from the web in the
meantime is not lost. Nothing in the spool counts as archived: the index does not know
it, so a run that lost the spool (a fresh container) simply fetches the page again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.archive.stores import Store
from pipelines.dedup.fingerprints import Signature
from pipelines.index.base import Index
from pipelines.index.state_cache import cache_dir

logger = logging.getLogger(__name__)

ENTRY_FILE = "entry.json"


@dataclass(frozen=True)
class SpoolEntry:
    """One spooled write: the objects to put, then the index entry to record."""

    path: Path
    objects: list[tuple[str, bytes, str]]  # (key, data, content type), in write order
    index: dict[str, Any]  # {"kind": "article", ...record_article kwargs} or urls


class Spool:
    """The spool folder of one archive."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def for_store(cls, store: Store, cache: Path | None = None) -> Spool:
        """Return the spool of an archive: inside a local archive's _state, else the cache."""
        local = store.local_path("_state/spool")
        if local is not None:
            return cls(local)
        digest = hashlib.sha256(store.uri.encode("utf-8")).hexdigest()[:16]
        return cls((cache or cache_dir()) / digest / "spool")

    def add(self, objects: list[tuple[str, bytes, str]], index: dict[str, Any]) -> Path:
        """Spool one write, whole: it appears only once every byte is on disk."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        temp = self.folder / f".{name}.tmp"
        temp.mkdir()
        entry = {
            "objects": [
                {"key": key, "content_type": kind, "data": base64.b64encode(data).decode()}
                for key, data, kind in objects
            ],
            "index": index,
        }
        with (temp / ENTRY_FILE).open("w", encoding="utf-8") as stream:
            json.dump(entry, stream)
            stream.flush()
            os.fsync(stream.fileno())
        final = self.folder / name
        temp.rename(final)
        return final

    def entries(self) -> Iterator[SpoolEntry]:
        """Yield the complete spooled writes, oldest first."""
        if not self.folder.is_dir():
            return
        paths = [p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        for path in sorted(paths, key=lambda p: p.stat().st_mtime):
            try:
                entry = json.loads((path / ENTRY_FILE).read_text(encoding="utf-8"))
                objects = [
                    (o["key"], base64.b64decode(o["data"]), o["content_type"])
                    for o in entry["objects"]
                ]
            except (OSError, ValueError, KeyError) as err:
                logger.error("unreadable spool entry %s: %s; left in place", path, err)
                continue
            yield SpoolEntry(path, objects, entry["index"])

    def __len__(self) -> int:
        return sum(1 for _ in self.entries())

    def remove(self, entry: SpoolEntry) -> None:
        """Drop a flushed entry."""
        shutil.rmtree(entry.path, ignore_errors=True)


def flush_spool(spool: Spool, store: Store, index: Index) -> int:
    """Write every spooled entry to the store, then index it; return how many were flushed.

    Stops at the first store error (the store is still down): what remains stays spooled.
    """
    flushed = 0
    for entry in spool.entries():
        for key, data, content_type in entry.objects:
            store.put(key, data, content_type=content_type)
        record_index_entry(index, entry.index)
        spool.remove(entry)
        flushed += 1
    return flushed


def record_index_entry(
    index: Index, entry: dict[str, Any], signature: Signature | None = None
) -> None:
    """Record an index entry (spooled, or live with its text's signature), now archived."""
    if entry["kind"] == "article":
        fields = {k: v for k, v in entry.items() if k != "kind"}
        index.record_article(**fields, signature=signature)
    else:
        index.record_urls(entry["urls"], entry["article_id"], entry["kind"])
