"""Backfills: exactly the in-range pages of a source's history, or exactly the listed URLs."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from crawler.discovery.periods import sitemap_period
from pipelines.daterange import DateRange, DateRangeError
from tests.helpers.support import (
    DEV_SET,
    FAST_CRAWL,
    FIXTURES,
    archive_objects,
    dev_pages,
    load_json,
    run_cli,
    write_config,
)

MONTH_START = date(2026, 10, 1)
SINCE, UNTIL = "2026-10-10", "2026-10-20"


@pytest.mark.parametrize(
    ("url", "period"),
    [
        ("https://x.org/sitemap-2019-11.xml", (date(2019, 11, 1), date(2019, 11, 30))),
        ("https://x.org/sitemap-2024-02.xml.gz", (date(2024, 2, 1), date(2024, 2, 29))),
        ("https://x.org/sitemaps/2019/11/05.xml", (date(2019, 11, 5), date(2019, 11, 5))),
        ("https://x.org/news_20191105.xml", (date(2019, 11, 5), date(2019, 11, 5))),
        ("https://x.org/sitemap_2019_12.xml", (date(2019, 12, 1), date(2019, 12, 31))),
        ("https://x.org/sitemap.xml", None),
        ("https://x.org/sitemap-posts-3.xml", None),
        ("https://x.org/sitemap-2019-13.xml", None),
        ("https://x.org/post-sitemap12345.xml", None),
    ],
)
def test_sitemap_period(url: str, period: tuple[date, date] | None) -> None:
    assert sitemap_period(url) == period


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (date(2026, 10, 9), False),
        (date(2026, 10, 10), True),
        (date(2026, 10, 20), True),
        (date(2026, 10, 21), False),
        (datetime.fromisoformat("2026-10-20T23:30:00-05:00"), False),  # 21st in UTC
        (datetime.fromisoformat("2026-10-10T01:00:00+03:00"), False),  # 9th in UTC
        (None, None),
    ],
)
def test_date_range_is_inclusive_utc_days(moment: Any, inside: bool | None) -> None:
    assert DateRange(date(2026, 10, 10), date(2026, 10, 20)).contains(moment) is inside


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(DateRangeError, match="before"):
        DateRange(date(2026, 10, 20), date(2026, 10, 10))


def undated_page(title: str, published: str, body: str) -> bytes:
    template = (FIXTURES / "backfill" / "article.html").read_text(encoding="utf-8")
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n") if p.strip())
    return template.format(
        title=html.escape(title), published=published, paragraphs=paragraphs
    ).encode()


@pytest.fixture
def history() -> Iterator[tuple[LoopbackServer, dict[str, Any]]]:
    """A source with a month of dated sitemap entries, an old sitemap, and undated listings."""
    pages = list(dev_pages().values())
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = sorted((t["articleBody"] for t in truth.values()), key=len, reverse=True)
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    with server.running():
        dated = {}
        for day in range(31):
            path = f"/2026/10/story-{day}.html"
            server.routes[path] = Resource(pages[day], "text/html")
            dated[server.url(path)] = MONTH_START + timedelta(days=day)
        entries = "".join(
            f"<url><loc>{url}</loc><lastmod>{when.isoformat()}</lastmod></url>"
            for url, when in dated.items()
        )
        urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        server.routes["/sitemap-2026-10.xml"] = Resource(
            f'<?xml version="1.0"?>{urlset}{entries}</urlset>'.encode(), "application/xml"
        )
        server.routes["/sitemap-2026-09.xml"] = Resource(
            f'<?xml version="1.0"?>{urlset}<url><loc>{server.url("/old.html")}</loc></url>'
            "</urlset>".encode(),
            "application/xml",
        )
        index = "".join(
            f"<sitemap><loc>{server.url(name)}</loc></sitemap>"
            for name in ("/sitemap-2026-09.xml", "/sitemap-2026-10.xml")
        )
        server.routes["/sitemap.xml"] = Resource(
            f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{index}</sitemapindex>'.encode(),
            "application/xml",
        )
        undated = {}
        for number, published in enumerate(("2026-10-15T09:00:00Z", "2026-10-25T09:00:00Z")):
            path = f"/undated/{number}.html"
            title = f"Undated story {number}"
            server.routes[path] = Resource(
                undated_page(title, published, bodies[number]), "text/html"
            )
            undated[server.url(path)] = published
        links = "".join(f'<a href="{url}">story</a> ' for url in undated)
        server.routes["/latest/"] = Resource(
            f"<html><body><h1>Latest</h1>{links}</body></html>".encode(), "text/html"
        )
        yield server, {"dated": dated, "undated": undated}


def backfill(tmp_path: Path, server: LoopbackServer, *extra: str) -> tuple[Any, Any, Path]:
    config = write_config(
        tmp_path / "sources.yaml",
        [
            {
                "name": "times",
                "sitemaps": [server.url("/sitemap.xml")],
                "start_urls": [server.url("/latest/")],
                "allow": ["/(2026|undated)/"],
            }
        ],
        allow_private_addresses=True,
    )
    archive = tmp_path / "archive"
    summary = tmp_path / "summary.json"
    args = ["backfill", "--source", "times", "--config", str(config), "--archive", str(archive)]
    result = run_cli([*args, "--summary", str(summary), *FAST_CRAWL, *extra])
    return result, (load_json(summary) if summary.exists() else None), archive


def test_month_range_archives_exactly_the_in_range_pages(
    tmp_path: Path, history: tuple[LoopbackServer, dict[str, Any]]
) -> None:
    server, info = history
    result, summary, archive = backfill(tmp_path, server, "--since", SINCE, "--until", UNTIL)
    assert result.status == 0, result.stderr
    archived = {load_json(path)["url"] for path in archive_objects(archive, "articles")}
    wanted = DateRange(date.fromisoformat(SINCE), date.fromisoformat(UNTIL))
    in_range = {url for url, day in info["dated"].items() if wanted.contains(day)}
    in_range |= {url for url, when in info["undated"].items() if wanted.contains_iso(when)}
    assert archived == in_range
    assert summary["mode"] == "backfill"
    assert summary["range"]["since"] == SINCE
    assert summary["rejected"] == {"out_of_range": 1}  # the undated page of the 25th
    # The September sitemap's whole period is out of range: never fetched.
    assert "/sitemap-2026-09.xml" not in server.requests
    fetched = [path for path in server.requests if path.startswith("/2026/10/story-")]
    assert len(fetched) == len(in_range) - 1
    # Resumable: a second run fetches nothing it archived.
    again, summary, _archive = backfill(tmp_path, server, "--since", SINCE, "--until", UNTIL)
    assert again.status == 0, again.stderr
    assert summary["skipped"] == len(in_range)
    assert summary["articles_archived"] == 0


def test_urls_file_archives_exactly_the_listed_pages(
    tmp_path: Path, history: tuple[LoopbackServer, dict[str, Any]]
) -> None:
    server, info = history
    listed = list(info["dated"])[:3]
    urls = tmp_path / "urls.txt"
    urls.write_text("# three stories\n" + "\n".join(listed) + "\n\n", encoding="utf-8")
    result, summary, archive = backfill(tmp_path, server, "--urls", str(urls))
    assert result.status == 0, result.stderr
    assert {load_json(p)["url"] for p in archive_objects(archive, "articles")} == set(listed)
    assert "/sitemap.xml" not in server.requests
    assert summary["range"]["urls"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not a date"),
        (["--since", "2026-10-20", "--until", "2026-10-01"], "is before --since"),
    ],
)
def test_bad_ranges_are_usage_errors(
    tmp_path: Path, history: tuple[LoopbackServer, dict[str, Any]], extra: list[str], message: str
) -> None:
    server, _info = history
    result, _summary, _archive = backfill(tmp_path, server, *extra)
    assert result.status == 2
    assert message in result.stderr


def test_a_bad_urls_line_names_the_line(
    tmp_path: Path, history: tuple[LoopbackServer, dict[str, Any]]
) -> None:
    server, _info = history
    urls = tmp_path / "urls.txt"
    urls.write_text("https://example.org/a.html\nnot a url\n", encoding="utf-8")
    result, _summary, _archive = backfill(tmp_path, server, "--urls", str(urls))
    assert result.status == 2
    assert "line 2: 'not a url' is not an http(s) URL" in result.stderr
