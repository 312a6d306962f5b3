"""An archive on a real S3 server (SeaweedFS): index, serve and export read it the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.archive.s3_store import S3Store
from pipelines.search import search_path
from tests.helpers.archive_builder import build_archive
from tests.helpers.serve_support import serving
from tests.helpers.support import SESSION_CACHE, run_cli

pytestmark = pytest.mark.s3


def test_an_s3_archive_is_indexed_in_the_cache_served_and_exported(
    s3_bucket: str, s3_env: dict[str, str], tmp_path: Path
) -> None:
    uri = f"s3://{s3_bucket}/news"
    stories = build_archive(S3Store(uri))
    indexed = run_cli(["index", "--archive", uri])
    assert indexed.status == 0, indexed.stderr
    assert "indexed 5 articles and 3 copies" in indexed.stdout
    cache = Path(SESSION_CACHE) / "wirearchive"
    assert search_path(S3Store(uri), cache).is_file()  # kept locally, never in the bucket
    assert not any(key.startswith("_state/") for key in S3Store(uri).keys(""))

    with serving(uri, env=s3_env) as server:
        status, body = server.json("/api/search?q=monsoon")
        assert status == 200
        assert [r["id"] for r in body["results"]] == [stories["flood"].id]
        assert body["results"][0]["copies"] == 3
        status, headers, page = server.get(f"/raw/{stories['flood'].id}")
        assert status == 200
        assert headers["content-security-policy"].startswith("sandbox")
        assert b"archived-headline" in page

    out = tmp_path / "s3.jsonl"
    exported = run_cli(["export", "--archive", uri, "--format", "jsonl", "--out", str(out)])
    assert exported.status == 0, exported.stderr
    assert len(out.read_text().splitlines()) == 4
    assert {json.loads(line)["id"] for line in out.read_text().splitlines()} == {
        story.id for story in stories.values()
    }
