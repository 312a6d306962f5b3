"""Every fetched page is archived or counted; bad input gets a clear answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from tests.helpers.support import (
    FIXTURES,
    archive_objects,
    dev_pages,
    rss,
    run_cli,
    write_config,
)
from tests.helpers.support import (
    crawl as crawl_sources,
)

PAGE_COUNT = 4
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def articles() -> list[bytes]:
    return list(dev_pages().values())[:PAGE_COUNT]


class Flaky:
    """Answer 503 with Retry-After once, then the page."""

    def __init__(self, page: bytes) -> None:
        self.page = page
        self.calls = 0

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        self.calls += 1
        if self.calls == 1:
            return Resource(b"busy", "text/plain", status=503, headers={"Retry-After": "1"})
        return Resource(self.page, "text/html")


@pytest.fixture
def site(articles: list[bytes]) -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    for number, body in enumerate(articles):
        server.routes[f"/news/{number}.html"] = Resource(body, "text/html")
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    with server.running():
        yield server


def crawl(tmp_path: Path, site: LoopbackServer, source: dict[str, Any], *extra: str) -> Any:
    return crawl_sources(tmp_path, [{"name": "fixture", **source}], *extra)


def test_404_and_robots_and_non_html_are_counted_not_fatal(
    tmp_path: Path, site: LoopbackServer
) -> None:
    site.routes["/news/report.pdf"] = Resource(b"%PDF-1.4 ...", "application/pdf")
    urls = [site.url(f"/news/{n}.html") for n in range(PAGE_COUNT)] + [
        site.url("/news/gone.html"),
        site.url("/private/secret.html"),
        site.url("/news/report.pdf"),
    ]
    site.routes["/feed.xml"] = Resource(rss((url, WHEN) for url in urls), "application/rss+xml")
    result, summary, archive = crawl(tmp_path, site, {"feeds": [site.url("/feed.xml")]})
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == PAGE_COUNT
    assert summary["rejected"] == {"http_404": 1, "robots_txt": 1, "not_html": 1}
    assert summary["pages_fetched"] == PAGE_COUNT + 2  # the 404 and the PDF were answered
    assert "/private/secret.html" not in site.requests
    assert len(archive_objects(archive, "articles")) == PAGE_COUNT


def test_malformed_feed_yields_what_parses_and_counts_an_error(
    tmp_path: Path, site: LoopbackServer
) -> None:
    whole = rss((site.url(f"/news/{n}.html"), WHEN) for n in range(PAGE_COUNT))
    cut = whole[: whole.rindex(b"<item>", 0, whole.index(b"/news/2.html"))]  # two items survive
    site.routes["/feed.xml"] = Resource(cut + b"<item><link>", "application/rss+xml")
    result, summary, _archive = crawl(tmp_path, site, {"feeds": [site.url("/feed.xml")]})
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == 2
    assert summary["error_details"].get("feed", 0) >= 1


def test_malformed_sitemap_yields_what_parses_and_counts_an_error(
    tmp_path: Path, site: LoopbackServer
) -> None:
    entries = "".join(
        f"<url><loc>{site.url(f'/news/{n}.html')}</loc><lastmod>2026-11-20</lastmod></url>"
        for n in range(3)
    )
    body = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}<url><loc>{site.url('/news/3.html')}</loc><lastmod>2026-11"
    ).encode()
    site.routes["/sitemap.xml"] = Resource(body, "application/xml")
    result, summary, _archive = crawl(tmp_path, site, {"sitemaps": [site.url("/sitemap.xml")]})
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] >= 3
    assert summary["error_details"].get("sitemap", 0) >= 1


def test_listing_page_follows_only_allowed_links(tmp_path: Path, site: LoopbackServer) -> None:
    links = "".join(f'<a href="/news/{n}.html">story {n}</a>' for n in range(PAGE_COUNT))
    site.routes["/world/"] = Resource(
        f'<html><body>{links}<a href="/about.html">about</a>'
        '<a href="/tag/idlib/">tag</a></body></html>'.encode(),
        "text/html",
    )
    result, summary, _archive = crawl(
        tmp_path, site, {"start_urls": [site.url("/world/")], "allow": [r"/news/\d+\.html$"]}
    )
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == PAGE_COUNT
    assert "/about.html" not in site.requests
    assert "/tag/idlib/" not in site.requests


def test_retry_after_is_honoured(
    tmp_path: Path, site: LoopbackServer, articles: list[bytes]
) -> None:
    flaky = Flaky(articles[0])
    site.routes["/busy.html"] = flaky
    site.routes["/feed.xml"] = Resource(
        rss([(site.url("/busy.html"), WHEN)]), "application/rss+xml"
    )
    started = datetime.now(UTC)
    result, summary, _archive = crawl(tmp_path, site, {"feeds": [site.url("/feed.xml")]})
    assert result.status == 0, result.stderr
    assert flaky.calls == 2
    assert summary["retries"] == 1
    assert summary["articles_archived"] == 1
    assert (datetime.now(UTC) - started).total_seconds() >= 1.0


def test_limit_caps_article_requests(tmp_path: Path, site: LoopbackServer) -> None:
    site.routes["/feed.xml"] = Resource(
        rss((site.url(f"/news/{n}.html"), WHEN) for n in range(PAGE_COUNT)),
        "application/rss+xml",
    )
    result, summary, _archive = crawl(
        tmp_path, site, {"feeds": [site.url("/feed.xml")]}, "--limit", "2"
    )
    assert result.status == 0, result.stderr
    assert summary["pages_fetched"] == 2
    assert summary["discovery"]["over_limit"] == PAGE_COUNT - 2


class SlowFeed:
    """A feed that answers after a delay: its source's links arrive last."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.body = body
        self.delay = delay

    def __call__(self, path: str, headers: Mapping[str, str]) -> Resource:
        time.sleep(self.delay)
        return Resource(self.body, "application/rss+xml")


def test_limit_is_shared_fairly_between_sources(tmp_path: Path, articles: list[bytes]) -> None:
    # "big" lists 8 pages at once; "late" lists 4 a second later; "small" lists 1.
    # Max-min fair shares of 6: small 1 (all it has), then big 3 and late 2.
    sizes = {"big": 8, "late": 4, "small": 1}
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    for name, size in sizes.items():
        for number in range(size):
            body = articles[number % len(articles)]
            server.routes[f"/{name}/{number}.html"] = Resource(body, "text/html")
    with server.running():
        for name, size in sizes.items():
            feed = rss((server.url(f"/{name}/{n}.html"), WHEN) for n in range(size))
            route: Any = (
                SlowFeed(feed, 1.0) if name == "late" else Resource(feed, "application/rss+xml")
            )
            server.routes[f"/{name}.xml"] = route
        result, summary, _archive = crawl_sources(
            tmp_path,
            [{"name": name, "feeds": [server.url(f"/{name}.xml")]} for name in sizes],
            "--limit",
            "6",
        )
    assert result.status == 0, result.stderr[-3000:]
    fetched = {name: counts.get("fetched", 0) for name, counts in summary["per_source"].items()}
    assert fetched == {"big": 3, "late": 2, "small": 1}
    assert summary["pages_fetched"] == 6
    assert summary["discovery"]["over_limit"] == sum(sizes.values()) - 6


def test_a_link_listed_again_in_the_run_is_not_already_archived(
    tmp_path: Path, site: LoopbackServer
) -> None:
    # The feed lists the page; a slow second feed lists it again with a tracking parameter,
    # after the first copy was archived. On a first run nothing is "already archived".
    site.routes["/feed.xml"] = Resource(rss([(site.url("/news/0.html"), WHEN)]), "text/xml")
    again = rss([(site.url("/news/0.html?utm_source=feed"), WHEN)])
    site.routes["/again.xml"] = SlowFeed(again, 2.0)
    result, summary, archive = crawl(
        tmp_path, site, {"feeds": [site.url("/feed.xml"), site.url("/again.xml")]}
    )
    assert result.status == 0, result.stderr[-3000:]
    assert summary["articles_archived"] == 1
    assert summary["skipped"] == 0
    assert summary["listed_again"] == 1
    assert "listed again" in result.stdout
    assert site.requests.count("/news/0.html") == 1
    assert len(archive_objects(archive, "articles")) == 1


def test_invalid_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  - name: ok\n    feed: [https://example.org/rss]\n")
    result = run_cli(["crawl", "--config", str(config), "--archive", str(tmp_path / "a")])
    assert result.status == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "'ok'" in lines[0]
    assert "'feed'" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a").exists()


def test_unknown_source_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "s.yaml", [{"name": "real", "feeds": ["https://example.org/f"]}]
    )
    result = run_cli(["crawl", "--config", str(config), "--source", "nope"])
    assert result.status == 2
    assert "nope" in result.stderr


def test_bad_flag_is_a_usage_error() -> None:
    assert run_cli(["crawl", "--no-such-flag"]).status == 2


def test_unreachable_archive_is_fatal_before_fetching(tmp_path: Path, site: LoopbackServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    site.routes["/feed.xml"] = Resource(
        rss([(site.url("/news/0.html"), WHEN)]), "application/rss+xml"
    )
    config = write_config(
        tmp_path / "s.yaml",
        [{"name": "fixture", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    result = run_cli(
        ["crawl", "--config", str(config), "--archive", "s3://nowhere/prefix"],
        env={
            "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{closed_port}",
            "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE",
            "AWS_SECRET_ACCESS_KEY": "fake-secret-never-printed",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    assert result.status == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "fake-secret-never-printed" not in result.stderr + result.stdout
    assert site.requests == []


def test_sources_lists_and_validates(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "s.yaml",
        [
            {"name": "alpha", "feeds": ["https://example.org/f"], "schedule": "*/15 * * * *"},
            {"name": "beta", "sitemaps": ["https://example.org/s.xml"]},
        ],
    )
    result = run_cli(["sources", "--config", str(config)])
    assert result.status == 0, result.stderr
    assert "alpha" in result.stdout
    assert "beta" in result.stdout
    assert "*/15 * * * *" in result.stdout


def test_pages_not_in_the_sources_language_are_rejected(tmp_path: Path) -> None:
    template = (FIXTURES / "backfill" / "article.html").read_text(encoding="utf-8")
    body = " ".join(
        f"Sentence {n} of a plain English news story about the port." for n in range(30)
    )
    page = template.format(
        title="Port reopens", published="2026-11-20T09:00:00Z", paragraphs=f"<p>{body}</p>"
    ).encode()
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    server.routes["/a.html"] = Resource(page, "text/html")
    with server.running():
        server.routes["/feed.xml"] = Resource(rss([(server.url("/a.html"), None)]), "text/xml")
        feeds = {"feeds": [server.url("/feed.xml")]}
        (tmp_path / "de").mkdir()
        (tmp_path / "en").mkdir()
        _result, german, _archive = crawl_sources(
            tmp_path / "de", [{"name": "de", "language": "de", **feeds}]
        )
        _result, english, _archive = crawl_sources(
            tmp_path / "en", [{"name": "en", "language": "en", **feeds}]
        )
    assert german["rejected"] == {"wrong_language": 1}
    assert english["articles_archived"] == 1
