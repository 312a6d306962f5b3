"""Write fixture archives the way the crawl does: article JSON, raw WARC, duplicate records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.archive.keys import archive_date, dated_key, encode_json
from pipelines.archive.stores import Store
from pipelines.archive.warc import build_warc
from pipelines.items import Page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "serve"
BASE_TIME = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def article_id(url: str) -> str:
    """Return a stable 20-hex id for a URL, as the archive's ids look."""
    return hashlib.sha256(url.encode()).hexdigest()[:20]


@dataclass
class Story:
    """What a fixture archive holds about one story, for assertions."""

    id: str
    key: str
    title: str
    copies: list[dict[str, Any]] = field(default_factory=list)


def put_article(
    store: Store,
    *,
    source: str,
    url: str,
    title: str | None,
    text: str,
    published: datetime | None = BASE_TIME,
    fetched_at: datetime = BASE_TIME + timedelta(minutes=5),
    agency: str | None = None,
    dateline: str | None = None,
    language: str | None = "en",
    html: bytes | None = None,
    version: int = 1,
    extra: dict[str, Any] | None = None,
) -> Story:
    """Store one article (JSON and raw WARC) and return its id and key."""
    ident = article_id(url)
    day = archive_date(published.isoformat() if published else None, fetched_at.isoformat())
    name = ident if version == 1 else f"{ident}.v{version}"
    key = dated_key("articles", source, day, f"{name}.json")
    raw_key = dated_key("raw", source, day, f"{name}.warc.gz")
    body = (
        html
        if html is not None
        else f"<html><body><h1>{title}</h1><p>{text}</p></body></html>".encode()
    )
    page = Page(
        source=source,
        url=url,
        status=200,
        body=body,
        content=body,
        request_headers=[("User-Agent", "wirearchive-test")],
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
        fetched_at=fetched_at,
    )
    store.put(raw_key, build_warc(page))
    record: dict[str, Any] = {
        "schema_version": 1,
        "id": ident,
        "url": url,
        "canonical_url": url,
        "source": source,
        "title": title,
        "text": text,
        "authors": ["Desk Reporter"],
        "published": published.isoformat() if published else None,
        "published_from": "meta" if published else None,
        "modified": None,
        "fetched_at": fetched_at.isoformat(),
        "language": language,
        "sitename": source.title(),
        "wire": {"agency": agency, "dateline": dateline},
        "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "raw_key": raw_key,
        "extractor": {"name": "trafilatura", "version": "test"},
        "origin": {"kind": "live"},
        "http": {"status": 200, "listed_in": None},
        **(extra or {}),
    }
    if version > 1:
        record["version"] = version
    store.put(key, encode_json(record), overwrite=True)
    return Story(ident, key, title or "")


def put_copy(
    store: Store,
    original: Story,
    *,
    source: str,
    url: str,
    kind: str,
    similarity: float,
    delay: timedelta,
    title: str | None = None,
) -> dict[str, Any]:
    """Store a duplicate record pointing at an article; return the record."""
    fetched_at = BASE_TIME + delay
    record = {
        "schema_version": 1,
        "id": article_id(url),
        "url": url,
        "canonical_url": url,
        "source": source,
        "title": title or original.title,
        "fetched_at": fetched_at.isoformat(),
        "duplicate_of": original.id,
        "duplicate_of_key": original.key,
        "kind": kind,
        "similarity": similarity,
        "content_sha256": None,
    }
    day = archive_date(None, fetched_at.isoformat())
    store.put(dated_key("duplicates", source, day, f"{record['id']}.json"), encode_json(record))
    original.copies.append(record)
    return record


def hostile_html(beacon: str) -> bytes:
    """Return the hostile fixture page with its beacon URLs pointing at ``beacon``."""
    return (
        (FIXTURES / "hostile_page.html")
        .read_text(encoding="utf-8")
        .replace("BEACON", beacon)
        .encode()
    )


def build_archive(store: Store, beacon: str = "http://192.0.2.1") -> dict[str, Story]:
    """Fill a store with the serve tests' archive: a syndicated story, hostile and CJK pages."""
    stories: dict[str, Story] = {}
    flood = put_article(
        store,
        source="wiredaily",
        url="https://wiredaily.example/world/flood-mekong.html",
        title="Flood waters rise along the Mekong",
        text="BANGKOK (AP) - Flood waters rose along the Mekong on Tuesday as monsoon rains "
        "kept falling across the basin.\nThousands of families moved to higher ground.",
        agency="AP",
        dateline="BANGKOK",
        html=hostile_html(beacon),
    )
    for source, kind, similarity, hours in (
        ("lahoreledger", "near", 0.82, 2),
        ("metroobserver", "exact", 1.0, 5),
        ("dailyplanet", "near", 0.91, 26),
    ):
        put_copy(
            store,
            flood,
            source=source,
            url=f"https://{source}.example/news/flood-mekong",
            kind=kind,
            similarity=similarity,
            delay=timedelta(hours=hours),
        )
    stories["flood"] = flood
    stories["script"] = put_article(
        store,
        source="metroobserver",
        url="https://metroobserver.example/local/script-title.html",
        title="<script>document.title='pwned by a title'</script>Council votes on budget",
        text="The council voted on the budget. "
        "<img src=x onerror=\"document.title='pwned by text'\">"
        "\n<script>document.title='pwned by text'</script>",
        agency=None,
    )
    stories["cjk"] = put_article(
        store,
        source="lahoreledger",
        url="https://lahoreledger.example/zh/beijing-university.html",
        title="北京大学发布新研究",
        text="新华社北京11月20日电 北京大学周四发布了一项关于气候变化的新研究。",
        agency="Xinhua",
        dateline="北京",
        language="zh",
        published=BASE_TIME - timedelta(days=3),
    )
    put_article(
        store,
        source="wiredaily",
        url="https://wiredaily.example/business/harbour-cranes.html",
        title="Harbour cranes idle as dockworkers strike (first version)",
        text="ROTTERDAM (Reuters) - Cranes stood idle.",
        agency="Reuters",
        published=BASE_TIME - timedelta(days=1),
    )
    stories["cranes"] = put_article(
        store,
        source="wiredaily",
        url="https://wiredaily.example/business/harbour-cranes.html",
        title="Harbour cranes idle as dockworkers strike",
        text="ROTTERDAM (Reuters) - Cranes stood idle at Europe's biggest port on Monday as "
        "dockworkers walked out over pay.",
        agency="Reuters",
        published=BASE_TIME - timedelta(days=1),
        fetched_at=BASE_TIME + timedelta(hours=3),
        version=2,
        html=(FIXTURES / "story_page.html").read_bytes(),
    )
    return stories
