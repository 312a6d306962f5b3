"""Open an archive's dedup index: SQLite on one machine, Redis when a Redis URL is given.

As Scrapy's ``pipelines/files.py`` picks a files store: one table from the scheme of the
index URL to the backend, and one function.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from pipelines.archive.stores import Store
from pipelines.index.base import Index
from pipelines.index.redis import RedisIndex
from pipelines.index.sqlite import open_state


class UnknownIndexScheme(ValueError):
    """The index URL has a scheme no backend serves."""


def _sqlite(store: Store, url: str, archive: str, repair: bool, fetch: bool) -> Index:
    return open_state(store, repair=repair, fetch=fetch)


def _redis(store: Store, url: str, archive: str, repair: bool, fetch: bool) -> Index:
    return RedisIndex(url, archive)  # the shared index is read live: nothing to fetch


# (store, index URL, archive URI as the workers name it, repair, fetch) -> the index.
INDEX_SCHEMES: dict[str, Callable[[Store, str, str, bool, bool], Index]] = {
    "": _sqlite,
    "redis": _redis,
    "rediss": _redis,
    "unix": _redis,
}


def open_index(
    store: Store,
    redis_url: str | None = None,
    *,
    archive: str | None = None,
    repair: bool = False,
    fetch: bool = True,
) -> Index:
    """Return the index of the archive in ``store``: in ``redis_url`` if given, else SQLite.

    ``archive``: the archive URI as the workers share it, which names the Redis keys
    (default: the store's URI). ``repair``: a damaged copy of the index in the archive
    opens as an empty one (``verify --repair`` rebuilds it) instead of failing.
    ``fetch``: False under a lock whose start fetched the index already (see open_state).
    """
    url = redis_url or ""
    scheme = urlsplit(url).scheme
    opener = INDEX_SCHEMES.get(scheme)
    if opener is None:
        known = ", ".join(f"{s}://" for s in sorted(INDEX_SCHEMES) if s)
        raise UnknownIndexScheme(
            f"unsupported index URL {url!r}: use one of {known}, or none for SQLite"
        )
    return opener(store, url, archive or store.uri, repair, fetch)
