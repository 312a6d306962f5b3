"""The newest run summaries are found without listing years of them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from crawler.monitoring.history import LOOKBACK_MONTHS, load_history, newest_run_keys
from pipelines.archive.local_store import LocalStore
from tests.helpers.state_support import CountingStore

TODAY = date(2026, 12, 2)


def _archive(tmp_path: Path, days: list[str]) -> CountingStore:
    """An archive with one run summary on each day (YYYYMMDD), in a counting store."""
    store = LocalStore(tmp_path)
    for n, day in enumerate(days):
        run_id = f"{day}T1200{n % 60:02d}Z-{n:06x}"
        store.put(f"runs/{run_id}.json", json.dumps({"run_id": run_id}).encode())
    return CountingStore(store)


def _listed(store: CountingStore) -> list[str]:
    return [call.key for call in store.reset() if call.op == "list"]


@pytest.mark.parametrize(
    ("days", "max_runs", "listed"),
    [
        # A month of daily runs holds the newest 20: this month, and the next (a clock ahead).
        (
            [f"202612{d:02d}" for d in (1, 2)] + [f"202611{d:02d}" for d in range(1, 31)],
            20,
            ["runs/202701", "runs/202612", "runs/202611"],
        ),
        # Fewer runs in the look-back than wanted: the whole folder, once, after the months.
        (["20240105", "20240106"], 5, None),
        # Every run wanted: the whole folder at once.
        (["20261101", "20261201"], 0, ["runs/"]),
    ],
    ids=["recent-months", "short-history", "all"],
)
def test_the_months_listed(
    tmp_path: Path, days: list[str], max_runs: int, listed: list[str] | None
) -> None:
    store = _archive(tmp_path, days)
    keys = newest_run_keys(store, max_runs, TODAY)  # type: ignore[arg-type]
    wanted = sorted(f"runs/{k}" for k in (p.name for p in (tmp_path / "runs").iterdir()))
    assert keys == (wanted[-max_runs:] if max_runs else wanted)
    calls = _listed(store)
    if listed is None:
        assert len(calls) == LOOKBACK_MONTHS + 1 and calls[-1] == "runs/"
    else:
        assert calls == listed


def test_the_newest_runs_are_read_whatever_month_they_fall_in(tmp_path: Path) -> None:
    store = _archive(tmp_path, ["20251201", "20261130", "20261201"])
    history = load_history(store, 2)  # type: ignore[arg-type]
    assert [run["run_id"][:8] for run in history] == ["20261130", "20261201"]
