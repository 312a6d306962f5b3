"""Only http(s) is fetched, however a URL arrives; no proxy carries a request past the guard."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from crawler.runner import project_settings
from crawler.sources import load_config
from tests.helpers.support import archive_objects, crawl, dev_pages, rss, run_cli, write_config

SECRET = "WIREARCHIVE-LOCAL-FILE-SECRET-41c7"
BODY_MARK = "WIREARCHIVE-BODY-NEVER-LOGGED-9d2e"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.html"
    path.write_text(f"<html><body><article><p>{SECRET}</p></article></body></html>", "utf-8")
    return path


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    server.routes["/article/ok.html"] = Resource(next(iter(dev_pages().values())), "text/html")
    with server.running():
        yield server


def _everything_written(archive: Path) -> bytes:
    data = b""
    for kind in ("articles", "raw", "duplicates", "runs"):
        for path in archive_objects(archive, kind):
            raw = path.read_bytes()
            data += gzip.decompress(raw) if path.suffix == ".gz" else raw
    return data


def test_a_listing_linking_to_local_files_and_ftp_archives_nothing_from_them(
    tmp_path: Path, site: LoopbackServer, secret_file: Path
) -> None:
    links = [
        f"file://{secret_file}?/article/1",
        "file:///proc/self/environ#/article/2",
        "file:///dev/zero?/article/3",
        site.url("/article/4").replace("http://", "ftp://"),
        site.url("/article/ok.html"),
    ]
    listing = "".join(f'<a href="{link}">story</a> ' for link in links)
    site.routes["/world/"] = Resource(f"<html><body>{listing}</body></html>".encode(), "text/html")
    result, summary, archive = crawl(
        tmp_path,
        [{"name": "local", "start_urls": [site.url("/world/")], "allow": ["/article/"]}],
        "-v",
    )
    assert result.status == 0, result.stderr[-3000:]
    assert summary["rejected"] == {"bad_scheme": 4}
    assert summary["per_source"]["local"]["rejected"] == 4
    assert summary["articles_archived"] == 1
    assert len(archive_objects(archive, "articles")) == 1
    assert SECRET.encode() not in _everything_written(archive)
    assert SECRET not in result.stdout + result.stderr
    assert "/article/4" not in site.requests  # nothing went to the FTP port either


def test_a_redirect_or_meta_refresh_to_a_local_file_is_refused_and_counted(
    tmp_path: Path, site: LoopbackServer, secret_file: Path
) -> None:
    target = f"file://{secret_file}?/article/x"
    site.routes["/article/moved.html"] = Resource(b"", "text/html", 302, {"Location": target})
    site.routes["/article/refresh.html"] = Resource(
        f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head></html>'.encode(),
        "text/html",
    )
    site.routes["/feed.xml"] = Resource(
        rss(
            (site.url(path), None)
            for path in ("/article/ok.html", "/article/moved.html", "/article/refresh.html")
        ),
        "application/rss+xml",
    )
    result, summary, archive = crawl(
        tmp_path, [{"name": "local", "feeds": [site.url("/feed.xml")]}], "-v"
    )
    assert result.status == 0, result.stderr[-3000:]
    assert summary["rejected"] == {"bad_scheme": 2}
    assert summary["articles_archived"] == 1
    assert SECRET.encode() not in _everything_written(archive)
    assert SECRET not in result.stdout + result.stderr


def test_scrapys_non_http_download_handlers_are_off() -> None:

    handlers = project_settings().getdict("DOWNLOAD_HANDLERS")
    assert {
        scheme: handlers.get(scheme, "missing") for scheme in ("file", "ftp", "s3", "data")
    } == {
        "file": None,
        "ftp": None,
        "s3": None,
        "data": None,
    }


def test_a_urls_list_with_a_non_http_line_is_refused_before_anything_runs(
    tmp_path: Path, secret_file: Path
) -> None:
    config = write_config(tmp_path / "s.yaml", [{"name": "local", "feeds": ["https://e.org/f"]}])
    urls = tmp_path / "urls.txt"
    urls.write_text(f"https://example.org/a.html\nfile://{secret_file}\n", encoding="utf-8")
    archive = tmp_path / "archive"
    result = run_cli(
        [
            "backfill",
            "--config",
            str(config),
            "--archive",
            str(archive),
            "--source",
            "local",
            "--urls",
            str(urls),
        ]
    )
    assert result.status == 2
    assert "line 2" in result.stderr and "is not an http(s) URL" in result.stderr
    assert not archive_objects(archive, "articles")
    assert load_config(str(config)).sources[0].name == "local"


def test_verbose_logs_never_print_a_page_body(tmp_path: Path, site: LoopbackServer) -> None:
    site.routes["/article/data.json"] = Resource(
        f'{{"token": "{BODY_MARK}"}}'.encode(), "application/json"
    )
    site.routes["/feed.xml"] = Resource(
        rss((site.url(p), None) for p in ("/article/ok.html", "/article/data.json")),
        "application/rss+xml",
    )
    result, summary, _archive = crawl(
        tmp_path, [{"name": "local", "feeds": [site.url("/feed.xml")]}], "-v"
    )
    assert result.status == 0, result.stderr[-3000:]
    assert summary["rejected"] == {"not_html": 1}
    assert "Dropped:" in result.stderr and "/article/data.json" in result.stderr
    assert BODY_MARK not in result.stderr + result.stdout


# --- proxies ------------------------------------------------------------------------------


@pytest.fixture
def proxy(site: LoopbackServer) -> Iterator[LoopbackServer]:
    """A forward proxy on loopback: it serves the site's routes to absolute-URI requests."""
    server = LoopbackServer()
    server.routes = site.routes
    with server.running():
        yield server


def _proxied(tmp_path: Path, proxy: LoopbackServer, feed: str, *extra: str, **top: object):
    env = {
        "http_proxy": proxy.base_url,
        "HTTP_PROXY": proxy.base_url,
        "no_proxy": "",
        "NO_PROXY": "",
    }
    config = write_config(tmp_path / "s.yaml", [{"name": "local", "feeds": [feed]}], **top)
    archive = tmp_path / "archive"
    summary = tmp_path / "summary.json"
    result = run_cli(
        [
            "crawl",
            "--config",
            str(config),
            "--archive",
            str(archive),
            "--summary",
            str(summary),
            *extra,
        ],
        env=env,
    )
    return result, json.loads(summary.read_text()) if summary.exists() else None, archive


def test_a_proxied_crawl_is_refused_and_never_reaches_the_proxy(
    tmp_path: Path, site: LoopbackServer, proxy: LoopbackServer
) -> None:
    site.routes["/feed.xml"] = Resource(rss([(site.url("/article/ok.html"), None)]), "text/xml")
    feed = site.url("/feed.xml").replace("127.0.0.1", "localhost")  # a name the proxy resolves
    result, summary, archive = _proxied(tmp_path, proxy, feed)
    assert result.status == 0, result.stderr[-3000:]
    assert summary["rejected"] == {"proxy_refused": 1}
    assert "WIREARCHIVE_ALLOW_PROXY" in result.stderr
    assert proxy.requests == [] and site.requests == []
    assert archive_objects(archive, "articles") == []


def test_with_proxies_allowed_an_ip_literal_target_is_still_vetted(
    tmp_path: Path, site: LoopbackServer, proxy: LoopbackServer
) -> None:
    site.routes["/feed.xml"] = Resource(rss([(site.url("/article/ok.html"), None)]), "text/xml")
    result, summary, _archive = _proxied(
        tmp_path, proxy, site.url("/feed.xml"), "-s", "WIREARCHIVE_ALLOW_PROXY=true"
    )
    assert result.status == 0, result.stderr[-3000:]
    assert summary["rejected"] == {"blocked_address": 1}
    assert proxy.requests == [] and site.requests == []


def test_with_proxies_allowed_and_private_addresses_allowed_the_proxy_carries_the_crawl(
    tmp_path: Path, site: LoopbackServer, proxy: LoopbackServer
) -> None:
    # The control: the environment's proxy is really used, so the refusals above are real.
    site.routes["/feed.xml"] = Resource(rss([(site.url("/article/ok.html"), None)]), "text/xml")
    result, summary, _archive = _proxied(
        tmp_path,
        proxy,
        site.url("/feed.xml"),
        "-s",
        "WIREARCHIVE_ALLOW_PROXY=true",
        allow_private_addresses=True,
    )
    assert result.status == 0, result.stderr[-3000:]
    assert summary["articles_archived"] == 1
    assert any(path.endswith("/article/ok.html") for path in proxy.requests)
    assert site.requests == []
