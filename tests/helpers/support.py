"""Helpers the end-to-end tests share: the CLI in a subprocess, sites, archive readers."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from crawler.demo.loopback import LoopbackServer, Resource
from pipelines.items import Page

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
DATA = TESTS / "data"
DEV_SET = DATA / "extraction-dev"
MULTILINGUAL_SET = DATA / "extraction-multilingual"
SEEDS = FIXTURES / "seeds"
CLI_TIMEOUT = 180
SESSION_CACHE = tempfile.mkdtemp(prefix="wirearchive-test-cache-")
FAST_CRAWL = ["-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "WIREARCHIVE_RETRY_BACKOFF_BASE=0.1"]


@dataclass
class CliResult:
    """What one ``wirearchive`` invocation did."""

    status: int
    stdout: str
    stderr: str


def run_cli(
    args: Iterable[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> CliResult:
    """Run ``python -m crawler ARGS`` in a fresh process (a Twisted reactor runs once)."""
    # Each test session gets its own index cache, never the user's ~/.cache.
    full_env = {**os.environ, "XDG_CACHE_HOME": SESSION_CACHE, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=CLI_TIMEOUT,
        input=stdin,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def rss(items: Iterable[tuple[str, datetime | None]], title: str = "Fixture feed") -> bytes:
    """Return an RSS 2.0 feed listing ``(url, pubDate)`` items."""
    entries = []
    for url, published in items:
        date = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
        entries.append(f"<item><title>{escape(url)}</title><link>{escape(url)}</link>{date}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title>{''.join(entries)}</channel></rss>"
    ).encode()


def write_config(path: Path, sources: list[dict[str, Any]], **top: Any) -> Path:
    """Write a sources.yaml (as JSON, which YAML reads) and return its path."""
    path.write_text(json.dumps({**top, "sources": sources}, indent=2), encoding="utf-8")
    return path


def dev_pages() -> dict[str, bytes]:
    """Return the extraction-dev pages as served: ``{id: html bytes}``."""
    return {
        page.name.removesuffix(".html.gz"): gzip.decompress(page.read_bytes())
        for page in sorted((DEV_SET / "html").glob("*.html.gz"))
    }


def dev_site(pages: Mapping[str, bytes]) -> LoopbackServer:
    """Return a server with the dev pages under /news/ and an RSS feed of them at /feed.xml."""
    server = LoopbackServer()
    for page_id, body in pages.items():
        # The dev pages declare their charset inside the HTML, so none is sent here.
        server.routes[f"/news/{page_id}.html"] = Resource(body, "text/html")
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    server.routes["/feed.xml"] = Resource(
        rss((server.url(f"/news/{page_id}.html"), now) for page_id in pages),
        "application/rss+xml",
    )
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    return server


class Paced:
    """A route that answers its page after a delay: a slow site, for runs to be caught mid-way."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.body = body
        self.delay = delay

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        time.sleep(self.delay)
        return Resource(self.body, "text/html")


def news_site(count: int, delay: float = 0.0) -> LoopbackServer:
    """Return a server with ``count`` dev pages at /news/{n}.html, a feed and robots.txt."""
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    for number, body in enumerate(list(dev_pages().values())[:count]):
        route = Paced(body, delay) if delay else Resource(body, "text/html")
        server.routes[f"/news/{number}.html"] = route
    server.routes["/feed.xml"] = Resource(
        rss((server.url(f"/news/{n}.html"), None) for n in range(count)), "application/rss+xml"
    )
    return server


def archive_objects(root: Path, kind: str) -> list[Path]:
    """Return the archive's objects of one kind (articles, raw, duplicates, runs)."""
    return sorted(path for path in (root / kind).rglob("*") if path.is_file())


def load_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def crawl(
    tmp_path: Path, sources: list[dict[str, Any]], *extra: str, **top: Any
) -> tuple[CliResult, Any, Path]:
    """Crawl ``sources`` into ``tmp_path/archive``; return the result, summary and archive."""
    top.setdefault("allow_private_addresses", True)  # fixture sites live on loopback
    config = write_config(tmp_path / "sources.yaml", sources, **top)
    archive = tmp_path / "archive"
    summary_path = tmp_path / "summary.json"
    args = ["crawl", "--config", str(config), "--archive", str(archive)]
    result = run_cli([*args, "--summary", str(summary_path), *FAST_CRAWL, *extra])
    summary = load_json(summary_path) if summary_path.exists() else None
    return result, summary, archive


def fetched_page(
    body: bytes, fetched_at: datetime, *, content_type: str = "text/html", **fields: Any
) -> Page:
    """A page as the spider hands it on: served 200 at example.com, ``fields`` set too."""
    return Page(
        source="wire",
        url="https://example.com/news/budget",
        status=200,
        body=body,
        content=body,
        request_headers=[],
        response_headers=[("Content-Type", content_type)],
        fetched_at=fetched_at,
        **fields,
    )
