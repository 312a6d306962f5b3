"""Reading the newest run summaries of a long history, as every run's end does for health.

Usage: python benchmarks/run_history.py [--runs N] [--months M] [--newest K]

Writes N run summaries spread evenly over the last M months into an archive on a real S3
server (SeaweedFS on loopback, started the way the tests start it), then reads the newest K
(60 at the end of a run) two ways in the same process, alternating, three times each:

* the baseline: list every summary under ``runs/`` and read the newest K one after the
  other (what the code did before);
* ``load_history``: list month by month from the next one back, read READERS at a time.

Prints the keys listed, the GETs and the time of each, and their ratio. On loopback a request
costs about a millisecond; over the internet (30-50 ms a round trip) the gap widens.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.monitoring import history
from pipelines.archive.stores import Store, open_store
from tests.helpers.fixtures_s3 import s3_client, start_s3_server
from tests.helpers.state_support import CountingStore

BUCKET = "bench-runs"


def fill(store: Store, runs: int, months: int) -> None:
    """Write ``runs`` summaries, evenly spaced over the last ``months`` months."""
    now = datetime.now(UTC)
    step = timedelta(days=30 * months) / runs
    for n in range(runs):
        run_id = f"{now - step * n:%Y%m%dT%H%M%SZ}-{n:06x}"
        summary = {"run_id": run_id, "per_source": {"wire": {"articles_archived": n % 7}}}
        store.put(f"runs/{run_id}.json", json.dumps(summary).encode())


class ListingStore(CountingStore):
    """A counting store that also counts the keys its listings return (S3: 1,000 a page)."""

    listed: int = 0

    def keys(self, prefix: str = "") -> Iterator[str]:
        for key in super().keys(prefix):
            self.listed += 1
            yield key


def baseline(store: Store, newest: int) -> list[dict[str, object]]:
    """The whole listing, then one GET after another."""
    keys = sorted(key for key in store.keys("runs/") if key.endswith(".json"))
    return [json.loads(store.get(key)) for key in keys[-newest:]]


def timed(read: object, store: ListingStore, newest: int) -> tuple[float, int, int]:
    store.reset()
    store.listed = 0
    started = time.perf_counter()
    runs = read(store, newest)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    calls = store.reset()
    assert len(runs) == newest, len(runs)
    assert sum(call.op == "list" for call in calls) >= 1
    return elapsed, store.listed, sum(call.op == "get" for call in calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--newest", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        s3 = start_s3_server(Path(folder) / "weed")
        try:
            os.environ.update(s3.env())
            s3_client(s3.endpoint).create_bucket(Bucket=BUCKET)
            store = ListingStore(open_store(f"s3://{BUCKET}/archive"))
            fill(store.inner, args.runs, args.months)
            print(f"{args.runs} run summaries over {args.months} months; reading the newest")
            times: dict[str, list[float]] = {"baseline": [], "load_history": []}
            for _ in range(3):
                for name, read in (("baseline", baseline), ("load_history", history.load_history)):
                    elapsed, listed, gets = timed(read, store, args.newest)
                    times[name].append(elapsed)
                    print(f"  {name}: {elapsed * 1000:.0f} ms, {listed} keys listed, {gets} GETs")
            ours, base = (statistics.median(times[n]) for n in ("load_history", "baseline"))
            print(f"load_history / baseline (median of 3): {ours / base:.2f}x the time")
        finally:
            s3.stop()


if __name__ == "__main__":
    main()
