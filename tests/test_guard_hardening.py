"""Address guard hardening: every notation of a forbidden address is refused, never connected.

Two end-to-end crawls: with private addresses refused, feeds that point straight at each
hostile form; with private addresses allowed but networks denied, an allowed site whose
pages redirect into each. Trap sockets listen where the forbidden addresses lead and must
never see a connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.statscollectors import StatsCollector
from scrapy.utils.test import get_crawler
from twisted.internet.address import IPv4Address

from crawler.demo.loopback import LoopbackServer, Resource
from crawler.downloadermiddlewares.address_guard import (
    AddressGuardMiddleware,
    GuardedResolver,
    Policy,
    _is_robots_txt,
    _proxy_host,
    blocked_reason,
    literal_address,
)
from pipelines.outcomes import Counters
from tests.helpers.support import archive_objects, crawl, dev_pages, rss


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0x7f000001", "127.0.0.1"),  # one hex number
        ("0x7f.0.0.1", "127.0.0.1"),  # hex part
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),  # octal part
        ("017700000001", "127.0.0.1"),  # one octal number
        ("127.1", "127.0.0.1"),  # two parts: a.b fills the last 24 bits
        ("127.0.1", "127.0.0.1"),  # three parts
        ("0x7f.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),  # a trailing dot is the same host
        ("0", "0.0.0.0"),
        ("0.0.0.0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("2852039166", "169.254.169.254"),  # the metadata endpoint, decimal
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("192.168.257", "192.168.1.1"),
        ("0xffffffff", "255.255.255.255"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1"),  # a zone, as a URL writes it
        ("fe80::1%eth0", "fe80::1"),
        ("example.com", None),
        ("localhost", None),
        ("1.2.3.4.5", None),
        ("256.0.0.1", None),
        ("4294967296", None),
        ("09.0.0.1", None),  # 9 is not an octal digit: a name, left to the resolver
        ("0x1g.0.0.1", None),
        ("1..1", None),
        ("", None),
        ("1e2.0.0.1", None),
        # The last part fills what the others leave, and no more.
        ("1.2.3.300", None),
        ("1.2.65535", "1.2.255.255"),
        ("1.2.70000", None),
        ("01234567", "0.5.57.119"),  # every octal digit
        ("1234567890", "73.150.2.210"),  # every decimal digit
        ("0x89abcdef", "137.171.205.239"),
        ("0xff.0xff.1", "255.255.0.1"),  # 255 in a leading part
    ],
)
def test_literal_address_reads_every_notation_a_resolver_accepts(
    host: str, expected: str | None
) -> None:
    address = literal_address(host)
    assert (None if address is None else str(address)) == expected


def test_literal_address_agrees_with_inet_aton() -> None:
    for host in ("2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "10.0x10.0300", "0x", "0"):
        try:
            packed = socket.inet_aton(host)
        except OSError:
            continue  # glibc disagrees with WHATWG here (e.g. "0x"); both refuse anyway
        assert str(literal_address(host)) == str(ipaddress.IPv4Address(packed)), host


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.1",
        "0",
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2852039166",
        "169.254.169.254",
        "[::ffff:169.254.169.254]",
        "[fd00:ec2::254]",
        "100.100.100.200",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:a9fe:a9fe::]",
    ],
)
def test_every_notation_of_a_forbidden_address_is_refused(host: str) -> None:
    address = literal_address(host)
    assert address is not None
    assert blocked_reason(str(address)) is not None


class StubResolver:
    """Answer each resolution of a name with the next address of a script (rebinding)."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers

    def resolveHostName(self, receiver: Any, host: str, *args: Any) -> Any:
        receiver.resolutionBegan(None)
        receiver.addressResolved(IPv4Address("TCP", self.answers.pop(0), 80))
        receiver.resolutionComplete()
        return receiver


class Receiver:
    def __init__(self) -> None:
        self.addresses: list[str] = []

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        pass


class StubReactor:
    def __init__(self, resolver: StubResolver) -> None:
        self.nameResolver = resolver


def test_rebinding_is_judged_on_every_resolution_at_connect_time() -> None:
    # A name that resolves to a public address once, then to loopback: each connection's
    # own resolution is filtered, so the second connect gets no address at all.
    guard = GuardedResolver(
        StubReactor(
            StubResolver(["93.184.216.34", "127.0.0.1", "169.254.169.254", "93.184.216.35"])
        ),
        Policy(),
    )
    first, second, third = Receiver(), Receiver(), Receiver()
    guard.resolveHostName(first, "rebind.example")
    guard.resolveHostName(second, "rebind.example")
    guard.resolveHostName(third, "rebind.example")
    assert first.addresses == ["93.184.216.34"]
    assert second.addresses == []
    assert third.addresses == []
    assert "link-local" in guard.policy.refused["rebind.example"]
    fourth = Receiver()
    guard.resolveHostName(fourth, "rebind.example")
    assert fourth.addresses == ["93.184.216.35"]
    assert "rebind.example" not in guard.policy.refused  # no stale refusal


# --- end to end -----------------------------------------------------------------------------


class Traps:
    """Listening sockets on 127.0.0.1 and ::1 (same port) that must never be connected to."""

    def __init__(self, stack: ExitStack) -> None:
        self.sockets: list[socket.socket] = []
        v4 = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        v4.bind(("127.0.0.1", 0))
        self.port = v4.getsockname()[1]
        self.sockets.append(v4)
        try:
            v6 = stack.enter_context(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
            v6.bind(("::1", self.port))
            self.sockets.append(v6)
        except OSError:
            pass  # no IPv6 loopback here
        for sock in self.sockets:
            sock.listen(16)
            sock.setblocking(False)

    def connections(self) -> int:
        count = 0
        for sock in self.sockets:
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
        return count


def hostile_targets(port: int) -> list[str]:
    return [
        f"http://[::1]:{port}/x",
        f"http://2130706433:{port}/x",
        f"http://0x7f.0.0.1:{port}/x",
        f"http://0177.0.0.1:{port}/x",
        f"http://127.1:{port}/x",
        f"http://0.0.0.0:{port}/x",
        f"http://[::ffff:127.0.0.1]:{port}/x",
        f"http://localhost:{port}/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
    ]


@pytest.fixture
def traps() -> Iterator[Traps]:
    with ExitStack() as stack:
        yield Traps(stack)


def test_feeds_pointing_at_forbidden_addresses_are_refused_and_not_connected(
    tmp_path: Path, traps: Traps
) -> None:
    targets = hostile_targets(traps.port)
    result, summary, archive = crawl(
        tmp_path,
        [{"name": "hostile", "feeds": targets}],
        "-s",
        "DOWNLOAD_TIMEOUT=3",
        allow_private_addresses=False,
    )
    assert result.status == 0, result.stderr[-2000:]
    assert summary["rejected"] == {"blocked_address": len(targets)}
    assert traps.connections() == 0
    assert archive_objects(archive, "articles") == []


DENIED = "127.0.0.1/32,::1/128,0.0.0.0/8,169.254.0.0/16"


def test_redirects_into_forbidden_addresses_are_refused_and_not_connected(
    tmp_path: Path, traps: Traps
) -> None:
    # The allowed site lives on 127.0.0.5; every form of 127.0.0.1, ::1, 0.0.0.0 and the
    # metadata endpoint is denied, so each redirect there must be refused.
    site = LoopbackServer(host="127.0.0.5")
    targets = hostile_targets(traps.port)
    page = next(iter(dev_pages().values()))  # a real article: archived, counted nowhere else
    with site.running():
        site.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
        site.routes["/fine.html"] = Resource(page, "text/html")
        links = [site.url("/fine.html")]
        for number, target in enumerate(targets):
            path = f"/moved-{number}.html"
            status = (301, 302, 303, 307, 308)[number % 5]
            site.routes[path] = Resource(b"", "text/html", status, {"Location": target})
            links.append(site.url(path))
        site.routes["/feed.xml"] = Resource(rss((link, None) for link in links), "text/xml")
        result, summary, archive = crawl(
            tmp_path,
            [{"name": "site", "feeds": [site.url("/feed.xml")]}],
            "-s",
            f"WIREARCHIVE_DENY_NETWORKS={DENIED}",
            "-s",
            "DOWNLOAD_TIMEOUT=3",
            "-v",
        )
    assert result.status == 0, result.stderr[-2000:]
    assert summary["rejected"] == {"blocked_address": len(targets)}, [
        line for line in result.stderr.splitlines() if "skipped" in line or "refused" in line
    ]
    assert summary["articles_archived"] == 1
    assert len(archive_objects(archive, "articles")) == 1
    assert traps.connections() == 0


@pytest.mark.parametrize(
    ("proxy", "named"),
    [
        ("http://10.0.0.1:3128", "10.0.0.1:3128"),
        ("http://user:secret@10.0.0.1:3128", "10.0.0.1:3128"),  # never the credentials
        ("10.0.0.1:3128", "10.0.0.1:3128"),  # no scheme, as http_proxy often is
        ("user:secret@proxy.example:8080", "proxy.example:8080"),
        ("https://proxy.example", "proxy.example"),
        ("http://[::1]:8080", "::1:8080"),
        ("http://[::1", "(unparsable)"),
    ],
)
def test_a_refused_proxy_is_named_by_host_and_port(proxy: str, named: str) -> None:
    assert _proxy_host(proxy) == named


@pytest.mark.parametrize(
    ("url", "meta", "robots"),
    [
        # Scrapy's own robots.txt fetch carries dont_obey_robotstxt.
        ("http://example.org/robots.txt", {"dont_obey_robotstxt": True}, True),
        ("http://example.org/robots.txt", {}, False),
        ("http://example.org/a.html", {"dont_obey_robotstxt": True}, False),
    ],
)
def test_the_robots_txt_fetch_is_told_apart(url: str, meta: dict[str, Any], robots: bool) -> None:
    assert _is_robots_txt(Request(url, meta=meta)) is robots


def test_the_guard_refuses_proxies_and_private_addresses_by_default() -> None:
    guard = AddressGuardMiddleware(Policy(), Counters(StatsCollector(get_crawler())))
    assert guard.allow_proxy is False
    resolver = GuardedResolver(SimpleNamespace(nameResolver=None))
    assert resolver.policy == Policy()
    assert resolver.policy.allow_private is False
