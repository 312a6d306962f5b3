"""``wirearchive export``: one row per archived article, read back with standard readers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.archive.keys import encode_json
from pipelines.archive.local_store import LocalStore
from tests.helpers.archive_builder import BASE_TIME, Story, build_archive, put_article
from tests.helpers.support import run_cli


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Story]]:
    root = tmp_path_factory.mktemp("export") / "archive"
    return root, build_archive(LocalStore(root))


def export(root: Path, out: Path, *args: str) -> None:
    result = run_cli(["export", "--archive", str(root), "--out", str(out), *args])
    assert result.status == 0, result.stderr
    assert "exported" in result.stderr


def test_parquet_has_one_row_per_article_with_its_copies(
    archive: tuple[Path, dict[str, Story]], tmp_path: Path
) -> None:
    root, stories = archive
    out = tmp_path / "articles.parquet"
    export(root, out, "--format", "parquet")
    table = pq.read_table(out)
    rows = {row["id"]: row for row in table.to_pylist()}
    assert set(rows) == {story.id for story in stories.values()}
    flood = rows[stories["flood"].id]
    assert flood["copies"] == 3
    assert flood["wire_agency"] == "AP"
    assert flood["title"] == "Flood waters rise along the Mekong"
    assert flood["published"].isoformat() == "2026-11-20T08:00:00+00:00"
    assert json.loads(flood["extra"]) == {"http": {"listed_in": None, "status": 200}}
    assert json.loads(flood["origin"]) == {"kind": "live"}
    cranes = rows[stories["cranes"].id]
    assert cranes["version"] == 2  # the latest version only
    assert cranes["title"] == "Harbour cranes idle as dockworkers strike"


def test_jsonl_rows_are_the_archived_records_plus_copies(
    archive: tuple[Path, dict[str, Story]], tmp_path: Path
) -> None:
    root, stories = archive
    out = tmp_path / "articles.jsonl"
    export(root, out, "--format", "jsonl", "--source", "lahoreledger", "--source", "wiredaily")
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {line["source"] for line in lines} == {"lahoreledger", "wiredaily"}
    stored = json.loads((root / stories["cjk"].key).read_text(encoding="utf-8"))
    cjk = next(line for line in lines if line["id"] == stories["cjk"].id)
    assert cjk == {**stored, "key": stories["cjk"].key, "copies": 0}


def test_dates_select_by_article_day(
    archive: tuple[Path, dict[str, Story]], tmp_path: Path
) -> None:
    root, stories = archive
    out = tmp_path / "day.jsonl"
    export(root, out, "--format", "jsonl", "--since", "2026-11-18", "--until", "2026-11-19")
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [
        stories["cranes"].id
    ]


def test_duplicates_table(archive: tuple[Path, dict[str, Story]], tmp_path: Path) -> None:
    root, stories = archive
    export(
        root,
        tmp_path / "a.parquet",
        "--format",
        "parquet",
        "--duplicates",
        str(tmp_path / "d.parquet"),
    )
    copies = pq.read_table(tmp_path / "d.parquet").to_pylist()
    assert sorted(c["source"] for c in copies) == ["dailyplanet", "lahoreledger", "metroobserver"]
    assert {c["duplicate_of"] for c in copies} == {stories["flood"].id}


def test_after_a_run_exports_only_what_later_runs_fetched(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    store = LocalStore(root)
    build_archive(store)
    summary = {
        "run_id": "20261120T090000Z-aaaaaa",
        "started_at": (BASE_TIME + timedelta(minutes=1)).isoformat(),
        "finished_at": (BASE_TIME + timedelta(hours=4)).isoformat(),
        "status": "ok",
    }
    store.put("runs/20261120T090000Z-aaaaaa.json", encode_json(summary))
    later = put_article(
        store,
        source="dailyplanet",
        url="https://dailyplanet.example/later.html",
        title="Later story",
        text="Fetched by a later run.",
        fetched_at=BASE_TIME + timedelta(hours=6),
    )
    out = tmp_path / "new.jsonl"
    export(root, out, "--format", "jsonl", "--after", "20261120T090000Z-aaaaaa")
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [later.id]


def test_unknown_run_is_an_error_naming_it(
    archive: tuple[Path, dict[str, Story]], tmp_path: Path
) -> None:
    root, _ = archive
    out = tmp_path / "x.jsonl"
    result = run_cli(
        [
            "export",
            "--archive",
            str(root),
            "--format",
            "jsonl",
            "--out",
            str(out),
            "--after",
            "nope",
        ]
    )
    assert result.status == 1
    assert "nope" in result.stderr
    assert not out.exists()
