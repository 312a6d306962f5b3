"""``wirearchive index`` and ``serve`` at the command line: catch-up, rebuild, clear errors."""

from __future__ import annotations

from pathlib import Path

from pipelines.archive.local_store import LocalStore
from tests.helpers.archive_builder import build_archive
from tests.helpers.support import run_cli


def test_index_catches_up_once_and_rebuilds_on_request(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build_archive(LocalStore(root))
    first = run_cli(["index", "--archive", str(root)])
    assert first.status == 0, first.stderr
    assert "indexed 5 articles and 3 copies" in first.stdout
    assert "holds 4 articles and 3 copies" in first.stdout
    assert (root / "_state" / "search.sqlite3").is_file()
    again = run_cli(["index", "--archive", str(root)])
    assert "indexed 0 articles and 0 copies" in again.stdout
    rebuilt = run_cli(["index", "--archive", str(root), "--rebuild"])
    assert "indexed 5 articles and 3 copies" in rebuilt.stdout


def test_an_unreadable_object_is_reported_and_fails_the_command(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build_archive(LocalStore(root))
    broken = root / "articles" / "wiredaily" / "2026" / "11" / "20" / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = run_cli(["index", "--archive", str(root)])
    assert result.status == 1
    assert "1 unreadable objects skipped" in result.stdout


def test_serve_refuses_a_missing_archive_with_a_message(tmp_path: Path) -> None:
    result = run_cli(["serve", "--archive", str(tmp_path / "nowhere")])
    assert result.status == 1
    assert "nowhere" in result.stderr
    assert "does not exist" in result.stderr
