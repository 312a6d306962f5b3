"""Archive records as flat rows, and the Parquet schema of those rows: pure rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from pipelines.daterange import parse_time

TIMESTAMP = pa.timestamp("us", tz="UTC")
# Fields that get a typed column of their own; every other field of a record goes, as
# JSON, into the ``extra`` column, so nothing the archive holds is lost.
ARTICLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("key", pa.string()),
        ("date", pa.date32()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("published", TIMESTAMP),
        ("published_from", pa.string()),
        ("modified", TIMESTAMP),
        ("fetched_at", TIMESTAMP),
        ("language", pa.string()),
        ("sitename", pa.string()),
        ("wire_agency", pa.string()),
        ("wire_dateline", pa.string()),
        ("content_sha256", pa.string()),
        ("raw_key", pa.string()),
        ("extractor_name", pa.string()),
        ("extractor_version", pa.string()),
        ("schema_version", pa.int32()),
        ("version", pa.int32()),
        ("origin", pa.string()),
        ("copies", pa.int32()),
        ("extra", pa.string()),
    ]
)
DUPLICATE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("key", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("title", pa.string()),
        ("fetched_at", TIMESTAMP),
        ("duplicate_of", pa.string()),
        ("duplicate_of_key", pa.string()),
        ("kind", pa.string()),
        ("similarity", pa.float64()),
        ("content_sha256", pa.string()),
        ("schema_version", pa.int32()),
        ("extra", pa.string()),
    ]
)
_NESTED = {"wire", "extractor"}


def timestamp(value: Any) -> datetime | None:
    """Parse an ISO 8601 time as UTC (a time without a zone is UTC), or None."""
    moment = parse_time(value)
    return moment.astimezone(UTC) if moment is not None else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _string(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _extra(record: Mapping[str, Any], schema: pa.Schema) -> str | None:
    known = set(schema.names) | _NESTED
    rest = {k: v for k, v in record.items() if k not in known}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None


def article_row(record: Mapping[str, Any], key: str, day: date, copies: int) -> dict[str, Any]:
    """Return the Parquet row of an article JSON: typed columns, the rest in ``extra``."""
    wire = _mapping(record.get("wire"))
    extractor = _mapping(record.get("extractor"))
    authors = record.get("authors")
    return {
        "id": str(record.get("id")),
        "key": key,
        "date": day,
        "source": _string(record.get("source")),
        "url": _string(record.get("url")),
        "canonical_url": _string(record.get("canonical_url")),
        "title": _string(record.get("title")),
        "text": _string(record.get("text")),
        "authors": [str(a) for a in authors] if isinstance(authors, list) else [],
        "published": timestamp(record.get("published")),
        "published_from": _string(record.get("published_from")),
        "modified": timestamp(record.get("modified")),
        "fetched_at": timestamp(record.get("fetched_at")),
        "language": _string(record.get("language")),
        "sitename": _string(record.get("sitename")),
        "wire_agency": _string(wire.get("agency")),
        "wire_dateline": _string(wire.get("dateline")),
        "content_sha256": _string(record.get("content_sha256")),
        "raw_key": _string(record.get("raw_key")),
        "extractor_name": _string(extractor.get("name")),
        "extractor_version": _string(extractor.get("version")),
        "schema_version": int(record.get("schema_version") or 1),
        "version": int(record.get("version") or 1),
        "origin": _string(record.get("origin")),
        "copies": copies,
        "extra": _extra(record, ARTICLE_SCHEMA),
    }


def duplicate_row(record: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Return the Parquet row of a duplicate JSON."""
    similarity = record.get("similarity")
    return {
        "id": str(record.get("id")),
        "key": key,
        "source": _string(record.get("source")),
        "url": _string(record.get("url")),
        "canonical_url": _string(record.get("canonical_url")),
        "title": _string(record.get("title")),
        "fetched_at": timestamp(record.get("fetched_at")),
        "duplicate_of": _string(record.get("duplicate_of")),
        "duplicate_of_key": _string(record.get("duplicate_of_key")),
        "kind": _string(record.get("kind")),
        "similarity": float(similarity) if isinstance(similarity, int | float) else None,
        "content_sha256": _string(record.get("content_sha256")),
        "schema_version": int(record.get("schema_version") or 1),
        "extra": _extra(record, DUPLICATE_SCHEMA),
    }


def json_line(record: Mapping[str, Any], **added: Any) -> bytes:
    """Return a record, with fields added, as one line of JSON Lines."""
    return json.dumps({**record, **added}, ensure_ascii=False).encode("utf-8") + b"\n"
