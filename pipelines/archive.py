"""Write each Article to the archive: its raw WARC record first, then its JSON."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from pipelines.items import Article
from pipelines.stores import Store, StoreError, open_store
from pipelines.warc import build_warc

logger = logging.getLogger(__name__)

DEFAULT_ARCHIVE = "./archive"


def archive_uri(crawler: Crawler) -> str:
    """Return the archive URI of a crawl: the setting, else the spider's config, else default."""
    uri = crawler.settings.get("WIREARCHIVE_ARCHIVE")
    if not uri and crawler.spider is not None:
        uri = getattr(crawler.spider, "archive_uri", None)
    return str(uri or DEFAULT_ARCHIVE)


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
    """Return ``{kind}/{source}/{YYYY}/{MM}/{DD}/{name}``, the archive's key shape."""
    return f"{kind}/{source}/{day:%Y/%m/%d}/{name}"


def article_keys(article: Article) -> tuple[str, str]:
    """Return the (JSON key, raw WARC key) of an article."""
    day = archive_date(article.published, article.fetched_at)
    return (
        dated_key("articles", article.source, day, f"{article.id}.json"),
        dated_key("raw", article.source, day, f"{article.id}.warc.gz"),
    )


def encode_json(record: dict[str, Any]) -> bytes:
    """Serialise an archive JSON object the one way the archive uses."""
    return json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def write_article(store: Store, article: Article) -> bool:
    """Store an article's raw record, then its JSON; return False when it was already there."""
    json_key, raw_key = article_keys(article)
    article.raw_key = raw_key
    # The raw record goes first: an article JSON is never visible without its raw record.
    store.put(raw_key, build_warc(article.page), content_type="application/warc")
    return store.put(json_key, encode_json(article.to_record()), content_type="application/json")


class ArchivePipeline:
    """Archive each Article through the store chosen by the archive URI."""

    def __init__(self, store: Store, stats: StatsCollector) -> None:
        self.store = store
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        """Open the crawl's archive store."""
        assert crawler.stats is not None
        return cls(open_store(archive_uri(crawler)), crawler.stats)

    async def process_item(self, item: Any) -> Any:
        """Write an Article off the reactor; count it as stored, unchanged or failed."""
        if not isinstance(item, Article):
            return item
        try:
            written = await asyncio.to_thread(write_article, self.store, item)
        except StoreError as err:
            # Not done: the next run fetches this page again.
            self.stats.inc_value("archive/failed")
            logger.error("archive write failed for %s: %s", item.url, err)
            raise DropItem(f"archive write failed: {err}") from err
        outcome = "stored" if written else "unchanged"
        self.stats.inc_value(f"archive/{outcome}")
        self.stats.inc_value(f"source/{item.source}/{outcome}")
        return item
