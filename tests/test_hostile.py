"""Hostile and broken input, each served over real HTTP and crawled through the CLI.

One crawl serves every hostile article page and discovery document at once (the run is
dominated by the timeouts, which overlap), then each test reads its part of the outcome:
the reason it was counted under, that nothing forbidden reached the archive, and the time.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import brotli
import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from crawler.sources import ConfigError, parse_config
from pipelines.archive.local_store import LocalStore
from pipelines.archive.stores import InvalidKey, StoreError, validate_key
from tests.helpers.support import (
    ROOT,
    archive_objects,
    crawl,
    dev_pages,
    load_json,
    rss,
    run_cli,
    write_config,
)

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ESCAPES = (
    "/h/../../../etc/passwd",
    "/h/%2e%2e/%2E%2E/escape.html",
    "/h/..%2f..%2f..%2fescape.html",
    "/h/a%00b.html",
    "/h/%2fabs%2fpath.html",
    "/h/long-" + "a" * 2000 + ".html",  # just under Scrapy's URLLENGTH_LIMIT (2083)
)
TOO_LONG = "/h/too-long-" + "b" * 4000 + ".html"
MAX_SIZE = 1024 * 1024  # DOWNLOAD_MAXSIZE for the hostile crawl
TIMEOUT = 2  # DOWNLOAD_TIMEOUT for the hostile crawl
BACKOFF = 0.25  # seconds before the first retry of the 500 page (then 0.5, 1)
# The crawl's bound: the stalled and slow pages cost one timeout each (not retried), the
# 500 page its three back-offs; everything else overlaps with them.
MAX_SECONDS = 20
BOMB_SIZE = 64 * MAX_SIZE  # what a bomb inflates to
SECRET = "WIREARCHIVE-XXE-SECRET-7f3a9c"
WORDS = [
    "council",
    "budget",
    "schools",
    "roads",
    "water",
    "officials",
    "plan",
    "month",
    "spending",
    "transport",
    "year",
    "minister",
    "river",
    "bridge",
    "election",
    "vote",
    "court",
    "judge",
    "police",
    "harbour",
    "farmers",
    "market",
    "prices",
    "wheat",
    "storm",
    "coast",
    "village",
    "hospital",
    "doctors",
    "nurses",
    "strike",
    "union",
    "wages",
    "factory",
    "export",
    "border",
    "talks",
    "treaty",
    "army",
    "rebels",
    "ceasefire",
    "refugees",
    "camp",
    "aid",
    "convoy",
    "governor",
    "mayor",
    "parliament",
    "opposition",
    "protest",
    "square",
    "capital",
    "province",
    "drought",
    "harvest",
    "railway",
    "airport",
]


def story_page(title: str, extra: str = "", charset_meta: str = "") -> str:
    """An article page long enough to pass extraction, its text unique to its title."""
    rng = random.Random(title)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(70)).capitalize() + f". {extra}</p>"
        for _ in range(6)
    )
    return (
        f"<!doctype html><html><head>{charset_meta}<title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def stalled() -> Iterator[bytes]:
    """Send the start of a page, then nothing for longer than the download timeout."""
    yield b"<!doctype html><html><body><p>"
    time.sleep(TIMEOUT * 3)
    yield b"too late</p></body></html>"


def streamed_oversize() -> Iterator[bytes]:
    """A page that never says how long it is and goes on past DOWNLOAD_MAXSIZE."""
    piece = b"<p>" + b"x" * (64 * 1024) + b"</p>"
    for _ in range(4 * MAX_SIZE // len(piece)):
        yield piece


def slow(path: str, headers: Mapping[str, str]) -> Resource:
    time.sleep(TIMEOUT * 2)  # no status line before the timeout
    return Resource(b"<html>late</html>", "text/html")


class Counter:
    """Answer with a fixed resource and count the requests."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.calls = 0

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        self.calls += 1
        return self.resource


def bomb(coding: str) -> bytes:
    zeros = b"\0" * BOMB_SIZE
    if coding == "gzip":
        return gzip.compress(zeros, 9)
    if coding == "deflate":
        return zlib.compress(zeros, 9)
    return brotli.compress(zeros, quality=5)


def _lol(level: int) -> str:
    return "&lol;" if level == 0 else f"&lol{level};"


ENTITY_BOMB = (
    '<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY lol{n} "{_lol(n - 1) * 10}">' for n in range(1, 10))
    + "]>"
)


@dataclass
class HostileRun:
    site: LoopbackServer
    result: Any
    summary: Any
    archive: Path
    seconds: float
    outcomes: dict[str, str]  # path -> reason, from the "skipped" / DropItem log lines
    counters: dict[str, Counter]
    secret_file: Path


def _outcomes(log: str, base: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in re.finditer(rf"skipped {re.escape(base)}(\S+): (\w+)", log):
        found[match.group(1)] = match.group(2)
    for match in re.finditer(rf"Dropped: {re.escape(base)}(\S+): (\w+)", log):
        found[match.group(1)] = match.group(2)
    return found


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory,
    sitemap_memory: subprocess.Popen[str],  # started first, so it runs during the crawl
) -> Iterator[HostileRun]:
    tmp_path = tmp_path_factory.mktemp("hostile")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET, encoding="utf-8")
    good = next(iter(dev_pages().values()))
    site = LoopbackServer()
    counters = {
        "/h/500.html": Counter(Resource(b"oops", "text/html", status=500)),
        "/h/stall.html": Counter(Resource(b"", "text/html", stream=stalled)),
    }
    routes: dict[str, Any] = {
        "/robots.txt": Resource(b"User-agent: *\nAllow: /\n", "text/plain"),
        "/h/ok.html": Resource(good, "text/html"),
        # Not HTML.
        "/h/report.pdf": Resource(b"%PDF-1.4\n" + b"\x00\xff" * 500, "application/pdf"),
        "/h/data.json": Resource(b'{"title": "not a page"}', "application/json"),
        "/h/blob": Resource(bytes(range(256)) * 40, "application/octet-stream"),
        "/h/image.png": Resource(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png"),
        "/h/untyped": Resource(b"\x00\x01\x02 binary junk", None),
        # Too large: declared up front, and streamed without a length.
        "/h/big-declared.html": Resource(b"<p>" + b"y" * (2 * MAX_SIZE), "text/html"),
        "/h/big-streamed.html": Resource(b"", "text/html", stream=streamed_oversize),
        # Content-coding bombs.
        **{
            f"/h/bomb-{coding}.html": Resource(
                bomb(coding), "text/html", headers={"Content-Encoding": coding}
            )
            for coding in ("gzip", "deflate", "br")
        },
        # Bad bytes and lying charsets: archived, with sane text.
        "/h/bad-bytes.html": Resource(
            story_page("Invalid bytes", "BAD")
            .encode()
            .replace(b"BAD", b"\xff\xfe\xc3 \x00\x1b end."),
            "text/html; charset=utf-8",
        ),
        "/h/self-redirect.html": Resource(
            b"", "text/html", 307, {"Location": "/h/self-redirect.html#x"}
        ),
        "/h/says-utf8-is-cp1252.html": Resource(
            story_page("Caf\u00e9 owners protest", "Caf\u00e9s closed.").encode("cp1252"),
            "text/html; charset=utf-8",
        ),
        "/h/says-latin1-is-utf8.html": Resource(
            story_page("Na\u00efve budget", "\u201cQuoted\u201d \u00e9t\u00e9.").encode(),
            "text/html; charset=iso-8859-1",
        ),
        "/h/unknown-charset.html": Resource(
            story_page("Unknown charset", "Gr\u00fc\u00dfe.").encode(),
            "text/html; charset=x-no-such-charset",
        ),
        "/h/utf16-lie.html": Resource(
            story_page("Claims UTF-16", '<meta charset="utf-16">').encode(),
            "text/html",
        ),
        # Redirects: a loop, a chain longer than REDIRECT_MAX_TIMES, a short chain that lands.
        "/h/loop-a.html": Resource(b"", "text/html", 302, {"Location": "/h/loop-b.html"}),
        "/h/loop-b.html": Resource(b"", "text/html", 302, {"Location": "/h/loop-a.html"}),
        **{
            f"/h/chain-{n}.html": Resource(
                b"", "text/html", 301, {"Location": f"/h/chain-{n + 1}.html"}
            )
            for n in range(30)
        },
        **{
            f"/h/hop-{n}.html": Resource(
                b"", "text/html", 302, {"Location": f"/h/hop-{n + 1}.html"}
            )
            for n in range(3)
        },
        "/h/hop-3.html": Resource(story_page("After three hops").encode(), "text/html"),
        # Slow and stalled.
        "/h/slow.html": slow,
        # Status codes.
        "/h/gone.html": Resource(b"gone", "text/html", status=410),
        # Empty body.
        "/h/empty.html": Resource(b"", "text/html"),
        # URLs crafted to escape archive keys: ids are hashes, so they cannot.
        **{
            path: Resource(story_page(f"Escape {n}").encode(), "text/html")
            for n, path in enumerate(ESCAPES)
        },
        **counters,
    }
    site.routes.update(routes)
    articles = [
        path
        for path in routes
        if path.startswith("/h/") and not path.startswith(("/h/loop-b", "/h/chain-", "/h/hop-"))
    ]
    articles += ["/h/chain-0.html", "/h/hop-0.html", "/h/404.html", *ESCAPES, TOO_LONG]
    xxe = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret_file}">]>'
    external_dtd = '<!DOCTYPE r SYSTEM "{dtd}">'
    with site.running():
        dtd = site.url("/evil.dtd")
        site.routes["/evil.dtd"] = Resource(
            f'<!ENTITY xxe SYSTEM "file://{secret_file}">'.encode(), "application/xml-dtd"
        )
        site.routes["/feed.xml"] = Resource(
            rss((site.url(path), WHEN) for path in articles), "application/rss+xml"
        )
        site.routes["/xxe-feed.xml"] = Resource(
            (
                f'<?xml version="1.0"?>{xxe}<rss version="2.0"><channel><title>&xxe;</title>'
                f"<item><title>&xxe;</title><link>{site.url('/h/xxe-link.html')}?q=&xxe;</link>"
                "</item></channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
        site.routes["/bomb-feed.xml"] = Resource(
            (
                f'<?xml version="1.0"?>{ENTITY_BOMB}<rss version="2.0"><channel><title>&lol9;'
                f"</title><item><title>&lol9;</title><link>{site.url('/h/bomb-link.html')}</link>"
                "</item></channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
        site.routes["/dtd-feed.xml"] = Resource(
            (
                f'<?xml version="1.0"?>{external_dtd.format(dtd=dtd)}<rss version="2.0"><channel>'
                f"<item><title>&xxe;</title><link>{site.url('/h/dtd-link.html')}?q=&xxe;</link>"
                "</item></channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
        urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        site.routes["/xxe-sitemap.xml"] = Resource(
            (
                f'<?xml version="1.0"?>{xxe.replace("DOCTYPE r", "DOCTYPE urlset")}{urlset}'
                f"<url><loc>{site.url('/h/xxe-sitemap-link.html')}?q=&xxe;</loc></url></urlset>"
            ).encode(),
            "application/xml",
        )
        site.routes["/bomb-sitemap.xml"] = Resource(
            (
                f'<?xml version="1.0"?>{ENTITY_BOMB}{urlset}'
                f"<url><loc>{site.url('/h/bomb-sitemap-link.html')}&lol9;</loc></url></urlset>"
            ).encode(),
            "application/xml",
        )
        gz_bomb = gzip.compress(
            (f'<?xml version="1.0"?>{urlset}<url><loc>' + " " * BOMB_SIZE).encode(), 9
        )
        site.routes["/sitemap-bomb.xml.gz"] = Resource(gz_bomb, "application/x-gzip")
        site.routes["/sitemap-bomb-coded.xml"] = Resource(
            gz_bomb, "application/xml", headers={"Content-Encoding": "gzip"}
        )
        for link in ("xxe-link", "bomb-link", "dtd-link", "xxe-sitemap-link", "bomb-sitemap-link"):
            site.routes[f"/h/{link}.html"] = Resource(story_page(link).encode(), "text/html")
        started = time.monotonic()
        result, summary, archive = crawl(
            tmp_path,
            [
                {
                    "name": "hostile",
                    "feeds": [
                        site.url(path)
                        for path in (
                            "/feed.xml",
                            "/xxe-feed.xml",
                            "/bomb-feed.xml",
                            "/dtd-feed.xml",
                        )
                    ],
                    "sitemaps": [
                        site.url(path)
                        for path in (
                            "/xxe-sitemap.xml",
                            "/bomb-sitemap.xml",
                            "/sitemap-bomb.xml.gz",
                            "/sitemap-bomb-coded.xml",
                        )
                    ],
                }
            ],
            "-v",
            "-s",
            f"DOWNLOAD_MAXSIZE={MAX_SIZE}",
            "-s",
            f"DOWNLOAD_WARNSIZE={MAX_SIZE}",
            "-s",
            f"DOWNLOAD_TIMEOUT={TIMEOUT}",
            "-s",
            "CONCURRENT_REQUESTS=16",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            f"WIREARCHIVE_RETRY_BACKOFF_BASE={BACKOFF}",
        )
        seconds = time.monotonic() - started
        yield HostileRun(
            site,
            result,
            summary,
            archive,
            seconds,
            _outcomes(result.stderr, site.base_url),
            counters,
            secret_file,
        )


def _articles_by_path(run: HostileRun) -> dict[str, Any]:
    found = {}
    for path in archive_objects(run.archive, "articles"):
        article = load_json(path)
        found[article["url"].removeprefix(run.site.base_url)] = article
    return found


EXPECTED_OUTCOMES = {
    "/h/report.pdf": "not_html",
    "/h/data.json": "not_html",
    "/h/blob": "not_html",
    "/h/image.png": "not_html",
    "/h/untyped": "not_html",
    "/h/big-declared.html": "too_large",
    "/h/big-streamed.html": "too_large",
    "/h/bomb-gzip.html": "too_large",
    "/h/bomb-deflate.html": "too_large",
    "/h/bomb-br.html": "too_large",
    "/h/loop-b.html": "redirect_loop",
    "/h/self-redirect.html": "redirect_loop",
    "/h/chain-10.html": "too_many_redirects",
    "/h/slow.html": "timeout",
    "/h/stall.html": "timeout",
    "/h/404.html": "http_404",
    "/h/gone.html": "http_410",
    "/h/500.html": "http_500",
    "/h/empty.html": "no_body",
}
ARCHIVED = {
    *ESCAPES,
    "/h/ok.html",
    "/h/bad-bytes.html",
    "/h/says-utf8-is-cp1252.html",
    "/h/says-latin1-is-utf8.html",
    "/h/unknown-charset.html",
    "/h/utf16-lie.html",
    "/h/hop-3.html",
}


def test_the_run_succeeds_fast_and_accounts_for_every_page(hostile: HostileRun) -> None:
    assert hostile.result.status == 0, hostile.result.stderr[-3000:]
    assert "Traceback" not in hostile.result.stderr
    assert hostile.summary["status"] == "ok"
    # One timeout per stalled page (2 s, not retried) and the 500's back-offs bound the run.
    assert hostile.seconds < MAX_SECONDS, hostile.seconds
    rejected = hostile.summary["rejected"]
    assert sum(rejected.values()) == len(EXPECTED_OUTCOMES) + 1  # + the over-long URL
    assert hostile.summary["articles_archived"] == len(_articles_by_path(hostile))
    # Every article page answered is archived or counted, never lost.
    counted_answered = sum(
        count for reason, count in rejected.items() if reason in ("not_html", "no_body")
    ) + sum(count for reason, count in rejected.items() if reason.startswith("http_"))
    assert hostile.summary["pages_fetched"] == (
        hostile.summary["articles_archived"] + counted_answered
    )


@pytest.mark.parametrize(("path", "reason"), sorted(EXPECTED_OUTCOMES.items()))
def test_each_hostile_page_is_counted_under_its_reason(
    hostile: HostileRun, path: str, reason: str
) -> None:
    assert hostile.outcomes.get(path) == reason
    assert path not in _articles_by_path(hostile)


def test_counts_by_reason(hostile: HostileRun) -> None:
    expected: dict[str, int] = {}
    for reason in [*EXPECTED_OUTCOMES.values(), "url_too_long"]:  # TOO_LONG is never requested
        expected[reason] = expected.get(reason, 0) + 1
    assert hostile.summary["rejected"] == expected


def test_500_is_retried_then_counted(hostile: HostileRun) -> None:
    assert hostile.counters["/h/500.html"].calls == 4  # RETRY_TIMES = 3
    # A stalled article page costs one timeout: it is counted, and asked again next run.
    assert hostile.counters["/h/stall.html"].calls == 1


def test_oversize_and_bombs_are_never_archived_in_any_form(hostile: HostileRun) -> None:
    limit = MAX_SIZE
    stored = [
        path for kind in ("articles", "raw", "duplicates")
        for path in archive_objects(hostile.archive, kind)
    ]  # fmt: skip
    assert len(stored) >= 2 * len(ARCHIVED)  # an article and its raw record each
    for path in stored:
        assert path.stat().st_size < limit, path


def test_redirect_chain_stops_at_the_limit(hostile: HostileRun) -> None:
    requested = [path for path in hostile.site.requests if path.startswith("/h/chain-")]
    assert len(requested) == 11  # REDIRECT_MAX_TIMES = 10, then counted
    assert hostile.site.requests.count("/h/loop-a.html") == 1
    assert hostile.site.requests.count("/h/self-redirect.html") == 1


def test_short_redirect_chain_lands_and_is_archived(hostile: HostileRun) -> None:
    article = _articles_by_path(hostile)["/h/hop-3.html"]
    assert article["title"] == "After three hops"


def test_bad_bytes_and_lying_charsets_are_archived_with_sane_text(hostile: HostileRun) -> None:
    articles = _articles_by_path(hostile)
    assert set(articles) >= ARCHIVED
    for path in ARCHIVED - {"/h/ok.html", *ESCAPES}:
        text = articles[path]["text"]
        assert len(text) > 1000, path
        assert not any(ord(char) < 32 and char not in "\n\t" for char in text), path
        assert sum(word in text.lower() for word in WORDS) > 20, path
    bad = articles["/h/bad-bytes.html"]["text"]
    assert "\ufffd" in bad  # invalid UTF-8 becomes U+FFFD, never an error
    assert "end." in bad
    # A lie about the charset costs the lying characters, not the page.
    assert "protest" in articles["/h/says-utf8-is-cp1252.html"]["title"]
    assert articles["/h/unknown-charset.html"]["text"].count("Grüße") >= 1
    assert "Claims UTF-16" in articles["/h/utf16-lie.html"]["title"]


def test_entities_are_not_expanded_and_files_not_read(hostile: HostileRun) -> None:
    secret = SECRET.encode()
    for kind in ("articles", "raw", "duplicates", "runs"):
        for path in archive_objects(hostile.archive, kind):
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            assert secret not in data, path
            assert b"lollollollollollollollollollollollollollollollollollollollol" not in data
    assert SECRET not in hostile.result.stdout + hostile.result.stderr
    assert not any(SECRET in path for path in hostile.site.requests)
    assert "/evil.dtd" not in hostile.site.requests  # no external DTD is fetched
    errors = hostile.summary["error_details"]
    assert errors.get("feed", 0) >= 1  # the billion-laughs feed is reported, not expanded
    assert errors.get("sitemap", 0) >= 1


def test_sitemap_bombs_are_counted_errors(hostile: HostileRun) -> None:
    log = hostile.result.stderr
    assert "sitemap-bomb.xml.gz: inflates past" in log
    assert hostile.summary["error_details"].get("discovery_too_large") == 1


def test_crafted_urls_cannot_escape_the_archive(hostile: HostileRun) -> None:
    articles = _articles_by_path(hostile)
    assert set(ESCAPES) <= set(articles)  # archived, under their hashed ids
    root = hostile.archive.resolve()
    name = re.compile(r"^[0-9a-f]{20}\.(json|warc\.gz)$")
    for kind in ("articles", "raw"):
        for path in archive_objects(hostile.archive, kind):
            assert path.resolve().is_relative_to(root / kind)
            assert name.match(path.name), path
            assert path.relative_to(root).parts[1] == "hostile"
    every = [path.relative_to(root) for path in root.rglob("*")]
    assert all(len(str(path)) < 200 for path in every)


def test_a_url_over_the_length_limit_is_counted_not_lost(hostile: HostileRun) -> None:
    assert TOO_LONG not in hostile.site.requests
    assert "url_too_long" in hostile.summary["rejected"]


# --- a 50,000-URL sitemap: streamed, bounded memory --------------------------------------

BIG_SITEMAP_URLS = 50_000


def big_sitemap(base: str, count: int = BIG_SITEMAP_URLS) -> bytes:
    """A urlset of ``count`` pages, built piece by piece (no big transient lists)."""
    out = io.BytesIO()
    out.write(b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    for n in range(count):
        out.write(
            f"<url><loc>{base}/world/story-{n:06d}-with-a-longish-slug-about-the-news.html"
            "</loc><lastmod>2026-11-20T09:30:00Z</lastmod></url>".encode()
        )
    out.write(b"</urlset>")
    return out.getvalue()


MEMORY_SCRIPT = """
import resource, tracemalloc
from tests.test_hostile import BIG_SITEMAP_URLS, big_sitemap
from crawler.discovery.sitemaps import parse_sitemap
body = big_sitemap("https://news.example.com")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
parsed = parse_sitemap(body, "https://news.example.com/sitemap.xml")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert len(parsed.pages) == BIG_SITEMAP_URLS and not parsed.errors, parsed.errors
del parsed
tracemalloc.start()
parsed = parse_sitemap(body, "https://news.example.com/sitemap.xml")
retained, peak = tracemalloc.get_traced_memory()
print(len(parsed.pages), after - before, retained // 1024, peak // 1024)
"""


@pytest.fixture(scope="module")
def sitemap_memory() -> Iterator[subprocess.Popen[str]]:
    """Measure parse_sitemap on 50,000 URLs in a fresh process, alongside the crawls."""
    process = subprocess.Popen(
        [sys.executable, "-c", MEMORY_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    yield process
    process.kill()
    process.wait()


def test_parsing_a_50k_sitemap_keeps_memory_bounded(
    sitemap_memory: subprocess.Popen[str],
) -> None:
    out, err = sitemap_memory.communicate(timeout=120)
    assert sitemap_memory.returncode == 0, err
    pages, rss_grown_kib, retained_kib, peak_kib = map(int, out.split())
    assert pages == BIG_SITEMAP_URLS
    # Python objects (tracemalloc): what is kept is the links themselves; the parse adds
    # little on top of them (~2 MiB; a whole tree's element proxies and lists added ~10).
    assert peak_kib - retained_kib < 4 * 1024, (peak_kib, retained_kib)
    # Native memory (libxml2 allocates outside tracemalloc's sight): peak RSS growth. A
    # whole lxml tree of this 7 MB document grew it by ~60 MiB; streamed, by ~16 MiB.
    assert rss_grown_kib < 32 * 1024, rss_grown_kib


def test_a_50k_sitemap_is_crawled_quickly_with_only_allowed_links_fetched(
    tmp_path: Path,
) -> None:
    site = LoopbackServer()
    with site.running():
        site.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
        site.routes["/sitemap.xml.gz"] = Resource(
            gzip.compress(big_sitemap(site.base_url)), "application/x-gzip"
        )
        wanted = [
            f"/world/story-{n:06d}-with-a-longish-slug-about-the-news.html" for n in (7, 49_999)
        ]
        for path in wanted:
            site.routes[path] = Resource(story_page(path).encode(), "text/html")
        started = time.monotonic()
        result, summary, archive = crawl(
            tmp_path,
            [
                {
                    "name": "big",
                    "sitemaps": [site.url("/sitemap.xml.gz")],
                    "allow": [r"story-(000007|049999)-"],
                }
            ],
        )
        seconds = time.monotonic() - started
    assert result.status == 0, result.stderr[-2000:]
    assert summary["discovery"]["filtered"] == BIG_SITEMAP_URLS - 2
    assert summary["articles_archived"] == 2
    assert sorted(p for p in site.requests if p.startswith("/world/")) == sorted(wanted)
    assert len(archive_objects(archive, "articles")) == 2
    assert seconds < 40


# --- names and keys crafted to escape the archive ----------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../escape",
        "/etc",
        "a/../../b",
        "a\x00b",
        "x" * 65,
        "Upper",
        "",
        ".",
        "-dash",
        "a b",
        "a\\b",
    ],
)
def test_source_names_that_could_escape_keys_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="name"):
        parse_config({"sources": [{"name": name, "feeds": ["https://example.org/f"]}]}, "s.yaml")


def test_a_crafted_source_name_stops_the_cli_before_anything_is_written(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "s.yaml", [{"name": "../../escape", "feeds": ["https://example.org/f"]}]
    )
    archive = tmp_path / "archive"
    result = run_cli(["crawl", "--config", str(config), "--archive", str(archive)])
    assert result.status == 1
    assert "name" in result.stderr
    assert not archive.exists()
    assert not (tmp_path.parent / "escape").exists()


@pytest.mark.parametrize(
    "key",
    [
        "../outside.json",
        "articles/../../outside.json",
        "/etc/passwd",
        "articles/x/./y.json",
        "articles//y.json",
        "articles/x\x00.json",
        "articles\\..\\..\\outside.json",
        "",
        "..",
        "articles/x/",
    ],
)
def test_unsafe_keys_are_refused_by_the_store(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)
    store = LocalStore(tmp_path / "archive")
    with pytest.raises(InvalidKey):
        store.put(key, b"x")
    assert not (tmp_path / "outside.json").exists()
    assert list(tmp_path.rglob("*.json")) == []


def test_a_very_long_key_fails_as_a_store_error_inside_the_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    with pytest.raises(StoreError):
        store.put("articles/" + "a" * 5000 + ".json", b"x")
    with pytest.raises(StoreError):
        store.put("articles/" + "/".join(["d" * 200] * 40) + ".json", b"x")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
