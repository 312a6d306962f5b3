"""Throughput: the extraction loop on one core against the end-to-end crawl, in one run.

Usage: python benchmarks/throughput.py [--pages N] [--s3] [--redis]

Serves N of the extraction-dev pages (default: all 65, repeated under more URLs when N is
larger) on loopback, split between --hosts sites (127.0.0.1, 127.0.0.2, ...; default 4),
each a source with its own feed, and prints:
- plain ``trafilatura.extract`` over the pages, one core (the baseline);
- wirearchive's own ``extract_article`` over the pages, one core;
- ``wirearchive crawl`` end to end (fetch, extract, dedup, archive) into a fresh local
  folder with ``--workers 1`` and ``--workers 2`` (and into SeaweedFS S3 with ``--s3``),
  with wall time, pages/s, the ratio crawl time / extract-loop time, and peak RSS of the
  largest process of the run (the crawl or one of its extraction workers);
- with ``--redis``: one ``crawl --redis`` worker against two at once (each ``--workers
  1``), on a redis-server started here: wall time, the throughput ratio, how the pages
  were split, and whether any article object was written twice.
A crawl fetches at most CONCURRENT_REQUESTS_PER_DOMAIN (4) pages of one site at a time, to
be polite: with --hosts 1 the whole run waits on one site's round trips, which measures
that limit rather than the crawl's own cost. A cron run crawls several sources at once.
Pages beyond the 65 repeat them under new URLs with a marker sentence: they are fetched
and extracted like any page, and recorded as near duplicates (the dedup stage runs too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.demo.loopback import LoopbackServer, Resource
from pipelines.extract.article import ExtractionRejected, extract_article
from pipelines.extract.encoding import decode_html
from tests.helpers.support import dev_pages, rss, write_config

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "WIREARCHIVE_PROGRESS_INTERVAL=0"]


def corpus(count: int) -> list[bytes]:
    """Return ``count`` distinct pages built from the dev set."""
    base = list(dev_pages().values())
    pages = []
    for n in range(count):
        page = base[n % len(base)]
        if n >= len(base):  # a unique sentence keeps repeats from being exact duplicates
            marker = f"<p>Edition note {n}: this copy was served under its own address.</p>"
            page = page.replace(b"</body>", marker.encode() + b"</body>", 1)
        pages.append(page)
    return pages


def extract_loop(pages: list[bytes], extract: str) -> float:
    started = time.perf_counter()
    for number, body in enumerate(pages):
        html, _ = decode_html(body, None)
        if extract == "trafilatura":
            trafilatura.extract(html)
        else:
            with contextlib.suppress(ExtractionRejected):
                extract_article(html, f"http://127.0.0.1/news/{number}.html")
    return time.perf_counter() - started


CRAWL = [sys.executable, "-m", "crawler", "crawl"]
CRAWL_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def sites(pages: list[bytes], hosts: int) -> list[LoopbackServer]:
    """One server a host (127.0.0.1, .2, ...), each with every hosts-th page and a feed."""
    servers = []
    for host in range(hosts):
        server = LoopbackServer(host=f"127.0.0.{host + 1}")
        server.routes["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain")
        numbers = range(host, len(pages), hosts)
        for number in numbers:
            server.routes[f"/news/{number}.html"] = Resource(pages[number], "text/html")
        server.routes["/feed.xml"] = Resource(
            rss((server.url(f"/news/{n}.html"), None) for n in numbers), "text/xml"
        )
        servers.append(server)
    return servers


def bench_config(folder: Path, servers: list[LoopbackServer]) -> Path:
    """Write a sources.yaml with a source for each site the benchmark serves."""
    return write_config(
        folder / "sources.yaml",
        [
            {"name": f"bench{n}", "feeds": [server.url("/feed.xml")]}
            for n, server in enumerate(servers)
        ],
        allow_private_addresses=True,
    )


def crawl(servers: list[LoopbackServer], archive: str, workers: int, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        config = bench_config(Path(folder), servers)
        summary_path = Path(folder) / "summary.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        done = subprocess.run(
            [
                *(*CRAWL, "--config", str(config)),
                *("--archive", archive, "--workers", str(workers)),
                *("--summary", str(summary_path), *FAST),
            ],
            cwd=ROOT,
            env={**CRAWL_ENV, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            raise SystemExit(f"crawl failed: {done.stderr[-2000:]}")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return {"wall": wall, "summary": summary, "peak_mb": max(peak, before) / 1024}


def distributed(servers: list[LoopbackServer], folder: Path, redis_url: str, count: int) -> dict:
    """Crawl with one ``--redis`` worker, then with two at once; return both timings.

    Each worker runs one extraction process (``--workers 1``), so on a 2-core machine two
    workers are extraction-bound on both cores. Wall time runs from the first start to the
    last exit; the second worker waits for the first to queue the feed's pages, then helps.
    """
    timings = {}
    folder = Path(tempfile.mkdtemp(dir=folder))  # a fresh archive for each call
    config = bench_config(folder, servers)
    for workers in (1, 2):
        redis.Redis.from_url(redis_url).flushdb()
        base = [*CRAWL, "--config", str(config)]
        base += ["--archive", str(folder / f"dist-archive-{workers}"), "--redis", redis_url]
        base += ["--workers", "1", *FAST]
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [*base, "--worker", f"w{n}", "--summary", str(folder / f"dist-{workers}-{n}.json")],
                cwd=ROOT,
                env=CRAWL_ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for n in range(workers)
        ]
        for process in processes:
            _, err = process.communicate()
            if process.returncode != 0:
                raise SystemExit(f"distributed crawl failed: {err.decode()[-2000:]}")
        wall = time.perf_counter() - started
        summaries = [
            json.loads((folder / f"dist-{workers}-{n}.json").read_text(encoding="utf-8"))
            for n in range(workers)
        ]
        fetched = sum(summary["pages_fetched"] for summary in summaries)
        if fetched != count:
            raise SystemExit(f"{workers} distributed workers fetched {fetched} of {count} pages")
        articles = folder / f"dist-archive-{workers}" / "articles"
        objects = sum(1 for _ in articles.rglob("*.json"))
        archived = sum(summary["articles_archived"] for summary in summaries)
        timings[workers] = {
            "wall": wall,
            "archived": archived,
            "objects": objects,
            # Both workers counting one article as stored is the race the index prevents.
            "twice": archived - objects,
            "split": [summary["pages_fetched"] for summary in summaries],
        }
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=65)
    parser.add_argument(
        "--hosts", type=int, default=4, help="sites (sources) the pages are split between"
    )
    parser.add_argument("--s3", action="store_true")
    parser.add_argument(
        "--redis", action="store_true", help="also 1 vs 2 distributed workers (redis-server)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="distributed runs: this many pairs (median)"
    )
    args = parser.parse_args()
    pages = corpus(args.pages)
    print(f"{len(pages)} pages, {sum(map(len, pages)) / 1e6:.1f} MB")
    base = extract_loop(pages, "trafilatura")
    print(f"trafilatura.extract loop, one core: {base:.2f} s, {len(pages) / base:.1f} pages/s")
    ours = extract_loop(pages, "ours")
    print(
        f"extract_article loop, one core: {ours:.2f} s, {len(pages) / ours:.1f} pages/s "
        f"({ours / base:.2f}x the trafilatura loop)"
    )
    servers = sites(pages, args.hosts)
    print(f"served from {args.hosts} loopback site(s), one source each")
    with contextlib.ExitStack() as running:
        for server in servers:
            running.enter_context(server.running())
        targets: list[tuple[str, dict[str, str]]] = []
        with tempfile.TemporaryDirectory() as folder:
            for workers in (1, 2):
                targets.append((f"local, --workers {workers}", {}))
            for label, env in targets:
                workers = int(label.rsplit(" ", 1)[1])
                archive = str(Path(folder) / f"archive-{workers}")
                result = crawl(servers, archive, workers, env)
                report(label, result, len(pages), base, ours)
            if args.s3:
                from tests.helpers.fixtures_s3 import s3_client, start_s3_server  # noqa: PLC0415

                s3 = start_s3_server(Path(folder) / "weed")
                try:
                    s3_client(s3.endpoint).create_bucket(Bucket="bench")
                    cache = {"XDG_CACHE_HOME": str(Path(folder) / "cache")}
                    for workers in (1, 2):
                        archive = f"s3://bench/w{workers}"
                        result = crawl(servers, archive, workers, {**s3.env(), **cache})
                        report(f"S3, --workers {workers}", result, len(pages), base, ours)
                finally:
                    s3.stop()
            if args.redis:
                from tests.helpers.fixtures_redis import (  # noqa: PLC0415
                    start_redis_server,
                    stop_redis_server,
                )

                (Path(folder) / "redis").mkdir()
                redis_server = start_redis_server(Path(folder) / "redis")
                ratios = []
                try:
                    # Alternating pairs: this machine's speed drifts by 10-20% between runs.
                    for _ in range(args.repeat):
                        timings = distributed(servers, Path(folder), redis_server.url, len(pages))
                        report_distributed(timings, len(pages))
                        ratios.append(timings[1]["wall"] / timings[2]["wall"])
                finally:
                    stop_redis_server(redis_server)
                print(
                    "2 distributed workers / 1: "
                    + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
                    + f" the throughput (median {statistics.median(ratios):.2f}x)"
                )


def report_distributed(timings: dict, count: int) -> None:
    for workers, timing in timings.items():
        print(
            f"distributed, {workers} worker(s) x --workers 1:"
            f" wall {timing['wall']:.2f} s,"
            f" {count / timing['wall']:.1f} pages/s; pages fetched per worker"
            f" {timing['split']}; {timing['archived']} archived,"
            f" {timing['objects']} article objects, {timing['twice']} written twice"
        )


def report(label: str, result: dict, count: int, base: float, ours: float) -> None:
    summary = result["summary"]
    print(
        f"crawl {label}: {summary['pages_fetched']}/{count} fetched and extracted,"
        f" {summary['articles_archived']} archived, {sum(summary['duplicates'].values())}"
        " duplicates (repeats of the 65 pages are near copies),"
        f" wall {result['wall']:.2f} s"
        f" (engine {summary['elapsed_seconds']:.2f} s), {count / result['wall']:.1f} pages/s wall;"
        f" engine/trafilatura-loop {summary['elapsed_seconds'] / base:.2f},"
        f" engine/extract_article-loop {summary['elapsed_seconds'] / ours:.2f};"
        f" peak RSS {result['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
