"""The published JSON Schemas (docs/schemas/) hold for the objects a real crawl writes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from crawler.demo.loopback import LoopbackServer
from crawler.demo.loopback import Resource as Page
from tests.helpers.support import (
    DEV_SET,
    FAST_CRAWL,
    ROOT,
    archive_objects,
    dev_pages,
    load_json,
    rss,
    run_cli,
    write_config,
)
from tests.test_dedup_e2e import republished_page, syndicate

SCHEMAS = ROOT / "docs" / "schemas"
NAMES = ("article", "duplicate", "run-summary")
ORIGINALS = 4


def schema_registry() -> Registry:
    """Return every published schema under its file name, so relative $refs resolve."""
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in SCHEMAS.glob("*.schema.json")
    ]
    return Registry().with_resources(resources)


def validator(name: str) -> Draft202012Validator:
    registry = schema_registry()
    schema = registry.contents(f"{name}.schema.json")
    return Draft202012Validator(schema, registry=registry)


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(validator(name).schema)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Crawl an origin site, then a republisher of it: articles, all three duplicate kinds."""
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    pages = dev_pages()
    # The longest stories: a syndicated copy of a one-paragraph brief is not a near copy.
    chosen = sorted(pages, key=lambda pid: -len(truth[pid]["articleBody"].split()))[:ORIGINALS]
    origin, republisher = LoopbackServer(), LoopbackServer()
    for server in (origin, republisher):
        server.routes["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", "text/plain")
    for pid in chosen:
        origin.routes[f"/news/{pid}.html"] = Page(pages[pid], "text/html")
    near, exact, tracked = chosen[0], chosen[1], chosen[2]
    republisher.routes["/wire/near.html"] = Page(
        republished_page("Wire story", syndicate(truth[near]["articleBody"], random.Random(7))),
        "text/html",
    )
    republisher.routes["/copies/exact.html"] = Page(pages[exact], "text/html")
    folder = tmp_path_factory.mktemp("schemas")
    with origin.running(), republisher.running():
        origin.routes["/feed.xml"] = Page(
            rss((origin.url(f"/news/{pid}.html"), None) for pid in chosen), "application/rss+xml"
        )
        listed = [
            republisher.url("/wire/near.html"),
            republisher.url("/copies/exact.html"),
            origin.url(f"/news/{tracked}.html") + "?utm_source=republisher",
        ]
        republisher.routes["/feed.xml"] = Page(
            rss((url, None) for url in listed), "application/rss+xml"
        )
        config = write_config(
            folder / "sources.yaml",
            [
                {"name": "origin", "feeds": [origin.url("/feed.xml")]},
                {"name": "republisher", "feeds": [republisher.url("/feed.xml")]},
            ],
            allow_private_addresses=True,
        )
        root = folder / "archive"
        base = ["crawl", "--config", str(config), "--archive", str(root), *FAST_CRAWL]
        results = [
            run_cli([*base, "--source", name, "--summary", str(folder / f"{name}.json")])
            for name in ("origin", "republisher")
        ]
    yield {
        "results": results,
        "summaries": [load_json(folder / f"{name}.json") for name in ("origin", "republisher")],
        "objects": {
            kind: [load_json(path) for path in archive_objects(root, kind)]
            for kind in ("articles", "duplicates", "runs")
        },
    }


def test_the_crawl_wrote_every_kind_of_object(archive: dict[str, Any]) -> None:
    for result in archive["results"]:
        assert result.status == 0, result.stderr
    objects = archive["objects"]
    assert len(objects["articles"]) == ORIGINALS
    assert {record["kind"] for record in objects["duplicates"]} == {"url", "exact", "near"}
    assert len(objects["runs"]) == 2


KINDS = [("article", "articles"), ("duplicate", "duplicates"), ("run-summary", "runs")]


@pytest.mark.parametrize(("name", "kind"), KINDS)
def test_archived_objects_match_the_published_schema(
    archive: dict[str, Any], name: str, kind: str
) -> None:
    check = validator(name)
    for record in archive["objects"][kind]:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(record)]
        assert errors == [], record.get("id") or record.get("run_id")


def test_summary_files_match_the_run_summary_schema(archive: dict[str, Any]) -> None:
    check = validator("run-summary")
    for summary in archive["summaries"]:
        assert list(check.iter_errors(summary)) == []


BREAKS = [
    ("article", "articles", lambda r: r.pop("content_sha256")),
    ("article", "articles", lambda r: r.update(wire={"agency": "AP"})),
    ("article", "articles", lambda r: r.update(schema_version=2)),
    ("article", "articles", lambda r: r.update(published="last Tuesday")),
    ("duplicate", "duplicates", lambda r: r.update(kind="similar")),
    ("duplicate", "duplicates", lambda r: r.update(similarity=1.5)),
    ("run-summary", "runs", lambda r: r.update(status="done")),
    ("run-summary", "runs", lambda r: r["duplicates"].pop("near")),
]


@pytest.mark.parametrize(("name", "kind", "damage"), BREAKS)
def test_a_broken_object_fails_its_schema(
    archive: dict[str, Any], name: str, kind: str, damage: Any
) -> None:
    record = json.loads(json.dumps(archive["objects"][kind][0]))
    damage(record)
    assert not validator(name).is_valid(record)


def test_the_schema_names_every_contract_field() -> None:
    """The docs list each required field: a field dropped from a schema must fail here."""
    required = {name: set(validator(name).schema["required"]) for name in NAMES}
    assert {"id", "url", "text", "raw_key", "wire", "extractor"} <= required["article"]
    assert {"duplicate_of", "duplicate_of_key", "kind", "similarity"} <= required["duplicate"]
    assert {"status", "duplicates", "rejected", "errors"} <= required["run-summary"]
