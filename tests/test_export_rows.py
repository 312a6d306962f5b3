"""Archive records as Parquet rows: typed columns, UTC timestamps, nothing dropped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from pipelines.export.rows import ARTICLE_SCHEMA, article_row, duplicate_row, timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T23:30:00-05:00", datetime(2026, 11, 21, 4, 30, tzinfo=UTC)),
        ("2026-11-20T08:00:00", datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),  # no zone: UTC
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
        (1700000000, None),
    ],
)
def test_times_become_utc_timestamps(value: object, expected: datetime | None) -> None:
    assert timestamp(value) == expected


def test_every_field_has_a_column_or_goes_to_extra() -> None:
    record = {
        "id": "abc",
        "title": "T",
        "text": "x",
        "authors": ["A", "B"],
        "wire": {"agency": "AP", "dateline": "ROME"},
        "extractor": {"name": "trafilatura", "version": "2"},
        "origin": {"kind": "wayback", "timestamp": "20240101000000"},
        "http": {"status": 200},
        "something_new": [1, 2],
    }
    row = article_row(record, "articles/s/2026/11/20/abc.json", date(2026, 11, 20), 4)
    assert set(row) == set(ARTICLE_SCHEMA.names)
    assert (row["wire_agency"], row["wire_dateline"], row["copies"]) == ("AP", "ROME", 4)
    assert row["authors"] == ["A", "B"]
    assert json.loads(row["origin"]) == record["origin"]
    assert json.loads(row["extra"]) == {"http": {"status": 200}, "something_new": [1, 2]}


def test_duplicate_rows_keep_their_pointer() -> None:
    row = duplicate_row(
        {"id": "d", "duplicate_of": "abc", "kind": "near", "similarity": 0.8}, "duplicates/x.json"
    )
    assert (row["duplicate_of"], row["kind"], row["similarity"], row["extra"]) == (
        "abc",
        "near",
        0.8,
        None,
    )
