"""user_agent and contact_url: set once in sources.yaml, sent by every run, -s still wins."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import __version__
from crawler.runner import RunRequest, crawl_settings, identity_settings
from crawler.sources import ConfigError, parse_config
from tests.helpers.support import archive_objects, crawl, dev_pages, dev_site

FEED = ["https://example.org/rss.xml"]
SOURCES = [{"name": "wire", "feeds": FEED}]
DEFAULT_AGENT = f"wirearchive/{__version__} (+https://github.com/wirearchive/wirearchive)"
OWN_AGENT = "newsroom-archive/1.0 (+https://news.example/bot)"
CONTACT = "https://news.example/bot"


def config(**top: Any) -> Any:
    return parse_config({**top, "sources": SOURCES}, "sources.yaml")


IDENTITIES = [
    ({}, {}),
    (
        {"contact_url": CONTACT},
        {
            "WIREARCHIVE_CONTACT_URL": CONTACT,
            "USER_AGENT": f"wirearchive/{__version__} (+{CONTACT})",
        },
    ),
    ({"user_agent": OWN_AGENT}, {"USER_AGENT": OWN_AGENT}),
    (
        {"user_agent": OWN_AGENT, "contact_url": CONTACT},
        {"WIREARCHIVE_CONTACT_URL": CONTACT, "USER_AGENT": OWN_AGENT},
    ),
]


@pytest.mark.parametrize(("top", "expected"), IDENTITIES)
def test_identity_settings_from_the_config(top: dict[str, str], expected: dict[str, str]) -> None:
    assert identity_settings(config(**top)) == expected


SENT = [
    ({}, [], DEFAULT_AGENT),
    ({"contact_url": CONTACT}, [], f"wirearchive/{__version__} (+{CONTACT})"),
    ({"user_agent": OWN_AGENT}, [], OWN_AGENT),
    ({"user_agent": OWN_AGENT}, [("USER_AGENT", "from-the-command-line")], "from-the-command-line"),
]


@pytest.mark.parametrize(("top", "flags", "agent"), SENT)
def test_crawl_settings_user_agent(
    top: dict[str, str], flags: list[tuple[str, str]], agent: str
) -> None:
    request = RunRequest(config=config(**top), settings=dict(flags))
    assert crawl_settings(request, "./archive", "run-1").get("USER_AGENT") == agent


BAD = [
    ({"user_agent": ""}, "key 'user_agent': '' must be one line"),
    ({"user_agent": "bot\r\nX-Injected: 1"}, "key 'user_agent'"),
    ({"user_agent": 7}, "key 'user_agent': expected a string"),
    ({"contact_url": "mailto:ops@news.example"}, "key 'contact_url': 'mailto:ops@news.example'"),
    ({"contact_url": "https://user:pw@news.example/"}, "key 'contact_url': a URL for"),
    ({"useragent": OWN_AGENT}, "key 'useragent': unknown key"),
]


@pytest.mark.parametrize(("top", "expected"), BAD)
def test_bad_identity_keys_name_the_key(top: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config(**top)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def _sent_agents(archive: Path) -> set[str]:
    agents = set()
    for path in archive_objects(archive, "raw"):
        for record in ArchiveIterator(io.BytesIO(path.read_bytes())):
            if record.rec_type == "request":
                agents.add(record.http_headers.get_header("User-Agent"))
    return agents


def test_a_crawl_sends_the_configured_user_agent(tmp_path: Path) -> None:
    pages = dict(list(dev_pages().items())[:2])
    with dev_site(pages).running() as site:
        result, summary, archive = crawl(
            tmp_path, [{"name": "devset", "feeds": [site.url("/feed.xml")]}], user_agent=OWN_AGENT
        )
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == len(pages)
    assert _sent_agents(archive) == {OWN_AGENT}
