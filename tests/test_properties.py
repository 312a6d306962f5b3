"""Property tests: the config loader, URL canonicalisation and the wire rules never fail
except as documented, whatever they are given."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.sources import Config, ConfigError, parse_config
from pipelines.extract import furniture as wirerules
from pipelines.extract import wire
from pipelines.urls import article_id, canonicalize_url

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the config loader ------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
SOURCE_KEYS = ("name", "feeds", "sitemaps", "start_urls", "allow", "deny", "schedule", "language")
urlish = st.sampled_from(
    [
        "https://example.org/feed",
        "http://a.b/",
        "ftp://x/",
        "https://",
        "",
        "example.org",
        "https://user:pw@example.org/",
        "http://[::1",
        "https://example.org:99999/",
        "http://x/%zz",
    ]
) | st.text(max_size=40)
regexish = st.sampled_from(["/news/", "(", "[a-z", "\\", "a{2,1}", ".*"]) | st.text(max_size=15)
cronish = st.sampled_from(["*/15 * * * *", "* * *", "61 * * * *", "@hourly", ""]) | st.text(
    max_size=15
)
nameish = st.sampled_from(["ok", "a-b_c", "../x", "/abs", "A", "", "x" * 70, "a\x00b"]) | st.text(
    max_size=20
)


@st.composite
def source_like(draw: st.DrawFn) -> Any:
    """A source that is nearly right: real keys, values of the right and wrong kinds."""
    source: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(SOURCE_KEYS), unique=True)):
        if key == "name":
            source[key] = draw(nameish | json_values)
        elif key in ("feeds", "sitemaps", "start_urls"):
            source[key] = draw(st.lists(urlish, max_size=3) | json_values)
        elif key in ("allow", "deny"):
            source[key] = draw(st.lists(regexish, max_size=3) | json_values)
        elif key == "schedule":
            source[key] = draw(cronish | json_values)
        else:
            source[key] = draw(json_values)
    if draw(st.booleans()):
        source[draw(st.text(max_size=8))] = draw(json_values)
    return source


config_like = st.fixed_dictionaries(
    {"sources": st.lists(source_like() | json_values, max_size=3) | json_values},
    optional={
        "archive": st.text(max_size=20) | json_values,
        "allow_private_addresses": st.booleans() | json_values,
    },
)


@PROPERTY
@given(st.one_of(json_values, config_like))
def test_parse_config_returns_a_config_or_raises_config_error(data: Any) -> None:
    try:
        config = parse_config(data, "sources.yaml")
    except ConfigError as err:
        assert str(err).startswith("sources.yaml")
        assert "\n" not in str(err).strip() or len(str(err)) < 2000
        return
    assert isinstance(config, Config)
    assert config.sources
    for source in config.sources:
        assert source.name and "/" not in source.name and "\x00" not in source.name
        assert source.feeds or source.sitemaps or source.start_urls


# --- URL canonicalisation ---------------------------------------------------------------------

label = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
hosts = st.one_of(
    st.lists(label, min_size=1, max_size=4).map(".".join),
    st.lists(label, min_size=1, max_size=3).map(lambda parts: ".".join(parts) + "."),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="/?#@:[]\\%"),
        min_size=1,
        max_size=12,
    ),
)
# Written here, not read from pipelines.urls: tracking keys (any case) and plain keys.
TRACKED = ("utm_source", "UTM_Medium", "Utm_Campaign", "fbclid", "GCLID", "rss")
KEPT = ("id", "q", "a", "Z", "x[]")
url_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
query_pairs = st.lists(
    st.tuples(
        st.sampled_from([*TRACKED, *KEPT]) | url_text,
        url_text,
    ),
    max_size=4,
)


@st.composite
def http_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(hosts)
    port = draw(st.none() | st.integers(min_value=1, max_value=65535) | st.sampled_from([80, 443]))
    path = "/".join(draw(st.lists(url_text, max_size=4)))
    query = "&".join(f"{k}={v}" for k, v in draw(query_pairs))
    fragment = draw(st.none() | url_text)
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/{path}"
    if query or draw(st.booleans()):
        url += f"?{query}"
    if fragment is not None:
        url += f"#{fragment}"
    return url


@PROPERTY
@given(http_urls())
def test_canonicalize_url_is_idempotent_and_never_raises(url: str) -> None:
    canonical = canonicalize_url(url)
    assert canonicalize_url(canonical) == canonical
    assert canonical.startswith(("http://", "https://"))
    assert "#" not in canonical
    # No tracking parameter is left (a key like "0?utm_source" is not one: it keeps its "?"),
    # and a plain key given is kept.
    keys = [k for k, _v in parse_qsl(urlsplit(canonical).query, keep_blank_values=True)]
    tracked = {key.casefold() for key in TRACKED}
    assert not any(k.casefold() in tracked or k.casefold().startswith("utm_") for k in keys)
    given_keys = {k for k, _v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    assert {key for key in KEPT if key in given_keys} <= set(keys)
    assert len(article_id(canonical)) == 20


@PROPERTY
@given(st.text(max_size=200))
def test_canonicalize_url_on_any_text_raises_at_most_value_error(text: str) -> None:
    try:
        canonical = canonicalize_url(text)
    except ValueError:
        return
    assert canonicalize_url(canonical) == canonical


# --- the wire rules ---------------------------------------------------------------------------

# The agencies the wire rules name (docs), written out so that a rule naming anything else fails.
AGENCIES = {
    "AFP", "ANI", "ANSA", "AP", "APA", "APP", "Anadolu", "Bernama", "Bloomberg", "CNN", "CNS",
    "EFE", "Europa Press", "IANS", "IRNA", "Interfax", "Jiji", "Kyodo", "News1", "Newsis",
    "PTI", "Reuters", "SDA", "SPA", "Sputnik", "TASS", "UNI", "UPI", "WAM", "Xinhua",
    "Yonhap", "dpa",
}  # fmt: skip
wire_text = st.one_of(
    st.text(max_size=400),
    st.lists(
        st.sampled_from(
            [
                "WASHINGTON (AP) —",
                "BEIRUT, Feb 20 (Reuters) -",
                "(AFP) -",
                "KARACHI —",
                "MOSCOW, February 20 (UrduPoint News / Sputnik - 20th February, 2020) -",
                "NASA (the agency) said",
                "By Jane Doe",
                "Photo: AP",
                "42 seconds ago",
                "\n",
                " ",
                "(",
                ")",
                "—",
                ",",
                "Reuters",
                "Associated Press Writer",
                "é",
                "\u2028",
            ]
        )
        | st.text(max_size=15),
        max_size=20,
    ).map("".join),
)


@PROPERTY
@given(wire_text)
def test_find_dateline_never_raises_and_returns_what_is_printed(text: str) -> None:
    dateline = wire.find_dateline(text)
    window = text[: wire.DATELINE_WINDOW]
    if dateline.place is not None:
        assert dateline.place and dateline.place in window
    if dateline.agency is not None:
        assert dateline.agency in AGENCIES or dateline.agency in window


@PROPERTY
@given(st.lists(wire_text, max_size=5))
def test_author_rules_never_raise_and_name_only_known_agencies(raw: list[str]) -> None:
    names, agency = wire.clean_authors(raw)
    assert all(name and name == name.strip() for name in names)
    assert len(set(names)) == len(names)
    assert agency is None or agency in AGENCIES
    byline = wire.agency_from_byline(raw)
    assert byline is None or byline in AGENCIES
    for entry in raw:
        known = wire.normalise_agency(entry)
        assert known is None or known in AGENCIES


@PROPERTY
@given(wire_text, st.none() | wire_text, st.lists(wire_text, max_size=3), st.none() | wire_text)
def test_text_rules_never_raise_and_only_drop_lines(
    text: str, title: str | None, authors: list[str], sitename: str | None
) -> None:
    cleaned = wirerules.clean_text(text, title, authors, sitename)
    kept = cleaned.split("\n") if cleaned else []
    original = [line.strip() for line in text.split("\n")]
    position = 0
    for line in kept:  # an in-order subsequence of the stripped input lines
        position = original.index(line, position) + 1
    for line in [text, *text.split("\n")]:
        assert isinstance(wirerules.is_timestamp_line(line), bool)
        assert isinstance(wirerules.is_byline_line(line, authors), bool)
        assert isinstance(wirerules.is_furniture(line), bool)
        assert isinstance(wirerules.is_site_banner(line, sitename), bool)
    assert wirerules.squash(wirerules.squash(text)) == wirerules.squash(text)
