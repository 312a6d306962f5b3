"""A source that breaks is reported unhealthy: in the run summary and by `wirearchive health`."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.demo.loopback import LoopbackServer, Resource
from tests.helpers.support import FAST_CRAWL, dev_pages, load_json, rss, run_cli, write_config


def test_a_source_whose_pages_all_fail_turns_unhealthy(tmp_path: Path) -> None:
    pages = list(dev_pages().values())
    server = LoopbackServer()
    server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
    archive = tmp_path / "archive"
    with server.running():
        config = write_config(
            tmp_path / "sources.yaml",
            [
                {"name": "steady", "feeds": [server.url("/steady.xml")]},
                {"name": "broken", "feeds": [server.url("/broken.xml")]},
            ],
            allow_private_addresses=True,
        )
        statuses = []
        for run in range(5):
            # Each run lists two new stories per source; from the fourth run on, the
            # broken source's links all answer 404 (a site redesign moved its articles).
            for name, offset in (("steady", 0), ("broken", 20)):
                urls = []
                for n in range(2):
                    path = f"/{name}/{run}-{n}.html"
                    if name == "steady" or run < 3:
                        server.routes[path] = Resource(pages[offset + run * 2 + n], "text/html")
                    urls.append((server.url(path), None))
                server.routes[f"/{name}.xml"] = Resource(rss(urls), "application/rss+xml")
            result = run_cli(
                [
                    *("crawl", "--config", str(config), "--archive", str(archive)),
                    *("--summary", str(tmp_path / f"{run}.json"), *FAST_CRAWL),
                ]
            )
            assert result.status == 0, result.stderr
            statuses.append(load_json(tmp_path / f"{run}.json")["health"])
        health = run_cli(["health", "--config", str(config), "--archive", str(archive), "--json"])
    assert statuses[2]["broken"]["status"] == "healthy"
    assert statuses[3]["broken"]["status"] == "healthy"  # one bad run is not yet a pattern
    assert statuses[4]["broken"]["status"] == "unhealthy"
    assert "rejected" in statuses[4]["broken"]["reason"]
    assert statuses[4]["steady"]["status"] == "healthy"
    assert "UNHEALTHY" in result.stdout
    assert health.status == 1
    report = json.loads(health.stdout)
    assert report["unhealthy"] == ["broken"]
