"""The S3 policy the docs publish is enough to crawl, and each of its actions is needed.

SeaweedFS identities grant coarse actions per bucket: ``List`` (ListObjects, on AWS
s3:ListBucket), ``Read`` (HeadBucket, GetObject, HeadObject: s3:ListBucket and s3:GetObject on
AWS) and ``Write`` (PutObject, conditional or not, and DeleteObject). The identity under test is
built from docs/deploy/s3-policy.json, so the docs and this test cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.loopback import LoopbackServer
from tests.helpers.fixtures_s3 import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    S3Server,
    s3_client,
    start_s3_server,
)
from tests.helpers.support import FAST_CRAWL, ROOT, dev_pages, dev_site, run_cli, write_config

pytestmark = pytest.mark.s3

POLICY = ROOT / "docs" / "deploy" / "s3-policy.json"
BUCKET = "wire-lp"
PREFIX = "news"
PAGES = 3
# What each AWS action of the policy is in SeaweedFS's identity actions.
SEAWEED_ACTION = {
    "s3:ListBucket": "List",
    "s3:GetObject": "Read",
    "s3:PutObject": "Write",
    "s3:DeleteObject": "Write",
}


def policy_actions() -> set[str]:
    """Return the SeaweedFS actions the published policy grants."""
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    granted = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            granted.add(SEAWEED_ACTION[action])  # an unmapped action fails here
    return granted


def identities() -> dict[str, set[str]]:
    """Return identity name -> SeaweedFS actions: the policy's, a read-only one, one short each."""
    documented = policy_actions()
    found = {"least-privilege": documented, "read-only": {"Read", "List"}}
    for action in sorted(documented):
        found[f"without-{action.lower()}"] = documented - {action}
    return found


def s3_config(path: Path) -> Path:
    entries = [
        {
            "name": "admin",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
    ]
    for name, actions in identities().items():
        entries.append(
            {
                "name": name,
                "credentials": [{"accessKey": name, "secretKey": f"{name}-secret"}],
                "actions": [f"{action}:{BUCKET}" for action in sorted(actions)],
            }
        )
    path.write_text(json.dumps({"identities": entries}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS of its own: the session's server accepts one key for everything."""
    base = tmp_path_factory.mktemp("seaweedfs-identities")
    running = start_s3_server(base, s3_config(base / "s3.json"))
    try:
        s3_client(running.endpoint).create_bucket(Bucket=BUCKET)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackServer]:
    pages = dict(list(dev_pages().items())[:PAGES])
    with dev_site(pages).running() as server:
        yield server


def crawl_as(
    identity: str, server: S3Server, site: LoopbackServer, folder: Path, archive: str
) -> tuple[Any, Any]:
    """Crawl the site into ``archive`` with the identity's keys; return the result and summary."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(
        folder / "sources.yaml",
        [{"name": "devset", "feeds": [site.url("/feed.xml")]}],
        allow_private_addresses=True,
    )
    env = {
        "AWS_ENDPOINT_URL_S3": server.endpoint,
        "AWS_ACCESS_KEY_ID": identity,
        "AWS_SECRET_ACCESS_KEY": f"{identity}-secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_MAX_ATTEMPTS": "1",
        # A cache of its own: the index is fetched from the bucket, as in a fresh container.
        "XDG_CACHE_HOME": str(folder / "cache"),
    }
    summary = folder / "summary.json"
    args = ["crawl", "--config", str(config), "--archive", archive, "--summary", str(summary)]
    result = run_cli([*args, *FAST_CRAWL], env=env)
    return result, json.loads(summary.read_text()) if summary.exists() else None


def test_the_policy_grants_exactly_list_get_put_delete() -> None:
    assert policy_actions() == {"List", "Read", "Write"}
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert actions == set(SEAWEED_ACTION)


def test_the_documented_policy_is_enough_for_repeated_crawls(
    server: S3Server, site: LoopbackServer, tmp_path: Path
) -> None:
    archive = f"s3://{BUCKET}/{PREFIX}/enough"
    first, first_summary = crawl_as("least-privilege", server, site, tmp_path / "1", archive)
    assert first.status == 0, first.stderr
    assert first_summary["articles_archived"] == PAGES
    # The second run takes the lock the first released (Delete), fetches the index from the
    # bucket (Get), lists the run history (List) and archives nothing twice.
    second, second_summary = crawl_as("least-privilege", server, site, tmp_path / "2", archive)
    assert second.status == 0, second.stderr
    assert second_summary["articles_archived"] == 0
    assert second_summary["skipped"] == PAGES
    keys = s3_client(server.endpoint).list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/enough/")
    stored = [obj["Key"] for obj in keys.get("Contents", [])]
    assert sum(key.endswith(".warc.gz") for key in stored) == PAGES
    assert f"{PREFIX}/enough/_state/lock.json" not in stored


def test_a_read_only_identity_gets_one_clear_line(
    server: S3Server, site: LoopbackServer, tmp_path: Path
) -> None:
    result, _summary = crawl_as("read-only", server, site, tmp_path, f"s3://{BUCKET}/ro")
    assert result.status == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "AccessDenied" in lines[0]
    assert f"s3://{BUCKET}" in lines[0]
    assert "read-only-secret" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [("Read", "is unusable: check: 403"), ("Write", "put '_state/lock.json': AccessDenied")],
)
def test_a_crawl_needs_read_and_write(
    missing: str, message: str, server: S3Server, site: LoopbackServer, tmp_path: Path
) -> None:
    archive = f"s3://{BUCKET}/{PREFIX}/without-{missing.lower()}"
    result, summary = crawl_as(f"without-{missing.lower()}", server, site, tmp_path, archive)
    assert result.status == 1
    assert summary is None  # stopped before crawling anything
    assert message in result.stderr.strip()
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_source_health_needs_list(server: S3Server, site: LoopbackServer, tmp_path: Path) -> None:
    archive = f"s3://{BUCKET}/{PREFIX}/without-list"
    result, summary = crawl_as("without-list", server, site, tmp_path, archive)
    # The crawl itself archives; judging source health from runs/ needs a listing.
    assert result.status == 0, result.stderr
    assert summary["articles_archived"] == PAGES
    assert "could not read the run history for source health" in result.stderr
    assert "AccessDenied" in result.stderr
