"""Re-derive archived articles from their raw WARC records, without touching the network.

For each article JSON (optionally one source, a date range by key date): rebuild the Page
from its raw record, extract again with today's extractor, and rewrite the JSON under the
same key only when the text or the metadata changed. The article keeps its identity (id,
url, canonical_url, raw_key, fetched_at); the index learns the new text, so exact and
near-duplicate detection stays consistent with what the archive now says.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pipelines.archive.keys import encode_json
from pipelines.archive.stores import KeyNotFound, Store
from pipelines.archive.warc import read_warc
from pipelines.daterange import DateRange
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.extract.article import ExtractionRejected
from pipelines.extract.pipeline import build_article
from pipelines.index.base import Index

logger = logging.getLogger(__name__)

# What extraction decides; the rest of a record is identity or provenance and stays.
EXTRACTED_FIELDS = (
    "title",
    "text",
    "authors",
    "published",
    "modified",
    "language",
    "sitename",
    "wire",
    "content_sha256",
)


@dataclass
class ReextractReport:
    """What a re-extraction did: counts, and the keys that changed or now fail."""

    seen: int = 0
    unchanged: int = 0
    changed: int = 0
    newly_rejected: int = 0
    unreadable: int = 0
    now_duplicates: int = 0
    changed_keys: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # key -> reason

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready object."""
        return {
            "seen": self.seen,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "newly_rejected": self.newly_rejected,
            "unreadable": self.unreadable,
            "now_duplicates": self.now_duplicates,
            "changed_keys": self.changed_keys,
            "rejected": self.rejected,
        }


def article_keys_in(store: Store, sources: Iterable[str], wanted: DateRange) -> Iterator[str]:
    """Yield the article JSON keys of the given sources (all when empty) in a key-date range."""
    prefixes = [f"articles/{name}/" for name in sources] or ["articles/"]
    for prefix in prefixes:
        for key in store.keys(prefix):
            if not key.endswith(".json"):
                continue
            parts = key.split("/")
            try:
                day = date(int(parts[2]), int(parts[3]), int(parts[4]))
            except (IndexError, ValueError):
                continue
            if wanted.contains(day):
                yield key


def reextract_one(store: Store, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (old record, new record) of one archived article; raises ExtractionRejected."""
    old = json.loads(store.get(key))
    page = read_warc(
        store.get(old["raw_key"]),
        source=old["source"],
        fetched_at=datetime.fromisoformat(old["fetched_at"]),
    )
    article = build_article(page)
    fresh = article.to_record()
    new = dict(old)
    for name in EXTRACTED_FIELDS:
        new[name] = fresh[name]
    new["extractor"] = fresh["extractor"]
    return old, new


def reextract(
    store: Store,
    index: Index,
    keys: Iterable[str],
    progress: Callable[[ReextractReport], None] | None = None,
) -> ReextractReport:
    """Re-extract every key; rewrite changed articles in place and re-index their text."""
    report = ReextractReport()
    for key in keys:
        report.seen += 1
        try:
            old, new = reextract_one(store, key)
        except ExtractionRejected as rejected:
            # Kept as archived: a rule change must not delete history. Listed for review.
            report.newly_rejected += 1
            report.rejected[key] = rejected.reason
            continue
        except (KeyNotFound, ValueError, KeyError, OSError) as err:
            report.unreadable += 1
            logger.warning("cannot re-extract %s: %s", key, err)
            continue
        if all(old.get(name) == new[name] for name in EXTRACTED_FIELDS):
            report.unchanged += 1
        else:
            store.put(key, encode_json(new), content_type="application/json", overwrite=True)
            fingerprint = exact_fingerprint(new["text"])
            other = index.text(fingerprint)
            if other is not None and other.article_id != new["id"]:
                report.now_duplicates += 1  # reported, never deleted: both stay archived
            index.replace_text(new["id"], key, new["content_sha256"], fingerprint, new["text"])
            report.changed += 1
            report.changed_keys.append(key)
        if progress is not None:
            progress(report)
    return report
