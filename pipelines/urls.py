"""URL identity: canonical form, same-site test and the stable article id."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as w3lib_canonicalize_url

DEFAULT_PORTS = {"http": 80, "https": 443}
ID_HEX_CHARS = 20  # 80 bits: collision odds stay negligible at billions of URLs

# Query parameters that track the reader, not the resource: two URLs that differ only
# in these are the same article.
TRACKING_PARAMETERS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|mc_cid|mc_eid|ocid|cmpid|"
    r"_ga|_gl|igshid|smid|smtyp|ncid|ito|taid|mkt_tok|guccounter|guce_referrer[a-z_]*|"
    r"__twitter_impression|at_medium|at_campaign|s_cid|rss|cid)$",
    re.IGNORECASE,
)


def canonicalize_url(url: str) -> str:
    """Return the canonical form of ``url``: the key under which an article is known."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    if ":" in host:  # an IPv6 literal keeps its brackets, with or without a port
        host = f"[{host}]"
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMETERS.match(k)
        ]
    )
    path = parts.path or "/"
    rebuilt = urlunsplit((scheme, netloc, path, query, ""))
    # w3lib normalises percent-encoding and sorts the query the way Scrapy's fingerprints do.
    return w3lib_canonicalize_url(rebuilt, keep_fragments=False)


def site_host(host: str) -> str:
    """Return a host name as sites are compared: lower case, no trailing dot, no ``www.``.

    One rule for every comparison (``same_site``, a source's ``domains`` and the pages
    matched against them), so a host never counts as one site here and another there.
    """
    return host.lower().rstrip(".").removeprefix("www.")


def same_site(url_a: str, url_b: str) -> bool:
    """Tell whether two URLs are on the same host (ports included, ``www.`` ignored)."""
    a, b = urlsplit(url_a), urlsplit(url_b)
    if a.scheme not in DEFAULT_PORTS or b.scheme not in DEFAULT_PORTS:
        return False

    def site(parts: tuple[str | None, int | None, str]) -> tuple[str, int | None]:
        host, port, scheme = parts
        return site_host(host or ""), port if port != DEFAULT_PORTS.get(scheme) else None

    return site((a.hostname, a.port, a.scheme)) == site((b.hostname, b.port, b.scheme))


def article_id(canonical_url: str) -> str:
    """Return the stable id of an article: a short hash of its canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:ID_HEX_CHARS]


WEB_SCHEMES = frozenset(DEFAULT_PORTS)  # the only schemes ever requested or read


def is_web_url(url: str) -> bool:
    """Tell whether ``url`` is an http(s) URL with a host: the only kind a run may fetch."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False
