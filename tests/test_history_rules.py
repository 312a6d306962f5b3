"""The rules of history backfills: which files, which hosts, which captures, which days."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import pytest

from crawler.cli import build_parser
from crawler.commands.backfill import run_child, span_command
from crawler.demo.loopback import LoopbackServer, Resource
from crawler.downloadermiddlewares.address_guard import Policy
from crawler.history.capture import parse_http_block
from crawler.history.ccnews import RecordFilter, file_stamp, months, pick_files, uri_host
from crawler.history.progress import Days, needed_days
from crawler.history.remote import HttpRemote, NotFound, Refused
from crawler.history.wayback import capture_url, original_headers, parse_cdx, served_timestamp
from crawler.sources import ConfigError, page_host, parse_config

F = "crawl-data/CC-NEWS/2026/10/CC-NEWS-{}-00001.warc.gz"


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (date(2026, 10, 5), date(2026, 10, 9), [(2026, 10)]),
        (date(2026, 10, 1), date(2026, 10, 9), [(2026, 9), (2026, 10)]),  # the day before
        (date(2026, 12, 31), date(2026, 12, 31), [(2026, 12), (2027, 1)]),  # the day after
        (date(2026, 11, 15), date(2027, 2, 3), [(2026, 11), (2026, 12), (2027, 1), (2027, 2)]),
    ],
)
def test_months_cover_the_range_and_its_margin(
    since: date, until: date, expected: list[tuple[int, int]]
) -> None:
    assert months(since, until) == expected


@pytest.mark.parametrize(
    ("stamp", "picked"),
    [
        ("20261003235959", False),  # two days before
        ("20261004000000", True),  # the day before: margin
        ("20261005120000", True),
        ("20261009235959", True),
        ("20261010000000", True),  # the day after: margin
        ("20261011000000", False),
        ("20261399000000", False),  # not a date
    ],
)
def test_files_are_picked_by_name_stamp_with_a_day_of_margin(stamp: str, picked: bool) -> None:
    path = F.format(stamp)
    assert pick_files([path], date(2026, 10, 5), date(2026, 10, 9)) == ([path] if picked else [])


def test_picked_files_come_oldest_first_and_once() -> None:
    paths = [F.format("20261006000000"), F.format("20261005000000"), F.format("20261006000000")]
    assert pick_files(paths, date(2026, 10, 5), date(2026, 10, 9)) == [paths[1], paths[0]]
    assert file_stamp("CC-NEWS-2026-1.warc.gz") is None


@pytest.mark.parametrize(
    ("uri", "host"),
    [
        ("https://www.Example.org/a/b.html", "example.org"),
        ("http://example.org:8080/x?y=1", "example.org"),
        ("https://user:pw@news.example.org/#top", "news.example.org"),
        ("https://example.org.", "example.org"),
        ("http://[::1]:80/x", "::1"),
        ("https://wwwexample.org/", "wwwexample.org"),
        ("not a url", None),
        ("https:///nohost", None),
    ],
)
def test_the_fast_host_reader_agrees_with_urlsplit(uri: str, host: str | None) -> None:
    assert uri_host(uri) == host
    assert page_host(uri) == host


@pytest.mark.parametrize(
    ("warc_date", "inside"),
    [
        ("2026-10-04T23:59:59Z", False),
        ("2026-10-05T00:00:00Z", True),
        ("2026-10-09T23:59:59Z", True),
        ("2026-10-10T00:00:00Z", False),
        ("", False),
    ],
)
def test_capture_days_are_inclusive_utc(warc_date: str, inside: bool) -> None:
    wanted = RecordFilter(frozenset(), date(2026, 10, 5), date(2026, 10, 9))
    assert wanted.in_range(warc_date) is inside


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A:  b \r\n\r\n<html>",
            ("HTTP/1.1", 200, [("Content-Type", "text/html"), ("X-A", "b")], b"<html>"),
        ),
        (b"HTTP/1.0 404 Not Found\r\n\r\n", ("HTTP/1.0", 404, [], b"")),
        (b"HTTP/2 301\r\nLocation: /x\r\n\r\n", ("HTTP/2", 301, [("Location", "/x")], b"")),
    ],
)
def test_an_http_block_is_split(block: bytes, expected: tuple[Any, ...]) -> None:
    assert parse_http_block(block) == expected


@pytest.mark.parametrize(
    "block",
    [
        b"\xff\xfe\x00garbage",
        b"HTTP/1.1 200 OK\r\nno end of headers",
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 999 Odd\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbroken header line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
    ],
)
def test_bad_bytes_are_not_an_http_block(block: bytes) -> None:
    with pytest.raises(ValueError, match=r"HTTP|no end"):
        parse_http_block(block)


def test_cdx_rows_and_resume_key_are_read() -> None:
    fields = ["timestamp", "original", "mimetype", "statuscode"]
    rows = [
        fields,
        ["20261001101500", "https://a.org/1", "text/html", "200"],
        ["20261001101600", "https://a.org/2", "text/html", "404"],  # a filter ignored
        ["20261001101700", "https://a.org/3", "application/pdf", "200"],
        ["2026", "https://a.org/4", "text/html", "200"],
        [],
        ["resume-here"],
    ]
    captures, resume = parse_cdx(json.dumps(rows).encode())
    assert [(c.timestamp, c.url) for c in captures] == [("20261001101500", "https://a.org/1")]
    assert resume == "resume-here"
    assert parse_cdx(json.dumps(rows[:2]).encode())[1] is None
    assert parse_cdx(b"") == ([], None)
    with pytest.raises(ValueError, match="list of rows"):
        parse_cdx(b'{"a": 1}')


CDX_FIELDS = '["timestamp", "original", "mimetype", "statuscode"]'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": 1}', "list of rows"),
        (b"[[1, 2", "Expecting"),  # cut short
        (b'[["timestamp"], ["20261001101500"]]', "without timestamp and original"),
        (f'[{CDX_FIELDS}, ["20261001101500", "https://a.org/1"]]'.encode(), "2 fields of 4"),
        (f'[{CDX_FIELDS}, ["20261001101500"], [], ["key"]]'.encode(), "1 fields of 4"),
    ],
)
def test_a_bad_cdx_answer_is_a_value_error(body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cdx(body)


def test_capture_urls_keep_the_page_url_whole() -> None:
    url = capture_url("https://web.archive.org/", "20261001101500", "https://a.org/x?y=1")
    assert url == "https://web.archive.org/web/20261001101500id_/https://a.org/x?y=1"
    assert served_timestamp(url.replace("20261001101500", "20261001000000"), "x") == (
        "20261001000000"
    )
    assert served_timestamp("https://elsewhere.org/", "20261001101500") == "20261001101500"


def test_original_headers_come_back_with_the_kept_length() -> None:
    served = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("X-Archive-Orig-Server", "nginx"),
        ("X-Archive-Orig-Content-Encoding", "gzip"),
        ("X-Archive-Orig-Content-Length", "999"),
        ("Memento-Datetime", "Thu, 01 Oct 2026 10:15:00 GMT"),
    ]
    assert original_headers(served, 120) == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Server", "nginx"),
        ("Content-Length", "120"),
    ]


@pytest.mark.parametrize(
    ("done", "wanted", "covered"),
    [
        (
            Days(date(2026, 10, 1), date(2026, 10, 9)),
            Days(date(2026, 10, 2), date(2026, 10, 3)),
            True,
        ),
        (
            Days(date(2026, 10, 2), date(2026, 10, 9)),
            Days(date(2026, 10, 1), date(2026, 10, 3)),
            False,
        ),
        (
            Days(date(2026, 10, 1), date(2026, 10, 2)),
            Days(date(2026, 10, 1), date(2026, 10, 3)),
            False,
        ),
        (Days(None, None), Days(date(2026, 10, 1), date(2026, 10, 3)), True),
    ],
)
def test_a_mark_covers_the_days_it_finished(done: Days, wanted: Days, covered: bool) -> None:
    assert done.covers(wanted) is covered


def test_a_file_is_needed_only_for_its_own_days() -> None:
    path = F.format("20261005120000")
    # A later run over a wider range needs from this file only the days it can hold.
    assert needed_days(path, Days(date(2026, 9, 1), date(2026, 10, 31))) == Days(
        date(2026, 10, 4), date(2026, 10, 6)
    )
    joined = Days(date(2026, 10, 1), date(2026, 10, 3)).joins(Days(date(2026, 10, 4), None))
    assert joined == Days(date(2026, 10, 1), None)
    assert Days(date(2026, 10, 1), date(2026, 10, 2)).joins(Days(date(2026, 10, 4), None)) is None


def source_config(**source: Any) -> Any:
    return parse_config({"sources": [{"name": "times", **source}]}, "sources.yaml")


def test_a_source_may_declare_only_domains() -> None:
    source = source_config(domains=["WWW.Example.org", "news.example.org."]).sources[0]
    assert source.hosts() == {"example.org", "news.example.org"}
    assert not source.discoverable
    fed = source_config(feeds=["https://www.a.org/rss", "https://b.org:8080/x"]).sources[0]
    assert fed.hosts() == {"a.org", "b.org"}
    assert fed.discoverable


@pytest.mark.parametrize("bad", ["https://example.org", "example.org/news", "exa mple.org", ""])
def test_a_bad_domain_names_the_source_and_key(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"source 'times': key 'domains\[0\]'"):
        source_config(domains=[bad])


def test_the_address_guard_judges_the_ccnews_host() -> None:
    server = LoopbackServer()
    server.routes["/crawl-data/x"] = Resource(b"data", "application/octet-stream")
    with server.running():
        refused = HttpRemote(server.base_url + "/", Policy(allow_private=False), "test")
        with pytest.raises(Refused, match=r"127\.0\.0\.1 is a non-public address \(loopback\)"):
            refused.read("crawl-data/x")
        allowed = HttpRemote(server.base_url + "/", Policy(allow_private=True), "test")
        assert allowed.read("crawl-data/x") == b"data"
        with pytest.raises(NotFound):
            allowed.read("crawl-data/none")
    assert server.requests == ["/crawl-data/x", "/crawl-data/none"]  # the refusal sent nothing


FULL_BACKFILL = [
    "backfill",
    *("--source", "times", "--from", "ccnews", "--since", "2026-10-01", "--until", "2026-10-09"),
    *("--config", "conf.yaml", "--archive", "s3://b/p", "--summary", "s.json", "--workers", "3"),
    *("--max-time", "60.5", "--redis", "redis://h:1/0", "--worker", "w1", "-v", "--gaps"),
    *("-s", "A=1", "-s", "B=x=y"),
]


def test_a_gap_span_runs_with_every_option_of_the_command() -> None:
    parser = build_parser(["backfill"])
    given = parser.parse_args(FULL_BACKFILL)
    # Every option is set above (but --urls, which --from excludes), so that one added
    # later and forgotten by span_command shows up here.
    unset = vars(parser.parse_args(["backfill", "--source", "times"]))
    same = [dest for dest, value in vars(given).items() if value == unset[dest]]
    assert same == ["command", "source", "urls", "handler"]
    argv = span_command(given, date(2026, 10, 3), date(2026, 10, 4))
    assert argv[:4] == [sys.executable, "-m", "crawler", "backfill"]
    span = parser.parse_args(argv[3:])
    expected = {**vars(given), "since": "2026-10-03", "until": "2026-10-04", "gaps": False}
    assert vars(span) == expected


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("pass", 0),
        ("raise SystemExit(75)", 75),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + 9),
    ],
)
def test_a_span_child_gives_its_exit_status(code: str, status: int) -> None:
    assert run_child([sys.executable, "-c", code]) == status
