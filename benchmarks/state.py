"""The index state of an S3 archive at scale: what a run writes, what a fresh machine reads.

Usage: python benchmarks/state.py [--sizes 10000,100000,1000000] [--runs K] [--seed S]

For each size N it builds a synthetic SQLite index of N articles (random URL, text and
near-dup keys, in the layout the crawler writes), makes it the base of an archive on a real
S3 server (SeaweedFS on loopback, started the way the tests start it), then:

* times K runs of 20 new articles each (real ``record_article``, real signatures) under
  the archive lock, counting every byte written under ``_state/`` (the lock included);
* in a fresh child process with an empty cache, times the start (manifest, base, the K
  segments) against a plain download of the base alone, then makes one more run there
  whose segment makes a compaction due, and reports the child's peak RSS (ready, and
  after that compacting run);
* reports what one compaction costs at that size, and spread over the runs between two.

Targets (issue #16): at most 2 KB per new article + 16 KB per run at every size; a fresh
start within 2x the base download at 1M; peak RSS within 300 MB at 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.archive.lock import RunLock
from pipelines.archive.s3_store import S3Store
from pipelines.archive.stores import Store
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.index import manifest as manifest_rules
from pipelines.index.manifest import MANIFEST_KEY
from pipelines.index.sqlite import StateIndex, open_state
from pipelines.index.state_cache import read_manifest, state_path
from pipelines.index.sync import sync_state
from tests.helpers.fixtures_s3 import ACCESS_KEY, REGION, SECRET_KEY, start_s3_server
from tests.helpers.state_support import CountingStore

RUN_ARTICLES = 20
PER_ARTICLE = 2048
PER_RUN = 16 * 1024
RSS_BUDGET_MB = 300
FRESH_RATIO = 2.0
BATCH = 20_000
SIG_BYTES = 340  # pipelines/dedup/fingerprints.py: header, 20 buckets, 512 4-bit bins


def build(path: Path, count: int, seed: int) -> float:
    """Write a synthetic index of ``count`` articles at ``path``; return the seconds."""
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - seeded synthetic data
    index = StateIndex(path, journal_changes=False)
    conn = index.conn
    now = int(time.time())
    for first in range(0, count, BATCH):
        numbers = range(first, min(first + BATCH, count))
        articles = [
            (f"{n:020x}", f"articles/wire/2026/12/01/{n:020x}.json", f"{n:064x}") for n in numbers
        ]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO articles (article_id, key, content_sha256) VALUES (?, ?, ?)", articles
        )
        conn.executemany(
            "INSERT INTO urls (hash, article_id, kind) VALUES (?, ?, 'article')",
            [(rng.randbytes(12), a[0]) for a in articles for _ in range(2)],
        )
        conn.executemany(
            "INSERT INTO texts (hash, article_id) VALUES (?, ?)",
            [(rng.randbytes(16), a[0]) for a in articles],
        )
        index.near.add_many(
            (a[0], a[1], (60).to_bytes(4, "little") + rng.randbytes(SIG_BYTES - 4), now)
            for a in articles
        )
        conn.execute("COMMIT")
    index.close()
    return time.perf_counter() - started


def story(number: int) -> str:
    return " ".join(f"run{number} word{n} item{(n * 13 + number) % 101}" for n in range(80))


def one_run(store: Store, cache: Path, first: int) -> None:
    """A run's index work: lock, open (current cache), 20 articles, ship, unlock."""
    with RunLock(store, f"bench-{first}"):
        index = open_state(store, cache=cache)
        for number in range(first, first + RUN_ARTICLES):
            ident = f"{10**12 + number:020x}"
            text = story(number)
            index.record_article(
                article_id=ident,
                key=f"articles/wire/2026/12/02/{ident}.json",
                content_sha256=f"{number:064x}",
                urls=[f"https://example.org/news/{number}", f"https://example.org/n?id={number}"],
                fingerprint=exact_fingerprint(text),
                text=text,
            )
        sync_state(index, store)
        index.close()


def fresh_child(uri: str, folder: str) -> None:
    """In a new process: time the base alone, then a fresh start; print JSON."""
    store = S3Store(uri)
    manifest, _tag = read_manifest(store)
    assert manifest is not None
    Path(folder).mkdir(parents=True)
    target = Path(folder) / "base-alone.sqlite3"
    started = time.perf_counter()
    store.download_file(manifest.base.key, target)
    base_seconds = time.perf_counter() - started
    target.unlink()
    counting = CountingStore(store)
    started = time.perf_counter()
    index = open_state(counting, cache=Path(folder) / "cache")  # type: ignore[arg-type]
    fresh_seconds = time.perf_counter() - started
    articles = len(index)
    index.close()
    calls = counting.reset()
    ready_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Then the run itself, whose segment makes a compaction due: the whole index goes up
    # as a new base (streamed, in parts) in this same process.
    manifest_rules.COMPACT_SEGMENTS = 1
    started = time.perf_counter()
    one_run(store, Path(folder) / "cache", 10**6)
    run_seconds = time.perf_counter() - started
    figures = {
        "base_seconds": base_seconds,
        "base_bytes": manifest.base.size,
        "fresh_seconds": fresh_seconds,
        "fresh_bytes": sum(c.size for c in calls if c.op in ("get", "download")),
        "requests": len(calls),
        "articles": articles,
        "ready_rss_mb": ready_rss,
        "compacting_run_seconds": run_seconds,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    (Path(folder).parent / f"{Path(folder).name}.json").write_text(json.dumps(figures))
    print(json.dumps(figures))


def measure(uri: str, size: int, runs: int, seed: int, folder: Path) -> dict[str, Any]:
    store = S3Store(uri)
    cache = folder / f"cache-{size}"
    path = state_path(store, cache)
    seconds = build(path, size, seed)
    print(f"  {size:>9,} articles: synthetic index built in {seconds:.0f}s", flush=True)
    # The archive's first sync publishes the index as its base (what a compaction writes).
    index = open_state(store, cache=cache)
    started = time.perf_counter()
    sync_state(index, store)
    compact_seconds = time.perf_counter() - started
    index.close()
    manifest, _tag = read_manifest(store)
    assert manifest is not None
    counting = CountingStore(store)
    written: list[int] = []
    run_seconds: list[float] = []
    for run in range(runs):
        counting.reset()
        started = time.perf_counter()
        one_run(counting, cache, run * RUN_ARTICLES)  # type: ignore[arg-type]
        run_seconds.append(time.perf_counter() - started)
        calls = counting.reset()
        assert not any(c.key.startswith("_state/base/") for c in calls), "a run wrote a base"
        written.append(
            sum(c.size for c in calls if c.op in ("put", "upload") and c.key.startswith("_state/"))
        )
    after, _tag = read_manifest(store)
    assert after is not None
    assert len(after.segments) == runs
    child = subprocess.run(
        [sys.executable, __file__, "--fresh-child", uri, str(folder / f"fresh-{size}")],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"the fresh-cache child failed:\n{child.stderr}")
    fresh = json.loads(child.stdout.strip().splitlines()[-1])
    assert fresh["articles"] == size + runs * RUN_ARTICLES
    shutil.rmtree(folder / f"fresh-{size}")
    return {
        "size": size,
        "base_bytes": manifest.base.size,
        "compact_seconds": compact_seconds,
        "written_max": max(written),
        "written_mean": sum(written) / len(written),
        "segment_mean": sum(s.size for s in after.segments) / runs,
        "manifest_bytes": len(store.get(MANIFEST_KEY)),
        "run_seconds": sum(run_seconds) / runs,
        **fresh,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=10, help="20-article runs per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fresh-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fresh_child:
        fresh_child(*args.fresh_child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="wirearchive-state-bench-"))
    server = start_s3_server(folder / "s3")
    os.environ.update(server.env())
    try:
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        client.create_bucket(Bucket="state-bench")
        print(f"SeaweedFS on {server.endpoint}; {args.runs} runs of {RUN_ARTICLES} articles")
        rows = [
            measure(f"s3://state-bench/a{size}", size, args.runs, args.seed, folder)
            for size in sizes
        ]
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report(rows)


def report(rows: list[dict[str, Any]]) -> None:
    budget = RUN_ARTICLES * PER_ARTICLE + PER_RUN
    mib = 2**20
    print()
    print(
        "| articles | base | written per 20-article run (max / mean) | vs budget "
        f"({budget // 1024} KB) | run | fresh start | base alone | ratio | requests "
        "| peak RSS (ready / after a compacting run) | compaction | compaction per run |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = row["fresh_seconds"] / row["base_seconds"]
        amortised = row["base_bytes"] / manifest_rules.COMPACT_SEGMENTS
        compacting = ""
        if "compacting_run_seconds" in row:
            compacting = f" (a run with one: {row['compacting_run_seconds']:.1f} s)"
        print(
            f"| {row['size']:,} | {row['base_bytes'] / mib:.1f} MiB "
            f"| {row['written_max'] / 1024:.1f} / {row['written_mean'] / 1024:.1f} KB "
            f"| {row['written_max'] / budget:.2f} "
            f"| {row['run_seconds']:.2f} s "
            f"| {row['fresh_seconds']:.2f} s, {row['fresh_bytes'] / mib:.1f} MiB "
            f"| {row['base_seconds']:.2f} s | {ratio:.2f}x | {row['requests']} "
            f"| {row.get('ready_rss_mb', row['rss_mb']):.0f} / {row['rss_mb']:.0f} MiB "
            f"| {row['compact_seconds']:.1f} s{compacting} "
            f"| {amortised / mib:.2f} MiB |"
        )
    last = rows[-1]
    print()
    checks = [
        (
            "bytes per run within 2 KB/article + 16 KB",
            all(r["written_max"] <= budget for r in rows),
        ),
        (
            f"fresh start at {last['size']:,} within {FRESH_RATIO}x the base alone",
            last["fresh_seconds"] <= FRESH_RATIO * last["base_seconds"],
        ),
        (
            f"peak RSS at {last['size']:,} within {RSS_BUDGET_MB} MB",
            last["rss_mb"] <= RSS_BUDGET_MB,
        ),
    ]
    for label, met in checks:
        print(f"{'met' if met else 'NOT met'}: {label}")
    print(
        f"(segment mean {last['segment_mean'] / 1024:.1f} KB, manifest {last['manifest_bytes']} B "
        f"with {len(rows) and RUN_ARTICLES} articles/run; compaction every "
        f"{manifest_rules.COMPACT_SEGMENTS} segments or a quarter of the base)"
    )


if __name__ == "__main__":
    main()
