"""sources.yaml validation: every bad value is one error naming the file, source and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawler.sources import ConfigError, Source, load_config, parse_config

FEED = ["https://example.org/rss.xml"]


def one(**source: Any) -> dict[str, Any]:
    return {"sources": [{"name": "wire", **source}]}


BAD = [
    (one(feeds=FEED, feedz=FEED), "source 'wire': key 'feedz': unknown key"),
    ({"sources": [{"name": "Wire", "feeds": FEED}]}, "source 'Wire': key 'name': 'Wire' must"),
    ({"sources": [{"name": "-x", "feeds": FEED}]}, "key 'name'"),
    ({"sources": [{"feeds": FEED}]}, "source #1: key 'name': required key is missing"),
    (one(feeds=["ftp://example.org/x"]), "key 'feeds[0]': 'ftp://example.org/x' is not an"),
    (one(feeds=FEED, sitemaps=["/sitemap.xml"]), "key 'sitemaps[0]'"),
    (one(start_urls=["https://"]), "key 'start_urls[0]'"),
    (one(feeds="https://example.org/rss.xml"), "key 'feeds': expected a list"),
    (one(feeds=[1]), "key 'feeds[0]': expected a string"),
    (one(feeds=FEED, allow=["(unclosed"]), "key 'allow[0]': '(unclosed' is not a valid regular"),
    (one(feeds=FEED, deny=["[a-"]), "key 'deny[0]'"),
    (one(feeds=FEED, schedule="every 5 minutes"), "key 'schedule': 'every 5 minutes' is not"),
    (one(feeds=FEED, schedule="61 * * * *"), "key 'schedule'"),
    (one(), "source 'wire': declare at least one of 'feeds', 'sitemaps', 'start_urls'"),
    (
        {"sources": [{"name": "wire", "feeds": FEED}, {"name": "wire", "feeds": FEED}]},
        "source 'wire': key 'name': declared twice",
    ),
    ({"sources": []}, "key 'sources': declare at least one source"),
    ({"sources": ["wire"]}, "key 'sources': each source must be a mapping"),
    ({"archive": "./a"}, "key 'sources': required key is missing"),
    ({**one(feeds=FEED), "allow_private": True}, "key 'allow_private': unknown key"),
    ({**one(feeds=FEED), "allow_private_addresses": "yes"}, "'allow_private_addresses': expected"),
    ([1, 2], "expected a mapping with a 'sources' list"),
    (one(feeds=FEED, health={"quiet": 3}), "key 'health.quiet': unknown key"),
    (one(feeds=FEED, health={"failing_runs": 0}), "key 'health.failing_runs'"),
]


@pytest.mark.parametrize(("data", "expected"), BAD)
def test_bad_config_names_file_source_and_key(data: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "conf/sources.yaml")
    message = str(caught.value)
    assert message.startswith("conf/sources.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_good_config_becomes_typed_sources(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "archive: ./arch\n"
        "allow_private_addresses: true\n"
        "sources:\n"
        "  - name: urdupoint\n"
        "    feeds: [https://example.org/rss.xml]\n"
        "    sitemaps: [https://example.org/sitemap-news.xml]\n"
        "    allow: ['/world/.+\\.html$']\n"
        "    deny: ['/world/video/']\n"
        "    schedule: '*/30 * * * *'\n"
        "  - name: apnews_2\n"
        "    start_urls: [https://example.com/hub/world/]\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.allow_private_addresses is True
    # A relative archive belongs to the config file, not to cron's working directory.
    assert config.archive == str((tmp_path / "arch").resolve())
    first, second = config.sources
    assert first == Source(
        name="urdupoint",
        feeds=("https://example.org/rss.xml",),
        sitemaps=("https://example.org/sitemap-news.xml",),
        allow=("/world/.+\\.html$",),
        deny=("/world/video/",),
        schedule="*/30 * * * *",
    )
    assert second.start_urls == ("https://example.com/hub/world/",)
    assert config.select(["apnews_2"]) == (second,)
    assert config.select([]) == config.sources


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://example.org/world/story-1.html", True),
        ("https://example.org/world/video/clip.html", False),
        ("https://example.org/sport/story-2.html", False),
        ("https://example.org/world/", False),
    ],
)
def test_allow_and_deny_rules(url: str, accepted: bool) -> None:
    source = Source(name="s", feeds=FEED[0:1], allow=(r"/world/.+\.html$",), deny=("/video/",))
    assert source.accepts(url) is accepted


def test_s3_archive_is_kept_as_written() -> None:
    config = parse_config({"archive": "s3://bucket/news", **one(feeds=FEED)}, "s.yaml")
    assert config.archive == "s3://bucket/news"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n", "not valid YAML at line"),
        ("", "expected a mapping"),
    ],
)
def test_unreadable_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file; write a sources\.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_source_lists_declared_names() -> None:
    config = parse_config(one(feeds=FEED), "s.yaml")
    with pytest.raises(ConfigError, match=r"no source named 'other' \(declared: wire\)"):
        config.select(["other"])


def test_health_thresholds_per_source() -> None:
    config = parse_config(one(feeds=FEED, health={"quiet_intervals": 5, "failing_runs": 3}), "s")
    assert config.sources[0].health == {"quiet_intervals": 5.0, "failing_runs": 3}
