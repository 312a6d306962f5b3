"""LocalStore.keys(prefix): the same keys as filtering a walk of the whole archive, read
from the prefix's folder only (gaps lists a month at a time, raw WARCs sit beside)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.archive.local_store import TEMP_PREFIX, TEMP_SUFFIX, LocalStore
from tests.helpers.dirwatch import opened_folders

FILES = (
    "top.json",
    "articles/x.json",
    "articles/src/2025/12/31/c.json",
    "articles/src/2026/04/30/b.json",
    "articles/src/2026/05/01/a.json",
    "articles/srcb/2026/05/01/d.json",
    "raw/src/2026/05/01/a.warc.gz",
)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    for key in FILES:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(b"{}")
    (root / "articles/src/2026/05/01" / f"{TEMP_PREFIX}a.json.x{TEMP_SUFFIX}").write_bytes(b"")
    # A symlinked folder: the whole walk never enters it, so no key is listed through it.
    (root / "linked").symlink_to(root / "articles", target_is_directory=True)
    return root


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", list(FILES)),
        ("articles", list(FILES[1:6])),
        ("articles/", list(FILES[1:6])),
        ("articles/src", list(FILES[2:6])),  # mid-name: srcb too
        ("articles/src/", list(FILES[2:5])),
        ("articles/src/2026/0", list(FILES[3:5])),  # mid-name: 04 and 05
        ("articles/src/2026/05", ["articles/src/2026/05/01/a.json"]),
        ("articles/src/2026/05/", ["articles/src/2026/05/01/a.json"]),
        ("articles/src/2026/05/01/a.json", ["articles/src/2026/05/01/a.json"]),
        ("articles/src/2026/05/01/a.json/", []),  # a file, not a folder
        ("articles/src/2026/06/", []),  # absent folder
        ("nothing/deeper/", []),
        ("t", ["top.json"]),
        ("top.json", ["top.json"]),
        ("linked/", []),
        ("linked/src/", []),
        ("articles//src/", []),
        ("./articles/", []),
        ("articles/../raw/", []),
        ("/articles/", []),
    ],
)
def test_keys_under_a_prefix_are_those_of_the_whole_walk(
    archive: Path, prefix: str, expected: list[str]
) -> None:
    store = LocalStore(archive)
    listed = list(store.keys(prefix))
    # keys("") walks the whole archive from its root, as keys(prefix) used to, then filtered.
    assert listed == [key for key in store.keys("") if key.startswith(prefix)]
    assert sorted(listed) == sorted(expected)


def test_keys_of_a_missing_archive_are_none(tmp_path: Path) -> None:
    assert list(LocalStore(tmp_path / "absent").keys("articles/")) == []


def test_a_prefix_lists_its_own_folder_not_its_siblings(archive: Path) -> None:
    siblings = [archive / "raw", archive / "raw/src", archive / "articles/srcb"]
    with opened_folders([*siblings, archive / "articles/src/2026/05"]) as opened:
        keys = list(LocalStore(archive).keys("articles/src/2026/05/"))
    assert keys == ["articles/src/2026/05/01/a.json"]
    assert opened == {archive / "articles/src/2026/05"}
