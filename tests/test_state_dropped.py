"""A killed run's unsynced index changes, dropped because the archive moved on, are said so.

Against a real S3 server (SeaweedFS): machine one is killed before it ships its changes,
machine two writes meanwhile; machine one's next start must drop them, and warn.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipelines.archive.s3_store import S3Store
from pipelines.index.sqlite import open_state
from tests.helpers.state_support import archive_article, run


@pytest.mark.parametrize(
    ("meanwhile", "compact"),
    [
        (1, False),  # one more segment: the cache would catch up, but cannot merge
        (2, True),  # two compactions: the cache's base is gone, it is fetched anew
    ],
)
def test_a_killed_runs_changes_are_dropped_with_a_warning(
    s3_bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, meanwhile: int, compact: bool
) -> None:
    store = S3Store(f"s3://{s3_bucket}/wire")
    one, two = tmp_path / "one", tmp_path / "two"
    run(store, one, range(2), compact=False)
    killed = open_state(store, cache=one)
    for number in (10, 11, 12):
        archive_article(store, killed, number)
    killed.close()  # and no sync_state: the run was killed before it shipped them
    for n in range(meanwhile):
        run(store, two, range(20 + n, 21 + n), compact=compact)
    with caplog.at_level(logging.WARNING, logger="pipelines.index.state_fetch"):
        index = open_state(store, cache=one)
    index.close()
    dropped = [r.getMessage() for r in caplog.records if "unsynced" in r.getMessage()]
    assert len(dropped) == 1
    assert dropped[0].startswith("dropping ")
