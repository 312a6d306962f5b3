"""What the web app reads: articles and raw pages from the store, found through the index."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawler.sources import Source
from pipelines.archive.stores import KeyNotFound, Store, StoreError
from pipelines.archive.warc import read_warc
from pipelines.daterange import parse_time
from pipelines.search import SearchIndex, catch_up
from pipelines.search.catchup import CatchUp

logger = logging.getLogger(__name__)

# Content types an archived page is shown as; anything else is shown as plain text.
HTML_TYPES = ("text/html", "application/xhtml+xml")
FACETS_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class RawPage:
    """An archived page as served: its bytes (Content-Encoding undone) and its type."""

    body: bytes
    content_type: str


class ArchiveReader:
    """One archive opened read-only for the web app: its store, search index and sources."""

    def __init__(
        self, store: Store, index: SearchIndex, sources: Sequence[Source] | None = None
    ) -> None:
        self.store = store
        self.index = index
        self.sources = sources  # from the config; None: whatever the archive holds
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}

    def catch_up(self) -> CatchUp:
        """Index what the archive holds and the index lacks; forget cached figures."""
        report = catch_up(self.store, self.index)
        with self._lock:
            self._cache.clear()
        return report

    def cached(self, name: str, ttl: float, make: Callable[[], Any]) -> Any:
        """Return a figure computed at most ``ttl`` seconds ago (listing an archive is slow)."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(name)
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
        value = make()
        with self._lock:
            self._cache[name] = (now, value)
        return value

    def facets(self) -> dict[str, list[str]]:
        """Return the sources, agencies and languages of the search form."""
        facets: dict[str, list[str]] = self.cached("facets", FACETS_TTL_SECONDS, self.index.facets)
        return facets

    def article(self, article_id: str) -> dict[str, Any] | None:
        """Return the latest version of an archived article, or None when it is unknown."""
        key = self.index.key_of(article_id)
        if key is None:
            return None
        try:
            record = json.loads(self.store.get(key))
        except KeyNotFound:
            logger.warning("the index lists %s but the archive has no %s", article_id, key)
            return None
        if not isinstance(record, dict):
            raise StoreError(f"{key} is not an article record")
        record.setdefault("key", key)
        return record

    def raw_page(self, record: dict[str, Any]) -> RawPage | None:
        """Return the page an article was extracted from, from its WARC record, or None."""
        raw_key = record.get("raw_key")
        if not isinstance(raw_key, str) or not raw_key:
            return None
        try:
            data = self.store.get(raw_key)
        except KeyNotFound:
            return None
        fetched = parse_time(record.get("fetched_at")) or datetime.now(UTC)
        try:
            page = read_warc(data, source=str(record.get("source")), fetched_at=fetched)
        except ValueError as err:
            logger.warning("cannot read the raw record %s: %s", raw_key, err)
            return None
        declared = page.header("Content-Type") or ""
        media = declared.split(";")[0].strip().lower()
        if not media and page.content.lstrip()[:1] == b"<":
            # Served without a type, as old sites do: browsers took it for HTML then too.
            declared, media = "text/html", "text/html"
        content_type = declared if media in HTML_TYPES else "text/plain; charset=utf-8"
        return RawPage(page.content, content_type)
