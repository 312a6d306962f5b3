"""History backfills from CC-NEWS and the Wayback Machine, end to end on loopback."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import build_parser
from crawler.commands import backfill as backfill_command
from crawler.demo.loopback import LoopbackServer, Resource
from crawler.exits import EXIT_USAGE, RunError
from crawler.history.progress import progress_key
from crawler.sources import load_config
from pipelines.archive.warc import read_warc
from tests.helpers.fixtures_redis import redis_server, redis_url  # noqa: F401
from tests.helpers.fixtures_s3 import ACCESS_KEY, SECRET_KEY, s3_client, start_s3_server
from tests.helpers.history_archives import CCNewsTree, Rec, WaybackServer, warc_file
from tests.helpers.support import (
    FAST_CRAWL,
    ROOT,
    SESSION_CACHE,
    archive_objects,
    dev_pages,
    load_json,
    rss,
    run_cli,
    write_config,
)

MONTH = "crawl-data/CC-NEWS/2026/10"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SINCE, UNTIL = "2026-10-01", "2026-10-02"


@pytest.fixture(scope="module")
def pages() -> list[bytes]:
    return list(dev_pages().values())


@pytest.fixture
def publisher(pages: list[bytes]) -> Iterator[LoopbackServer]:
    """The source's own site, reached as localhost: it must never be asked by a backfill."""
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    with server.running():
        port = server.base_url.rsplit(":", 1)[1]
        site = f"http://localhost:{port}"
        for number in range(2):
            server.routes[f"/news/live-{number}.html"] = Resource(pages[40 + number], "text/html")
        server.routes["/feed.xml"] = Resource(
            rss((f"{site}/news/live-{n}.html", None) for n in range(2)), "application/rss+xml"
        )
        server.site = site  # type: ignore[attr-defined]
        yield server


def config_for(tmp_path: Path, publisher: LoopbackServer, **extra: Any) -> Path:
    site = publisher.site  # type: ignore[attr-defined]
    return write_config(
        tmp_path / "sources.yaml",
        [
            {"name": "times", "feeds": [f"{site}/feed.xml"], "deny": ["/private/"], **extra},
            {"name": "elsewhere", "domains": ["other.example"]},
        ],
        allow_private_addresses=True,
    )


def backfill(
    tmp_path: Path, kind: str, base: str, *extra: str, source: str = "times"
) -> tuple[Any, Any, Path]:
    archive, summary = tmp_path / "archive", tmp_path / "summary.json"
    summary.unlink(missing_ok=True)
    setting = "WIREARCHIVE_CCNEWS_URL" if kind == "ccnews" else "WIREARCHIVE_WAYBACK_URL"
    result = run_cli(
        [
            *history_args(tmp_path, kind, source),
            "--summary",
            str(summary),
            *FAST_CRAWL,
            *extra,
        ],
        env={setting: base},
    )
    return result, (load_json(summary) if summary.exists() else None), archive


def history_args(tmp_path: Path, kind: str, source: str = "times") -> list[str]:
    return [
        "backfill",
        "--source",
        source,
        "--from",
        kind,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--config",
        str(tmp_path / "sources.yaml"),
        "--archive",
        str(tmp_path / "archive"),
        "--workers",
        "0",
    ]


def articles(archive: Path) -> dict[str, Any]:
    return {
        record["url"]: record
        for record in (load_json(path) for path in archive_objects(archive, "articles"))
    }


def raw_response(archive: Path, key: str) -> Any:
    data = (archive / key).read_bytes()
    records = [
        (record.rec_headers, record.content_stream().read())
        for record in ArchiveIterator(BytesIO(data))
    ]
    assert len(records) == 1  # the original response record, and no request of ours
    return records[0][0]


# -- CC-NEWS -------------------------------------------------------------------------------------


@pytest.fixture
def ccnews(publisher: LoopbackServer, pages: list[bytes]) -> Iterator[tuple[CCNewsTree, dict]]:
    """Three days of CC-NEWS files: the source's pages among others', and broken records."""
    site = publisher.site  # type: ignore[attr-defined]
    tree = CCNewsTree()
    wanted: dict[str, str] = {}  # url -> WARC-Date of the pages that must be archived
    files: dict[str, list[Rec]] = {
        # The day before the range: picked for its margin; its records are out of range...
        f"{MONTH}/CC-NEWS-20260930230000-00001.warc.gz": [
            Rec(f"{site}/news/early.html", "2026-09-30T23:10:00Z", pages[0]),
            # ...except those captured after midnight.
            Rec(f"{site}/news/midnight.html", "2026-10-01T00:05:00Z", pages[1]),
        ],
        f"{MONTH}/CC-NEWS-20261001080000-00002.warc.gz": [
            Rec("http://other.example/news/a.html", "2026-10-01T08:01:00Z", pages[2]),
            Rec(f"{site}/news/a.html", "2026-10-01T08:02:00Z", pages[3]),
            Rec(
                f"http://www.localhost:{site.rsplit(':', 1)[1]}/news/www.html",
                "2026-10-01T08:03:00Z",
                pages[4],
            ),
            Rec(f"{site}/news/gone.html", "2026-10-01T08:04:00Z", b"gone", status=404),
            Rec(
                f"{site}/feed.json", "2026-10-01T08:05:00Z", b"{}", content_type="application/json"
            ),
            Rec(f"{site}/news/bad.html", "2026-10-01T08:06:00Z", block=b"\xff\xfe\x00garbage"),
            Rec(f"{site}/private/p.html", "2026-10-01T08:07:00Z", pages[5]),
        ],
        f"{MONTH}/CC-NEWS-20261002120000-00003.warc.gz": [
            Rec(f"{site}/news/b.html", "2026-10-02T12:01:00Z", pages[6]),
            Rec("http://other.example/news/b.html", "2026-10-02T12:02:00Z", pages[7]),
            Rec(f"{site}/news/c.html", "2026-10-02T12:03:00Z", pages[8]),
        ],
        # Cut short in the middle of its last record.
        f"{MONTH}/CC-NEWS-20261002180000-00004.warc.gz": [
            Rec(f"{site}/news/d.html", "2026-10-02T18:01:00Z", pages[9]),
            Rec(f"{site}/news/cut.html", "2026-10-02T18:02:00Z", pages[10]),
        ],
        # Two days after the range: never read.
        f"{MONTH}/CC-NEWS-20261004080000-00005.warc.gz": [
            Rec(f"{site}/news/late.html", "2026-10-04T08:01:00Z", pages[11]),
        ],
        "crawl-data/CC-NEWS/2026/09/CC-NEWS-20260929080000-00009.warc.gz": [
            Rec(f"{site}/news/september.html", "2026-09-29T08:01:00Z", pages[12]),
        ],
    }
    offsets: dict[str, tuple[str, int]] = {}
    for path, records in files.items():
        data, where = warc_file(records)
        if path.endswith("00004.warc.gz"):
            data = data[:-300]  # inside cut.html's body: its headers are whole
        tree.add_file(path, data)
        offsets.update({url: (path, offset) for url, offset in where.items()})
    for url in ("midnight", "a", "b", "c", "d"):
        wanted[f"{site}/news/{url}.html"] = ""
    wanted[f"http://www.localhost:{site.rsplit(':', 1)[1]}/news/www.html"] = ""
    for records in files.values():
        for rec in records:
            if rec.url in wanted:
                wanted[rec.url] = rec.date
    tree.publish()
    with tree.server.running():
        yield tree, {"wanted": wanted, "offsets": offsets}


def test_ccnews_archives_exactly_the_sources_pages_of_the_range(
    tmp_path: Path, publisher: LoopbackServer, ccnews: tuple[CCNewsTree, dict]
) -> None:
    tree, info = ccnews
    config_for(tmp_path, publisher)
    result, summary, archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/")
    assert result.status == 0, result.stderr
    found = articles(archive)
    assert set(found) == set(info["wanted"])
    assert publisher.requests == []  # the publisher is never asked, not even robots.txt
    # Provenance: the page's own URL, its capture time, the CC-NEWS file and offset.
    assert len(found) == 6
    for url, record in found.items():
        path, offset = info["offsets"][url]
        assert record["origin"] == {"kind": "ccnews", "warc": path, "offset": offset}
        assert record["fetched_at"] == info["wanted"][url].replace("Z", "+00:00")
        headers = raw_response(archive, record["raw_key"])
        assert headers.get_header("WARC-Target-URI") == url
        original = next(ArchiveIterator(BytesIO(tree.files[path][offset:])))
        assert headers.get_header("WARC-Record-ID") == original.rec_headers.get_header(
            "WARC-Record-ID"
        )
        # Readable as any raw record (re-extraction, serve): the page as captured.
        page = read_warc((archive / record["raw_key"]).read_bytes(), source="times", fetched_at=NOW)
        assert page.url == url
        assert page.status == 200
    assert summary["rejected"] == {
        "http_404": 1,
        "not_html": 1,
        "record_truncated": 1,
        "record_unreadable": 1,
    }
    history = summary["history"]
    assert history["files_listed"] == 4  # the margin's file, not the 4th or September's
    assert history["files_scanned"] == 4
    assert history["records_out_of_range"] == 1
    assert summary["range"]["from"] == "ccnews"
    assert tree.log.count(f"{MONTH}/CC-NEWS-20261004") == 0
    # A rerun reads no file again and archives nothing new.
    reads = len(tree.log.hits)
    again, summary, _archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/")
    assert again.status == 0, again.stderr
    assert summary["articles_archived"] == 0
    assert summary["history"]["files_done_before"] == 4
    assert len(tree.log.hits) == reads
    assert set(articles(archive)) == set(info["wanted"])


def usual_days(archive: Path) -> None:
    """Archive four articles of the source a day through September and on 2026-10-02."""
    for day in [*(f"2026-09-{d:02d}" for d in range(1, 31)), "2026-10-02"]:
        for n in range(4):
            key = archive / "articles" / "times" / day.replace("-", "/") / f"x{day}{n}.json"
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_text(json.dumps({"url": f"https://earlier.example/{day}/{n}"}))


def test_gaps_fills_only_the_days_the_source_yielded_far_less(
    tmp_path: Path, publisher: LoopbackServer, ccnews: tuple[CCNewsTree, dict]
) -> None:
    tree, info = ccnews
    config_for(tmp_path, publisher)
    # Four articles a day through September and on 2026-10-02, none on 2026-10-01: that day
    # is a gap (a Thursday, against four Thursdays of four); the 2nd is not.
    usual_days(tmp_path / "archive")
    result, summary, archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/", "--gaps")
    assert result.status == 0, result.stderr
    assert "times 2026-10-01..2026-10-01 from ccnews (1 of 1 spans)" in result.stderr
    site = publisher.site  # type: ignore[attr-defined]
    port = site.rsplit(":", 1)[1]
    filled = {url for url in articles(archive) if "earlier.example" not in url}
    # Exactly the pages captured on the gap day: none of those of the 2nd (b, c, d).
    assert filled == {
        f"{site}/news/midnight.html",
        f"{site}/news/a.html",
        f"http://www.localhost:{port}/news/www.html",
    }
    assert {info["wanted"][url][:10] for url in filled} == {"2026-10-01"}
    assert summary["range"]["since"] == summary["range"]["until"] == "2026-10-01"
    # Pages are filed by their own publication date, not the capture day, so a second run
    # may find the gap again: it archives nothing new.
    again, _summary, _archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/", "--gaps")
    assert again.status == 0, again.stderr
    assert {url for url in articles(archive) if "earlier.example" not in url} == filled


def test_gaps_fills_each_span_of_gap_days(
    tmp_path: Path, publisher: LoopbackServer, ccnews: tuple[CCNewsTree, dict], pages: list[bytes]
) -> None:
    tree, _info = ccnews
    site = publisher.site  # type: ignore[attr-defined]
    # A page captured on the 3rd, in a file of its own: the second span has one to archive.
    data, _offsets = warc_file([Rec(f"{site}/news/third.html", "2026-10-03T09:01:00Z", pages[13])])
    tree.add_file(f"{MONTH}/CC-NEWS-20261003090000-00006.warc.gz", data)
    tree.publish()
    config_for(tmp_path, publisher)
    # Articles on every day but the 1st and the 3rd: two gaps, a day apart, so two spans,
    # each a crawl of its own (a Twisted reactor runs once a process).
    usual_days(tmp_path / "archive")
    # CC-NEWS unreachable: the first span fails, the second is not tried, both are named.
    failed, _summary, _archive = backfill(
        tmp_path, "ccnews", "http://127.0.0.1:1/", "--gaps", "--until", "2026-10-03"
    )
    assert failed.status == 1, failed.stderr
    assert "(2 of 2 spans)" not in failed.stderr
    assert "not filled yet: 2026-10-01..2026-10-01, 2026-10-03..2026-10-03" in failed.stderr
    result, summary, archive = backfill(
        tmp_path, "ccnews", tree.server.base_url + "/", "--gaps", "--until", "2026-10-03"
    )
    assert result.status == 0, result.stderr
    assert "times 2026-10-01..2026-10-01 from ccnews (1 of 2 spans)" in result.stderr
    assert "times 2026-10-03..2026-10-03 from ccnews (2 of 2 spans)" in result.stderr
    filled = {url for url in articles(archive) if "earlier.example" not in url}
    assert filled == {
        f"{site}/news/midnight.html",
        f"{site}/news/a.html",
        f"http://www.localhost:{site.rsplit(':', 1)[1]}/news/www.html",
        f"{site}/news/third.html",
    }
    # --summary holds the last span's run.
    assert summary["range"]["since"] == summary["range"]["until"] == "2026-10-03"


def test_an_interrupted_ccnews_backfill_resumes_at_the_unfinished_file(
    tmp_path: Path, publisher: LoopbackServer, ccnews: tuple[CCNewsTree, dict]
) -> None:
    tree, info = ccnews
    config_for(tmp_path, publisher)
    stalled = f"{MONTH}/CC-NEWS-20261001080000-00002.warc.gz"
    tree.slow[stalled] = 5.0  # a piece every 5 s: this file is still streaming when killed
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_CACHE_HOME": SESSION_CACHE,
        "WIREARCHIVE_CCNEWS_URL": tree.server.base_url + "/",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", *history_args(tmp_path, "ccnews"), *FAST_CRAWL],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    marks = tmp_path / "archive" / "_state" / "backfill" / "times" / "ccnews"
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and len(list(marks.rglob("*.json"))) < 3:
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # a real kill: no clean shutdown
        process.wait()
    done = sorted(path.name.removesuffix(".json") for path in marks.rglob("*.json"))
    assert len(done) == 3
    assert stalled.rsplit("/", 1)[1] not in done
    tree.slow.clear()
    before = {path: tree.log.count(path) for path in tree.files}
    result, summary, archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/")
    assert result.status == 0, result.stderr
    assert summary["history"]["files_done_before"] == 3
    reread = [path for path in tree.files if tree.log.count(path) > before[path]]
    assert reread == [stalled]
    assert set(articles(archive)) == set(info["wanted"])


def test_a_ccnews_file_cut_off_by_a_clean_close_is_not_finished(
    tmp_path: Path, publisher: LoopbackServer, ccnews: tuple[CCNewsTree, dict]
) -> None:
    tree, info = ccnews
    config_for(tmp_path, publisher)
    site = publisher.site  # type: ignore[attr-defined]
    # The server declares the whole file and hangs up between two records: the bytes sent
    # end where a gzip member does, so nothing but the missing length tells it from a whole one.
    cut, offset = info["offsets"][f"{site}/news/gone.html"]
    tree.cut[cut] = offset
    result, summary, archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/")
    assert result.status == 1, result.stderr
    assert summary["status"] == "failed"
    assert summary["history"]["files_failed"] == 1
    assert summary["history"]["files_scanned"] == 3
    marks = archive / "_state" / "backfill" / "times" / "ccnews"
    done = {path.name.removesuffix(".json") for path in marks.rglob("*.json")}
    assert len(done) == 3
    assert cut.rsplit("/", 1)[1] not in done  # the next run reads it again


def test_a_ccnews_backfill_that_cannot_read_its_marks_fails(
    tmp_path: Path, publisher: LoopbackServer, ccnews: tuple[CCNewsTree, dict]
) -> None:
    tree, _info = ccnews
    source = load_config(str(config_for(tmp_path, publisher))).source("times")
    # A mark the archive cannot read (a link to itself: "too many levels of symbolic links"):
    # the spider's start() fails, and Scrapy tells spider_error with no response.
    mark = tmp_path / "archive" / progress_key(source, next(iter(tree.files)))
    mark.parent.mkdir(parents=True)
    mark.symlink_to(mark.name)
    result, summary, _archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/")
    assert result.status == 1, result.stderr
    assert summary["status"] == "failed"
    assert summary["close_reason"] == "start_error"
    assert "Too many levels of symbolic links" in result.stderr
    assert "Error caught on signal handler" not in result.stderr


def test_a_page_archived_live_is_a_duplicate_when_ccnews_has_it(
    tmp_path: Path, publisher: LoopbackServer, pages: list[bytes]
) -> None:
    site = publisher.site  # type: ignore[attr-defined]
    config = config_for(tmp_path, publisher)
    archive = tmp_path / "archive"
    crawled = run_cli(
        ["crawl", "--config", str(config), "--archive", str(archive), "--workers", "0", *FAST_CRAWL]
    )
    assert crawled.status == 0, crawled.stderr  # the domains-only source is skipped cleanly
    live = articles(archive)
    assert len(live) == 2
    assert {record["origin"]["kind"] for record in live.values()} == {"live"}
    tree = CCNewsTree()
    data, _offsets = warc_file(
        [
            Rec(f"{site}/news/live-0.html", "2026-10-01T09:00:00Z", pages[40]),
            Rec(f"{site}/news/copy-of-live-1.html", "2026-10-01T09:01:00Z", pages[41]),
        ]
    )
    tree.add_file(f"{MONTH}/CC-NEWS-20261001080000-00001.warc.gz", data)
    tree.publish()
    hits = len(publisher.requests)
    with tree.server.running():
        result, summary, _archive = backfill(tmp_path, "ccnews", tree.server.base_url + "/")
    assert result.status == 0, result.stderr
    assert len(publisher.requests) == hits
    assert summary["articles_archived"] == 0
    assert summary["skipped"] == 1  # the same URL: known to the index
    duplicates = [load_json(path) for path in archive_objects(archive, "duplicates")]
    assert len(duplicates) == 1
    assert duplicates[0]["url"] == f"{site}/news/copy-of-live-1.html"
    assert duplicates[0]["duplicate_of"] == live[f"{site}/news/live-1.html"]["id"]
    assert set(articles(archive)) == set(live)


# -- the Wayback Machine ------------------------------------------------------------------------


@pytest.fixture
def wayback(publisher: LoopbackServer, pages: list[bytes]) -> Iterator[tuple[WaybackServer, dict]]:
    site = publisher.site  # type: ignore[attr-defined]
    server = WaybackServer(throttled=2, retry_after=1)
    server.captures = [
        ("20261001101500", f"{site}/news/w1.html", pages[20]),
        ("20261002235959", f"{site}/news/w2.html", pages[21]),
        ("20261003000000", f"{site}/news/w3.html", pages[22]),  # after the range
        ("20261001120000", "http://other.example/news/w4.html", pages[23]),
        ("20261001130000", f"{site}/private/w5.html", pages[24]),  # denied
    ]
    server.publish()
    with server.server.running():
        yield (
            server,
            {
                "wanted": {
                    f"{site}/news/w1.html": "20261001101500",
                    f"{site}/news/w2.html": "20261002235959",
                }
            },
        )


def test_wayback_archives_the_sources_captures_politely(
    tmp_path: Path, publisher: LoopbackServer, wayback: tuple[WaybackServer, dict]
) -> None:
    server, info = wayback
    config_for(tmp_path, publisher)
    base = server.server.base_url + "/"
    result, summary, archive = backfill(tmp_path, "wayback", base, "-s", "DOWNLOAD_DELAY=0.2")
    assert result.status == 0, result.stderr
    found = articles(archive)
    assert set(found) == set(info["wanted"]), server.log.hits
    assert publisher.requests == []
    for url, record in found.items():
        stamp = info["wanted"][url]
        assert record["origin"] == {"kind": "wayback", "timestamp": stamp}
        assert record["fetched_at"].startswith(
            f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:]}"
        )
        headers = raw_response(archive, record["raw_key"])
        assert headers.get_header("WARC-Target-URI") == url
        assert headers.get_header("WARC-Source-URI") == f"{base}web/{stamp}id_/{url}"
    # CDX: HTML only, status 200, one capture a URL, the resume key followed.
    assert len(server.cdx_queries) == 2
    first = server.cdx_queries[0]
    assert first["filter"] == ["statuscode:200", "mimetype:text/html"]
    assert first["collapse"] == ["urlkey"]
    # The 429 burst was waited out: one request at a time, Retry-After apart.
    captures = [moment for path, moment in server.log.hits if path.startswith("/web/")]
    assert len(captures) == 4  # two refused, then two served
    assert captures[1] - captures[0] >= 1.0
    assert captures[2] - captures[1] >= 1.0
    # A rerun asks the CDX API again, and no capture.
    again, summary, _archive = backfill(tmp_path, "wayback", base, "-s", "DOWNLOAD_DELAY=0.2")
    assert again.status == 0, again.stderr
    assert summary["articles_archived"] == 0
    assert len([path for path, _ in server.log.hits if path.startswith("/web/")]) == 4


@pytest.mark.parametrize(
    "answer",
    [
        Resource(b"unavailable", "text/plain", status=500),  # still so after the retry
        Resource(b'[["timestamp", "original"], ["20261001101500"]]', "application/json"),
    ],
)
def test_a_wayback_listing_that_fails_fails_the_run(
    tmp_path: Path, publisher: LoopbackServer, answer: Resource
) -> None:
    config_for(tmp_path, publisher)
    server = WaybackServer()
    server.publish()
    server.server.routes["/cdx/search/cdx"] = answer
    with server.server.running():
        result, summary, _archive = backfill(
            tmp_path,
            "wayback",
            server.server.base_url + "/",
            *("-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=1"),
        )
    assert result.status == 1, result.stderr
    assert summary["status"] == "failed"
    assert summary["error_details"] == {"history_listing": 1}
    assert publisher.requests == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "source 'elsewhere' declares only domains: backfill it with --from ccnews"),
        (["--from", "wayback", "--since", SINCE], "--from wayback needs --since and --until"),
        (
            ["--from", "ccnews", "--since", SINCE, "--until", UNTIL, "--urls", "-"],
            "--from ccnews and --urls exclude each other",
        ),
        (
            ["--from", "ccnews", "--since", SINCE, "--until", UNTIL, "--source", "nosuch"],
            "no source named 'nosuch'",
        ),
        (["--since", SINCE, "--until", UNTIL, "--gaps"], "--gaps needs --from ccnews or"),
    ],
)
def test_history_usage_errors(
    tmp_path: Path, publisher: LoopbackServer, extra: list[str], message: str
) -> None:
    config = config_for(tmp_path, publisher)
    parser = build_parser()
    args = parser.parse_args(["backfill", "--source", "elsewhere", "--config", str(config), *extra])
    with pytest.raises(RunError, match=re.escape(message)) as raised:
        backfill_command.run(args)
    assert raised.value.exit_status == EXIT_USAGE


# -- distributed, and CC-NEWS on S3 --------------------------------------------------------------


def spread_tree(site: str, pages: list[bytes], files: int) -> tuple[CCNewsTree, set[str]]:
    """A CC-NEWS month of ``files`` files, two pages of the source in each."""
    tree = CCNewsTree()
    wanted = set()
    for number in range(files):
        records = [
            Rec(f"{site}/news/f{number}-{k}.html", f"2026-10-01T{number:02d}:1{k}:00Z", page)
            for k, page in enumerate(pages[2 * number : 2 * number + 2])
        ]
        wanted |= {rec.url for rec in records}
        data, _offsets = warc_file(records)
        tree.add_file(f"{MONTH}/CC-NEWS-20261001{number:02d}0000-0000{number}.warc.gz", data)
    tree.publish()
    return tree, wanted


def test_distributed_workers_share_the_files(
    tmp_path: Path,
    publisher: LoopbackServer,
    pages: list[bytes],
    redis_url: str,  # noqa: F811
) -> None:
    config_for(tmp_path, publisher)
    tree, wanted = spread_tree(publisher.site, pages, 6)  # type: ignore[attr-defined]
    for path in tree.files:
        tree.slow[path] = 0.004  # about a second a file: both workers are at it at once
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_CACHE_HOME": SESSION_CACHE,
        "WIREARCHIVE_CCNEWS_URL": tree.server.base_url + "/",
    }
    with tree.server.running():
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crawler",
                    *history_args(tmp_path, "ccnews"),
                    *("--redis", redis_url, "--worker", f"w{n}"),
                    *("--summary", str(tmp_path / f"w{n}.json")),
                    *FAST_CRAWL,
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], errors
    scanned = [load_json(tmp_path / f"w{n}.json")["history"]["files_scanned"] for n in range(2)]
    assert sum(scanned) == 6
    assert min(scanned) >= 1  # both took files
    assert all(tree.log.count(path) == 1 for path in tree.files)  # each file read once
    assert set(articles(tmp_path / "archive")) == wanted
    assert publisher.requests == []


def anonymous_read_config(path: Path) -> Path:
    """SeaweedFS identities: the test key for everything, and anonymous reads of the bucket."""
    path.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    },
                    {"name": "anonymous", "actions": ["Read:commoncrawl", "List:commoncrawl"]},
                ]
            }
        ),
        encoding="utf-8",
    )
    return path


def test_ccnews_is_read_from_s3_without_credentials(
    tmp_path: Path, publisher: LoopbackServer, pages: list[bytes]
) -> None:
    config_for(tmp_path, publisher)
    tree, wanted = spread_tree(publisher.site, pages, 2)  # type: ignore[attr-defined]
    base = tmp_path / "seaweedfs"
    base.mkdir()
    server = start_s3_server(base, anonymous_read_config(base / "s3.json"))
    try:
        client = s3_client(server.endpoint)
        client.create_bucket(Bucket="commoncrawl")
        for path, data in tree.files.items():
            client.put_object(Bucket="commoncrawl", Key=path, Body=data)
        listing = gzip.compress("\n".join(tree.files).encode())
        client.put_object(Bucket="commoncrawl", Key=f"{MONTH}/warc.paths.gz", Body=listing)
        # Keys the server refuses: only an unsigned (anonymous) request can read the bucket.
        env = {
            "AWS_ENDPOINT_URL_S3": server.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "unknown-key",
            "AWS_SECRET_ACCESS_KEY": "unknown-secret",
            "WIREARCHIVE_CCNEWS_URL": "s3://commoncrawl/",
        }
        assert anonymous_denied_when_signed(server.endpoint)
        summary = tmp_path / "summary.json"
        result = run_cli(
            [*history_args(tmp_path, "ccnews"), "--summary", str(summary), *FAST_CRAWL], env=env
        )
    finally:
        server.stop()
    assert result.status == 0, result.stderr
    assert load_json(summary)["history"]["files_scanned"] == 2
    assert set(articles(tmp_path / "archive")) == wanted


def anonymous_denied_when_signed(endpoint: str) -> bool:
    """Tell whether the server refuses a request signed with unknown keys."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="unknown-key",
        aws_secret_access_key="unknown-secret",
        region_name="us-east-1",
    )
    try:
        client.head_object(Bucket="commoncrawl", Key=f"{MONTH}/warc.paths.gz")
    except ClientError:
        return True
    return False
