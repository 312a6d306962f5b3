"""URL identity rules."""

import pytest

from pipelines.urls import article_id, canonicalize_url, same_site, site_host


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/a", "http://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:8/a", "http://example.com:8/a"),  # below the default: kept too
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=XYZ", "https://example.com/a"),
        ("https://example.com/a?gclid=1&ocid=msn&x=", "https://example.com/a?x="),
        # Tracking parameters are matched whatever their case; the others keep theirs.
        ("https://example.com/a?UTM_Source=rss&FBCLID=1&Id=7", "https://example.com/a?Id=7"),
        ("https://example.com/a?Utm_Medium=feed&GClid=2", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("http://[::1]:80/a", "http://[::1]/a"),
        ("http://127.0.0.1:8080/world/x.html", "http://127.0.0.1:8080/world/x.html"),
    ],
)
def test_canonicalize_url(url: str, canonical: str) -> None:
    assert canonicalize_url(url) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://Example.COM:80/a?b=2&a=1&utm_source=x#f",
        "https://example.com/caf%c3%a9?q=%e2%82%ac",
        "https://example.com/a b/?x=1&x=2",
    ],
)
def test_canonicalize_url_is_idempotent(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://example.com/a", "https://example.com/b", True),
        ("https://www.example.com/a", "https://example.com/b", True),
        ("http://example.com/a", "https://example.com:443/b", True),
        ("https://example.com/a", "https://other.com/a", False),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a", False),
        ("https://example.com/a", "javascript:alert(1)", False),
        ("https://example.com/a", "ftp://example.com/a", False),  # same host, not the web
        ("ftp://example.com/a", "https://example.com/a", False),
        ("https://zeta.example/a", "https://alpha.example/a", False),
        ("https://alpha.example/a", "https://zeta.example/a", False),
    ],
)
def test_same_site(a: str, b: str, expected: bool) -> None:
    assert same_site(a, b) is expected


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("example.org", "example.org"),
        ("WWW.Example.ORG", "example.org"),
        ("www.example.org.", "example.org"),  # the root's dot
        ("news.example.org", "news.example.org"),
        ("www2.example.org", "www2.example.org"),
        ("www.www.example.org", "www.example.org"),  # one www. only
        ("wwwexample.org", "wwwexample.org"),
        ("www.", "www"),  # the dot goes first: a host named www stays one
        ("", ""),
    ],
)
def test_site_host(host: str, site: str) -> None:
    assert site_host(host) == site


def test_article_id_is_stable_and_short() -> None:
    url = "https://example.com/world/2020/02/20/story.html"
    assert article_id(url) == article_id(url)
    assert len(article_id(url)) == 20
    assert article_id(url) != article_id(url + "?page=2")
