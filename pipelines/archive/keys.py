"""The archive's key layout and its JSON encoding: pure rules, shared by every writer."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from scrapy.crawler import Crawler

from pipelines.items import Article, Duplicate

DEFAULT_ARCHIVE = "./archive"
_REVISION = re.compile(r"\.v\d+\.json$")


def resolve_archive(flag: str | None, configured: str | None = None) -> str:
    """Return the archive URI: the flag, else the config's ``archive:``, else ./archive."""
    return flag or configured or DEFAULT_ARCHIVE


def archive_uri(crawler: Crawler) -> str:
    """Return the archive URI of a crawl: the setting, else the spider's config, else default."""
    spider = crawler.spider
    configured = getattr(spider, "archive_uri", None) if spider is not None else None
    return str(resolve_archive(crawler.settings.get("WIREARCHIVE_ARCHIVE"), configured))


def archive_date(published: str | None, fetched_at: str) -> date:
    """Return the date an article is filed under: published (UTC) when known, else fetched."""
    for value in (published, fetched_at):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.date()
    return datetime.now(UTC).date()


def dated_key(kind: str, source: str, day: date, name: str) -> str:
    """Return ``{kind}/{source}/{YYYY}/{MM}/{DD}/{name}``, the archive's key shape.

    The year is always four digits: ``%Y`` writes year 1 as "1" on glibc.
    """
    return f"{kind}/{source}/{day.year:04d}/{day.month:02d}/{day.day:02d}/{name}"


def parse_dated_key(key: str) -> tuple[str, str, date, str] | None:
    """Split ``{kind}/{source}/{YYYY}/{MM}/{DD}/{name}`` into its parts, or None."""
    parts = key.split("/")
    if len(parts) != 6:
        return None
    kind, source, year, month, day, name = parts
    try:
        return kind, source, date(int(year), int(month), int(day)), name
    except ValueError:
        return None


def is_revision(name: str) -> bool:
    """Tell whether an article object's name is a later version (``{id}.v{n}.json``)."""
    return bool(_REVISION.search(name))


def article_keys(article: Article) -> tuple[str, str]:
    """Return the (JSON key, raw WARC key) of an article; revisions get ``.v{n}``."""
    day = archive_date(article.published, article.fetched_at)
    name = article.id if article.version == 1 else f"{article.id}.v{article.version}"
    return (
        dated_key("articles", article.source, day, f"{name}.json"),
        dated_key("raw", article.source, day, f"{name}.warc.gz"),
    )


def encode_json(record: dict[str, Any]) -> bytes:
    """Serialise an archive JSON object the one way the archive uses."""
    return json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def duplicate_key(duplicate: Duplicate) -> str:
    """Return a duplicate record's key: filed under its fetch date."""
    day = archive_date(None, duplicate.fetched_at)
    return dated_key("duplicates", duplicate.source, day, f"{duplicate.id}.json")
