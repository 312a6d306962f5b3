"""Search and export at archive scale: synthetic articles, p95 search latency, size, export rate.

Usage: python benchmarks/search.py [--articles N] [--queries Q] [--seed S] [--keep DIR]

Builds a search index of N synthetic articles (default 1,000,000: ~300-word texts drawn
from a Zipf vocabulary, titles, 200 sources, 8 agencies, 3 years of days, 2% Chinese, 30%
with 1-5 copies), then times Q searches on one core (one thread): single words, two and
three words, phrases, prefixes, source and date filters, Chinese words. Query words are
drawn the way people search, from the vocabulary past its 200 most frequent words; the
commonest words are timed apart. Then it times ``export`` to Parquet of every article in a
child process and reports its rate and peak memory (the child reads article JSON from an
in-memory store built on the fly, so the figure is the export's own cost, not the disk's).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.search import Filters, SearchIndex
from pipelines.search.query import RANK_LIMIT

VOCABULARY = 50_000
COMMON = 200
WORDS_PER_TEXT = 300
BATCH = 5_000
SOURCES = [f"outlet{n:03d}" for n in range(200)]
AGENCIES = ["AP", "Reuters", "AFP", "Xinhua", "Sputnik", "Bloomberg", "APP", "dpa"]
FIRST_DAY = date(2024, 1, 1)
DAYS = 3 * 365
CJK_SHARE = 0.02
COPY_SHARE = 0.3
TARGET_P95_MS = 100
HAN = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def vocabulary(rng: random.Random) -> list[str]:
    """Return made-up words, 3 to 10 letters, unique."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    seen: set[str] = set()
    while len(seen) < VOCABULARY:
        seen.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(seen, key=lambda w: (len(w), w))


def zipf_ranks(generator: np.random.Generator, size: int) -> np.ndarray:
    """Return word ranks drawn from a Zipf law (s = 1.1) over the vocabulary."""
    ranks = generator.zipf(1.1, size=size * 2)
    ranks = ranks[ranks <= VOCABULARY][:size]
    while len(ranks) < size:
        more = generator.zipf(1.1, size=size)
        ranks = np.concatenate([ranks, more[more <= VOCABULARY]])[:size]
    return ranks - 1


def article(number: int, words: list[str], ranks: np.ndarray, rng: random.Random) -> dict[str, Any]:
    """Return one synthetic article record."""
    if rng.random() < CJK_SHARE:
        text = "".join(rng.choice(HAN) for _ in range(400))
        title = "".join(rng.choice(HAN) for _ in range(12))
        language = "zh"
    else:
        body = [words[r] for r in ranks]
        text = "\n".join(" ".join(body[i : i + 60]) + "." for i in range(0, len(body), 60))
        title = " ".join(body[:9]).capitalize()
        language = "en"
    day = FIRST_DAY + timedelta(days=number * DAYS // 1_000_000 % DAYS)
    return {
        "id": f"{number:020x}",
        "source": SOURCES[number % len(SOURCES)],
        "url": f"https://{SOURCES[number % len(SOURCES)]}.example/{number}.html",
        "title": title,
        "text": text,
        "published": f"{day.isoformat()}T12:00:00+00:00",
        "fetched_at": f"{day.isoformat()}T12:05:00+00:00",
        "language": language,
        "wire": {"agency": AGENCIES[number % len(AGENCIES)] if number % 3 else None},
    }


def records(count: int, seed: int, words: list[str]) -> Iterator[dict[str, Any]]:
    """Yield ``count`` synthetic articles, deterministically."""
    rng = random.Random(seed)  # noqa: S311 - seeded synthetic data
    generator = np.random.default_rng(seed)
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        ranks = zipf_ranks(generator, size * WORDS_PER_TEXT).reshape(size, WORDS_PER_TEXT)
        for offset in range(size):
            yield article(start + offset, words, ranks[offset], rng)


def key_of(record: dict[str, Any]) -> str:
    """Return the archive key of a synthetic article."""
    day = record["published"][:10].replace("-", "/")
    return f"articles/{record['source']}/{day}/{record['id']}.json"


def build(index: SearchIndex, count: int, seed: int, words: list[str]) -> float:
    """Index ``count`` articles and about COPY_SHARE of them with copies; return seconds."""
    rng = random.Random(seed + 1)  # noqa: S311 - seeded synthetic data
    started = time.perf_counter()
    batch: list[tuple[str, dict[str, Any]]] = []
    copies: list[tuple[str, dict[str, Any]]] = []
    for record in records(count, seed, words):
        batch.append((key_of(record), record))
        if rng.random() < COPY_SHARE:
            for n in range(rng.randint(1, 5)):
                copy_id = f"c{n}{record['id'][2:]}"
                copies.append(
                    (
                        f"duplicates/x/{copy_id}.json",
                        {
                            "id": copy_id,
                            "duplicate_of": record["id"],
                            "url": f"https://copy{n}.example/{copy_id}",
                            "source": rng.choice(SOURCES),
                            "fetched_at": record["fetched_at"],
                            "kind": "near",
                            "similarity": 0.8,
                        },
                    )
                )
        if len(batch) >= BATCH:
            index.add_articles(batch)
            index.add_duplicates(copies)
            batch, copies = [], []
    index.add_articles(batch)
    index.add_duplicates(copies)
    index.conn.execute("INSERT INTO search (search) VALUES ('optimize')")
    return time.perf_counter() - started


def queries(words: list[str], count: int, seed: int) -> list[tuple[str, str, Filters]]:
    """Return (kind, words, filters) searches as people make them."""
    rng = random.Random(seed + 2)  # noqa: S311 - seeded synthetic data
    generator = np.random.default_rng(seed + 2)
    ranks = [int(r) for r in zipf_ranks(generator, count * 20) if r >= COMMON]

    def word() -> str:
        return words[ranks.pop()]

    kinds: list[tuple[str, str, Filters]] = []
    for i in range(count):
        kind = i % 8
        if kind == 0:
            kinds.append(("one word", word(), Filters()))
        elif kind == 1:
            kinds.append(("two words", f"{word()} {word()}", Filters()))
        elif kind == 2:
            kinds.append(("three words", f"{word()} {word()} {word()}", Filters()))
        elif kind == 3:
            kinds.append(("phrase", f'"{words[COMMON + i % 50]} {word()}"', Filters()))
        elif kind == 4:
            kinds.append(("prefix", word()[:3] + "*", Filters()))
        elif kind == 5:
            kinds.append(("word + source", word(), Filters(sources=(rng.choice(SOURCES),))))
        elif kind == 6:
            since = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 30))
            kinds.append(
                ("word + 30 days", word(), Filters(since=since, until=since + timedelta(days=30)))
            )
        else:
            kinds.append(("chinese", rng.choice(HAN) + rng.choice(HAN), Filters()))
    return kinds


def percentile(values: list[float], share: float) -> float:
    """Return the value below which ``share`` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_searches(index: SearchIndex, searches: list[tuple[str, str, Filters]]) -> list[float]:
    """Time each search (first page of 20 with total and snippets); print per kind."""
    by_kind: dict[str, list[float]] = {}
    for kind, words, filters in searches:
        started = time.perf_counter()
        index.search(words, filters)
        by_kind.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    every = [ms for values in by_kind.values() for ms in values]
    for kind, values in by_kind.items():
        print(
            f"  {kind:<16} n={len(values):<4} p50 {statistics.median(values):7.1f} ms"
            f"  p95 {percentile(values, 0.95):7.1f} ms  max {max(values):7.1f} ms"
        )
    return every


class SyntheticStore:
    """A read-only Store serving article JSON from memory (the export child's input).

    A pool of real synthetic records is made once; each key gets one of them with its own
    id, so the export's cost is measured, not the generator's or the disk's.
    """

    uri = "memory://synthetic"
    POOL = 2_000

    def __init__(self, count: int, seed: int) -> None:
        words = vocabulary(random.Random(seed))  # noqa: S311 - seeded synthetic data
        self.pool = list(records(min(count, self.POOL), seed, words))
        self.served = 0

    def get(self, key: str) -> bytes:
        """Return an article's JSON for a key."""
        record = self.pool[self.served % len(self.pool)]
        self.served += 1
        return json.dumps({**record, "id": key.rsplit("/", 1)[1][:-5]}).encode()

    def local_path(self, key: str) -> None:
        """Return None: nothing is on disk."""


def export_child(index_path: str, count: int, seed: int, out: str) -> None:
    """Export every article to Parquet; print rate and peak memory as JSON."""
    from pipelines.export import export_archive  # noqa: PLC0415 - the child's own import cost

    index = SearchIndex(Path(index_path))
    store = SyntheticStore(count, seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = export_archive(store, index, fmt="parquet", out=out)  # type: ignore[arg-type]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": report.articles,
                "seconds": report.seconds,
                "rss_mb": peak / 1024,
                "rss_before_mb": before / 1024,
            }
        )
    )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="build the index in this folder and keep it")
    parser.add_argument("--export-child", nargs=2, metavar=("INDEX", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.export_child[0], args.articles, args.seed, args.export_child[1])
        return
    folder = Path(args.keep or tempfile.mkdtemp(prefix="wirearchive-search-bench-"))
    path = folder / "search.sqlite3"
    words = vocabulary(random.Random(args.seed))  # noqa: S311 - seeded synthetic data
    if path.exists():
        index = SearchIndex(path)
        print(f"reusing the index at {path} ({len(index)} articles)")
    else:
        index = SearchIndex(path)
        seconds = build(index, args.articles, args.seed, words)
        print(
            f"indexed {args.articles} articles in {seconds:.0f}s ({args.articles / seconds:.0f}/s)"
        )
    index.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(p.stat().st_size for p in folder.glob("search.sqlite3*"))
    print(f"index size {size / 2**20:.0f} MiB: {size / args.articles:.0f} bytes per article")
    searches = queries(words, args.queries, args.seed)
    time_searches(index, searches[: len(searches) // 4])  # warm the page cache first
    print(f"search latency, {len(searches)} searches, one thread, first page of 20 with total:")
    every = time_searches(index, searches)
    p95 = percentile(every, 0.95)
    verdict = "met" if p95 < TARGET_P95_MS else "NOT met"
    median = statistics.median(every)
    print(f"  all              p50 {median:7.1f} ms  p95 {p95:7.1f} ms (< 100 ms: {verdict})")
    print(f"commonest words (more than {RANK_LIMIT} matches: newest first, not ranked):")
    time_searches(index, [("top-10 word", words[i], Filters()) for i in range(10)])
    out = folder / "export.parquet"
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--articles",
            str(args.articles),
            "--seed",
            str(args.seed),
            "--export-child",
            str(path),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"export to Parquet: {figures['rows']} rows in {figures['seconds']:.0f}s "
        f"({figures['rows'] / figures['seconds']:.0f} rows/s), "
        f"peak RSS {figures['rss_mb']:.0f} MiB "
        f"(at start {figures['rss_before_mb']:.0f} MiB), file {out.stat().st_size / 2**20:.0f} MiB"
    )
    if not args.keep:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
