"""The address guard: never connect to loopback, private or otherwise non-public addresses.

The decision is made on the address a connection is about to use, inside the reactor's
name resolver, so it holds for every request (robots.txt, redirects, retries) and a host
name that re-resolves to a private address between a check and a connect (DNS
rebinding) is still refused. A downloader middleware turns the refusal into a counted
``rejected/blocked_address`` outcome.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.settings import BaseSettings
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from crawler.failures import failure_reason
from pipelines.outcomes import PROXY_REFUSED, Counters

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
BLOCKED_REASON = "blocked_address"


# Every range that is not public internet, from IANA's IPv4 and IPv6 special-purpose
# registries, kept here rather than read from ``ipaddress.is_global``: its answer changes
# between Python versions (3.11 calls ::/96, ::ffff:0:0/96, 64:ff9b:1::/48 and fec0::/10
# public). IPv4 inside IPv6 (mapped, 6to4, NAT64) is unwrapped and judged as IPv4 first.
NON_PUBLIC: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "AS112"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("::ffff:0:0:0/96", "IPv4-translated"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy"),
    ("2001::/23", "IETF protocol (Teredo, ORCHID...)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("2620:4f:8000::/48", "AS112"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fc00::/7", "unique-local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
NON_PUBLIC_NETWORKS: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), kind) for cidr, kind in NON_PUBLIC
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def non_public_kind(ip: Address) -> str | None:
    """Return the kind of non-public range ``ip`` is in, or None for a public address."""
    for network, kind in NON_PUBLIC_NETWORKS:
        if ip.version == network.version and ip in network:
            return kind
    return None


def blocked_reason(
    address: str, deny: Sequence[Network] = (), allow_private: bool = False
) -> str | None:
    """Say why connecting to ``address`` is refused, or None when it is allowed.

    Anything in ``NON_PUBLIC`` is refused (loopback, RFC 1918, link-local such as the
    cloud metadata endpoint 169.254.169.254, CGNAT, multicast, reserved, documentation,
    unique-local...); IPv4 hidden in IPv6 (mapped, 6to4, NAT64 are unwrapped first) is
    judged as IPv4. ``deny`` adds networks refused even when private addresses are allowed.
    """
    try:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            ip = inner
    for network in deny:
        if ip.version == network.version and ip in network:
            return f"{ip} is in the denied network {network}"
    if allow_private:
        return None
    kind = non_public_kind(ip)
    if kind is not None:
        return f"{ip} is a non-public address ({kind})"
    return None


_DIGITS = {8: set("01234567"), 10: set("0123456789"), 16: set("0123456789abcdef")}


def _inet_aton_part(part: str) -> int | None:
    """Read one part of a dotted IPv4 host as inet_aton(3) does: 0x hex, 0 octal, decimal."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        if not digits:
            return 0  # WHATWG: "0x" alone is zero
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits or not set(digits.lower()) <= _DIGITS[base]:
        return None
    return int(digits, base)


def literal_address(host: str) -> Address | None:
    """Return the IP address a URL host denotes literally, or None when it is a name.

    Beyond the dotted-decimal and IPv6 forms ``ipaddress`` reads, a resolver (glibc's
    inet_aton, which getaddrinfo uses) and browsers accept IPv4 as one to four parts,
    each decimal, octal (leading 0) or hex (0x): ``2130706433``, ``0x7f.0.0.1``,
    ``0177.0.0.1`` and ``127.1`` are all 127.0.0.1. Every such form must be judged as
    the address it is, before any connection.
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    text = text.removesuffix(".")
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    values = [_inet_aton_part(part) for part in parts]
    if any(value is None for value in values):
        return None
    numbers = [value for value in values if value is not None]
    *head, last = numbers
    if any(value > 0xFF for value in head) or last >= 256 ** (5 - len(numbers)):
        return None
    address = last
    for index, value in enumerate(head):
        address += value << (8 * (3 - index))
    return ipaddress.IPv4Address(address)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Parse the WIREARCHIVE_DENY_NETWORKS setting (CIDR strings)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


@dataclass
class Policy:
    """What the resolver lets through, and what it refused (host name -> reason)."""

    allow_private: bool = False
    deny: tuple[Network, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)

    def reason(self, address: str) -> str | None:
        """Return why ``address`` is refused under this policy, or None."""
        return blocked_reason(address, self.deny, self.allow_private)


@provider(IResolutionReceiver)
class _FilteringReceiver:
    """Pass on only the allowed addresses of a resolution; remember why others were cut."""

    def __init__(self, receiver: Any, host: str, policy: Policy) -> None:
        self.receiver = receiver
        self.host = host
        self.policy = policy
        self.allowed = 0
        self.refusal: str | None = None

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:
        reason = self.policy.reason(str(getattr(address, "host", "")))
        if reason is None:
            self.allowed += 1
            self.receiver.addressResolved(address)
        elif self.refusal is None:
            self.refusal = reason

    def resolutionComplete(self) -> None:
        if self.allowed == 0 and self.refusal is not None:
            self.policy.refused[self.host] = self.refusal
        elif self.allowed:
            # A name that re-resolved to an allowed address: a later failure to reach it
            # is a network error, not a refusal explained by an earlier answer.
            self.policy.refused.pop(self.host, None)
        self.receiver.resolutionComplete()


def settings_policy(settings: BaseSettings) -> Policy:
    """Return the policy the settings ask for (allowed private addresses, denied networks)."""
    return Policy(
        allow_private=settings.getbool("WIREARCHIVE_ALLOW_PRIVATE_ADDRESSES"),
        deny=parse_networks(settings.getlist("WIREARCHIVE_DENY_NETWORKS")),
    )


@implementer(IHostnameResolver)
class GuardedResolver:
    """A name resolver that drops non-public addresses (set as TWISTED_DNS_RESOLVER)."""

    installed: GuardedResolver | None = None

    def __init__(self, reactor: Any, policy: Policy | None = None) -> None:
        self.reactor = reactor
        self.original = reactor.nameResolver
        self.policy = policy or Policy()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        """Build from the process settings (Scrapy passes the process as ``crawler``)."""
        return cls(reactor, settings_policy(crawler.settings))

    def install_on_reactor(self) -> None:
        """Become the reactor's name resolver."""
        if isinstance(self.original, GuardedResolver):  # a second crawl in one process
            self.original = self.original.original
        self.reactor.installNameResolver(self)
        GuardedResolver.installed = self

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        """Resolve through the original resolver, passing on only allowed addresses."""
        receiver = _FilteringReceiver(resolutionReceiver, hostName, self.policy)
        return self.original.resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )


def _is_robots_txt(request: Request) -> bool:
    """Tell whether ``request`` is the robots.txt fetch Scrapy makes for another request."""
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")


def _proxy_host(proxy: str) -> str:
    """Return a proxy URL's host and port, never its credentials."""
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    except ValueError:
        return "(unparsable)"


class BlockedAddress(IgnoreRequest):
    """A request refused by the address guard; already counted, so errbacks skip it."""

    counted = True


class AddressGuardMiddleware:
    """Count and explain the guard's refusals; refuse literal non-public IPs up front."""

    def __init__(self, policy: Policy, counters: Counters, allow_proxy: bool = False) -> None:
        self.policy = policy
        self.counters = counters
        self.allow_proxy = allow_proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        """Share the installed resolver's policy, with this crawl's config applied."""
        resolver = GuardedResolver.installed
        if resolver is None:
            raise NotConfigured(
                "TWISTED_DNS_RESOLVER is not "
                "crawler.downloadermiddlewares.address_guard.GuardedResolver: "
                "the address guard is off"
            )
        settings = crawler.settings
        spider_config = getattr(crawler.spider, "config", None)
        allow = settings.getbool("WIREARCHIVE_ALLOW_PRIVATE_ADDRESSES") or bool(
            getattr(spider_config, "allow_private_addresses", False)
        )
        resolver.policy.allow_private = allow
        resolver.policy.deny = parse_networks(settings.getlist("WIREARCHIVE_DENY_NETWORKS"))
        assert crawler.stats is not None
        return cls(
            resolver.policy,
            Counters(crawler.stats),
            allow_proxy=settings.getbool("WIREARCHIVE_ALLOW_PROXY"),
        )

    def _refuse(self, request: Request, reason: str) -> BlockedAddress:
        if _is_robots_txt(request):
            # The robots.txt fetch of a refused host: the request it guards is counted.
            return BlockedAddress(f"{request.url}: {reason}")
        self.counters.rejected(request.meta.get("source"), BLOCKED_REASON)
        logger.warning(
            "refused %s: %s (set allow_private_addresses: true to allow)", request.url, reason
        )
        return BlockedAddress(f"{request.url}: {reason}")

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        """Refuse a URL whose host is a literal non-public IP before it is even queued.

        Literal in any notation a resolver would accept (see ``literal_address``); a name
        is left to the resolver, which decides on the address it resolves to. A request
        through a proxy (``http_proxy``/``https_proxy``, or ``meta['proxy']``) is refused
        unless WIREARCHIVE_ALLOW_PROXY: the proxy resolves the target's name, out of the
        resolver's sight, so only the proxy's own address would be judged.
        """
        if request.meta.get("proxy") and not self.allow_proxy:
            if not _is_robots_txt(request):  # the request it guards is counted instead
                self.counters.rejected(request.meta.get("source"), PROXY_REFUSED)
            logger.warning(
                "refused %s: it would go through the proxy %s, which resolves names out of "
                "the address guard's sight (unset the proxy, or set WIREARCHIVE_ALLOW_PROXY=true "
                "to accept that only IP-literal targets are vetted)",
                request.url,
                _proxy_host(str(request.meta["proxy"])),
            )
            raise BlockedAddress(f"{request.url}: proxy not allowed")
        try:
            host = urlsplit(request.url).hostname
        except ValueError:
            host = None
        if host is None:
            return
        address = literal_address(host)
        if address is None:
            return
        reason = self.policy.reason(str(address))
        if reason is not None:
            raise self._refuse(request, reason)

    def process_exception(
        self, request: Request, exception: BaseException, spider: Spider | None = None
    ) -> None:
        """Turn a resolution the guard emptied into a counted refusal."""
        if failure_reason(exception) != "dns_error":
            return
        host = urlsplit(request.url).hostname or ""
        reason = self.policy.refused.get(host)
        if reason is not None:
            raise self._refuse(request, f"{host} resolves only to refused addresses ({reason})")
