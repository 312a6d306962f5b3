"""Check the index against the archive, and repair the index from what the archive holds.

The archive's objects are the truth; the index is derived from them. ``verify`` lists:
articles the index does not know (a crash between the write and the index commit, or a
lost index), index entries whose article object is gone, and unreadable objects (JSON that
does not parse, or an article whose raw record is missing). ``--repair`` indexes the
unknown articles from their JSON and forgets entries whose object is gone, so the next
run fetches those URLs again. It never writes or deletes an archive object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipelines.archive.stores import KeyNotFound, Store
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.index.base import Index


@dataclass
class VerifyReport:
    """What verify found (and, with repair, fixed)."""

    articles: int = 0
    duplicates: int = 0
    unindexed: list[str] = field(default_factory=list)
    missing_objects: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # key -> why
    temp_objects: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def clean(self) -> bool:
        """True when index and archive agree and every object reads."""
        return not (self.unindexed or self.missing_objects or self.unreadable or self.temp_objects)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready object."""
        return {
            "articles": self.articles,
            "duplicates": self.duplicates,
            "unindexed": self.unindexed,
            "missing_objects": self.missing_objects,
            "unreadable": self.unreadable,
            "temp_objects": self.temp_objects,
            "clean": self.clean,
            "repaired": self.repaired,
        }


def _read_json(store: Store, key: str, report: VerifyReport) -> dict[str, Any] | None:
    try:
        record = json.loads(store.get(key))
    except KeyNotFound:
        report.unreadable[key] = "vanished while reading"
        return None
    except (ValueError, UnicodeDecodeError) as err:
        report.unreadable[key] = f"not JSON: {err}"
        return None
    if not isinstance(record, dict) or "id" not in record:
        report.unreadable[key] = "not an archive record"
        return None
    return record


def verify(store: Store, index: Index, *, repair: bool = False) -> VerifyReport:
    """Compare the index with the archive's objects; with ``repair``, fix the index."""
    report = VerifyReport(repaired=repair)
    keys = set(store.keys(""))
    report.temp_objects = sorted(k for k in keys if k.rsplit("/", 1)[-1].startswith("."))
    seen_articles: set[str] = set()
    for key in sorted(k for k in keys if k.startswith("articles/") and k.endswith(".json")):
        record = _read_json(store, key, report)
        if record is None:
            continue
        report.articles += 1
        if record.get("raw_key") not in keys:
            report.unreadable[key] = f"its raw record {record.get('raw_key')} is missing"
        seen_articles.add(record["id"])
        if index.article(record["id"]) is None:
            report.unindexed.append(key)
            if repair:
                _index_article(index, key, record)
    for key in sorted(k for k in keys if k.startswith("duplicates/") and k.endswith(".json")):
        record = _read_json(store, key, report)
        if record is None:
            continue
        report.duplicates += 1
        if repair and record.get("duplicate_of") in seen_articles:
            urls = [u for u in (record.get("url"), record.get("canonical_url")) if u]
            index.record_urls(urls, record["duplicate_of"], str(record.get("kind", "url")))
    for article_id, key in index.articles():
        if key not in keys:
            report.missing_objects.append(key)
            if repair:
                index.forget(article_id)
    return report


def _index_article(index: Index, key: str, record: dict[str, Any]) -> None:
    text = str(record.get("text") or "")
    index.record_article(
        article_id=record["id"],
        key=key,
        content_sha256=str(record.get("content_sha256") or ""),
        urls=[u for u in (record.get("canonical_url"), record.get("url")) if u],
        fingerprint=exact_fingerprint(text),
        text=text,
        version=int(record.get("version") or 1),
    )
