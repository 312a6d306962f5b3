"""The manifest of an S3 archive's index: which base and which segments make it up.

``_state/manifest.json`` names the live base (a whole SQLite index) and the ordered
segments written since (what each run learned, see ``journal.py``), and the segments the
last compaction folded into the base (``retired``), which stay until the next compaction
so a cache that had applied some of them catches up without the new base. Object names
are unique (generation and a random part) and never reused, so nothing is ever listed on
the way in: a cache compares the manifest with what it applied and fetches the rest.

Pure rules only: how the manifest reads and writes, what a cache must fetch, when to
compact. The I/O is in ``state_fetch.py`` (a run's start) and ``state_publish.py`` (its end).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

MANIFEST_KEY = "_state/manifest.json"
BASE_PREFIX = "_state/base/"
SEGMENT_PREFIX = "_state/segments/"
FORMAT = 1

# Compaction: when the segments exceed this many, or this share of the base's bytes (and
# at least COMPACT_MIN_BYTES). Each segment listed costs ~150 bytes of manifest per run,
# and a fresh cache one request; past a quarter of the base, applying them costs more than
# downloading them folded.
COMPACT_SEGMENTS = 64
COMPACT_SHARE = 0.25
COMPACT_MIN_BYTES = 1024 * 1024


class ManifestError(ValueError):
    """The manifest object cannot be read as one."""


@dataclass(frozen=True)
class StateObject:
    """One base or segment object: its key, size and sha256."""

    key: str
    size: int
    sha256: str

    def encode(self) -> dict[str, Any]:
        return {"key": self.key, "bytes": self.size, "sha256": self.sha256}

    @classmethod
    def decode(cls, raw: Any) -> StateObject:
        return cls(str(raw["key"]), int(raw["bytes"]), str(raw["sha256"]))


@dataclass(frozen=True)
class Manifest:
    """The archive index as the archive holds it."""

    instance: str
    generation: int
    base: StateObject
    segments: tuple[StateObject, ...] = ()
    retired_base: str | None = None
    retired: tuple[StateObject, ...] = field(default=())

    def encode(self) -> bytes:
        body: dict[str, Any] = {
            "format": FORMAT,
            "instance": self.instance,
            "generation": self.generation,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "base": self.base.encode(),
            "segments": [segment.encode() for segment in self.segments],
        }
        if self.retired_base is not None:
            body["retired"] = {
                "base": self.retired_base,
                "segments": [segment.encode() for segment in self.retired],
            }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if int(raw.get("format", FORMAT)) > FORMAT:
                raise ManifestError(
                    f"manifest format {raw['format']} is newer than this wirearchive: upgrade it"
                )
            retired = raw.get("retired") or {}
            return cls(
                instance=str(raw["instance"]),
                generation=int(raw["generation"]),
                base=StateObject.decode(raw["base"]),
                segments=tuple(StateObject.decode(s) for s in raw.get("segments", [])),
                retired_base=str(retired["base"]) if retired.get("base") else None,
                retired=tuple(StateObject.decode(s) for s in retired.get("segments", [])),
            )
        except ManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ManifestError(f"unreadable {MANIFEST_KEY}: {err}") from err

    def named(self) -> set[str]:
        """Every object the manifest names (current and retired)."""
        return {self.base.key, *(s.key for s in self.segments), *(s.key for s in self.retired)}

    def with_segment(self, segment: StateObject) -> Manifest:
        """Return the manifest after one more run's segment."""
        return Manifest(
            self.instance,
            self.generation + 1,
            self.base,
            (*self.segments, segment),
            self.retired_base,
            self.retired,
        )

    def compacted(self, base: StateObject, generation: int) -> Manifest:
        """Return the manifest after folding every segment into a new base.

        ``generation``: the new one, given by the caller, whose cache may count further than
        this manifest (the greater of the two, plus one, keeps every cache's number behind).
        """
        return Manifest(self.instance, generation, base, (), self.base.key, self.segments)


def object_key(prefix: str, generation: int, suffix: str) -> str:
    """Return a fresh, never reused object name: sorted by generation, random within it."""
    return f"{prefix}{generation:010d}-{secrets.token_hex(6)}{suffix}"


def should_compact(manifest: Manifest) -> bool:
    """Tell whether the segments should be folded into a new base now."""
    if len(manifest.segments) >= COMPACT_SEGMENTS:
        return True
    pending = sum(segment.size for segment in manifest.segments)
    return pending >= max(COMPACT_MIN_BYTES, manifest.base.size * COMPACT_SHARE)


@dataclass(frozen=True)
class CacheState:
    """What a local cache was built from: the base key and the segments applied since."""

    instance: str | None
    base: str | None
    applied: tuple[str, ...]


@dataclass(frozen=True)
class CatchUp:
    """What a cache must fetch: ``rebuild`` (the base and all segments) or ``segments``."""

    rebuild: bool
    segments: tuple[StateObject, ...] = ()


def catch_up(cache: CacheState | None, manifest: Manifest) -> CatchUp:
    """Return what a cache lacks of the archive's index.

    A cache of the same base that applied a prefix of the segments fetches the rest; a
    cache of the base before the last compaction fetches the retired segments it lacks,
    then the current ones. Anything else starts again from the base.
    """
    if cache is None or cache.instance != manifest.instance or cache.base is None:
        return CatchUp(rebuild=True)
    applied = list(cache.applied)
    for base, segments in (
        (manifest.base.key, list(manifest.segments)),
        (manifest.retired_base, [*manifest.retired, *manifest.segments]),
    ):
        if cache.base == base and [s.key for s in segments[: len(applied)]] == applied:
            return CatchUp(rebuild=False, segments=tuple(segments[len(applied) :]))
    return CatchUp(rebuild=True)
