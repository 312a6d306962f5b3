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

The work is in three modules: ``state_cache.py`` (where the cache lives and its account of
what it holds), ``state_fetch.py`` (a run's start) and ``state_publish.py`` (a run's end).
"""

from __future__ import annotations

from pipelines.index.state_fetch import FetchReport, StateBroken, fetch_state
from pipelines.index.state_publish import StateConflict, SyncReport, sync_state

__all__ = ["FetchReport", "StateBroken", "StateConflict", "SyncReport", "fetch_state", "sync_state"]
