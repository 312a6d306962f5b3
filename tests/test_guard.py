"""The address guard: non-public addresses are refused on the resolved IP, redirects included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.demo.loopback import LoopbackServer, Resource
from crawler.downloadermiddlewares.address_guard import blocked_reason, parse_networks
from tests.helpers.support import archive_objects, crawl, dev_pages, rss


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoints
        ("fe80::1%eth0", "link-local"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT is not the public internet
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6 is judged as IPv4
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 wrapping 169.254.169.254
        ("fd00::1", "private"),
        # Public to Python 3.11's is_global: the guard keeps its own table.
        ("::5", "IPv4-compatible"),  # in ::/96
        ("::ffff:0:1", "unspecified"),  # IPv4-mapped: judged as 0.0.0.1
        ("::ffff:0:a00:1", "IPv4-translated"),  # ::ffff:0:0:0/96
        ("64:ff9b:1::1", "local-use NAT64"),
        ("fec0::1", "site-local"),
        ("2001:db8::1", "documentation"),
        ("2001::1", "IETF protocol"),  # Teredo
        ("192.0.2.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("255.255.255.255", "reserved"),
        ("8.8.8.8", None),
        ("2a00:1450:4001:80b::200e", None),
        ("93.184.216.34", None),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_non_public_addresses_are_refused(address: str, expected: str | None) -> None:
    reason = blocked_reason(address)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert expected in reason


def test_allow_private_lifts_the_guard_but_not_denied_networks() -> None:
    deny = parse_networks(["169.254.0.0/16", "fd00::/8"])
    assert blocked_reason("127.0.0.1", deny, allow_private=True) is None
    assert blocked_reason("10.0.0.1", deny, allow_private=True) is None
    assert "denied network 169.254.0.0/16" in str(blocked_reason("169.254.169.254", deny, True))
    assert "denied network" in str(blocked_reason("fd00::5", deny, True))
    assert "denied network" in str(blocked_reason("8.8.8.8", parse_networks(["8.8.8.0/24"])))


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    page = next(iter(dev_pages().values()))
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    server.routes["/news/1.html"] = Resource(page, "text/html")
    with server.running():
        yield server


def test_loopback_feed_is_refused_by_default(tmp_path: Path, site: LoopbackServer) -> None:
    site.routes["/feed.xml"] = Resource(rss([(site.url("/news/1.html"), None)]), "text/xml")
    result, summary, archive = crawl(
        tmp_path,
        [{"name": "local", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=False,
    )
    assert result.status == 0, result.stderr
    assert summary["rejected"] == {"blocked_address": 1}
    assert summary["pages_fetched"] == 0
    assert site.requests == []  # not even robots.txt was fetched
    assert archive_objects(archive, "articles") == []


def test_names_are_judged_on_the_address_they_resolve_to(
    tmp_path: Path, site: LoopbackServer
) -> None:
    # "localhost" is a name, not a literal: only the resolver can see it is loopback.
    feed = site.url("/feed.xml").replace("127.0.0.1", "localhost")
    site.routes["/feed.xml"] = Resource(rss([(site.url("/news/1.html"), None)]), "text/xml")
    result, summary, _archive = crawl(
        tmp_path, [{"name": "local", "feeds": [feed]}], allow_private_addresses=False
    )
    assert result.status == 0, result.stderr
    assert summary["rejected"] == {"blocked_address": 1}
    assert site.requests == []


def test_redirects_to_refused_addresses_are_refused(tmp_path: Path, site: LoopbackServer) -> None:
    # The site itself is allowed (private addresses on) but 127.0.0.2 is denied: a page that
    # redirects there must not be followed.
    target = site.url("/news/1.html").replace("127.0.0.1", "127.0.0.2")
    site.routes["/news/moved.html"] = Resource(b"", "text/html", 302, {"Location": target})
    site.routes["/feed.xml"] = Resource(
        rss([(site.url("/news/1.html"), None), (site.url("/news/moved.html"), None)]), "text/xml"
    )
    result, summary, archive = crawl(
        tmp_path,
        [{"name": "local", "feeds": [site.url("/feed.xml")]}],
        "-s",
        "WIREARCHIVE_DENY_NETWORKS=127.0.0.2/32",
    )
    assert result.status == 0, result.stderr
    assert summary["rejected"] == {"blocked_address": 1}
    assert summary["articles_archived"] == 1
    assert len(archive_objects(archive, "articles")) == 1
