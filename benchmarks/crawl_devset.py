"""Crawl the 65 extraction-dev pages end to end and score what landed in the archive.

Usage: python benchmarks/crawl_devset.py [--s3]   (the S3 run starts SeaweedFS itself)

Serves tests/data/extraction-dev/html on loopback behind an RSS feed, runs
``wirearchive crawl`` into a fresh archive (local folder, or a SeaweedFS bucket) and prints:
wall time and pages/s of the crawl; the same pages fetched one by one with urllib as a
baseline (the floor a crawl cannot beat on this machine); and the benchmark F1 of the
archived ``text`` against the ground truth, next to plain trafilatura on the same bytes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.extract.encoding import decode_html
from pipelines.extract.scoring import benchmark_f1, shingle_f1
from tests.helpers.support import DEV_SET, FAST_CRAWL, dev_pages, dev_site, run_cli, write_config


def fetch_all(urls: list[str]) -> float:
    """Fetch every URL once, sequentially: the baseline."""
    started = time.perf_counter()
    for url in urls:
        with urllib.request.urlopen(url) as response:
            response.read()
    return time.perf_counter() - started


def archived_texts(archive: str, env: dict[str, str]) -> dict[str, str]:
    """Return {page id: archived text} read back from the archive."""
    if archive.startswith("s3://"):
        from tests.helpers.fixtures_s3 import s3_client  # noqa: PLC0415

        bucket, _, prefix = archive.removeprefix("s3://").partition("/")
        client = s3_client(env["AWS_ENDPOINT_URL_S3"])
        keys = [
            obj["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=f"{prefix}/articles/"
            )
            for obj in page.get("Contents", [])
        ]
        records = [json.loads(client.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]
    else:
        paths = Path(archive, "articles").rglob("*.json")
        records = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return {r["url"].rsplit("/", 1)[1].removesuffix(".html"): r["text"] for r in records}


def main() -> None:
    use_s3 = "--s3" in sys.argv
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    pages = dev_pages()
    server = dev_site(pages)
    with server.running(), tempfile.TemporaryDirectory() as folder:
        env: dict[str, str] = {}
        archive = str(Path(folder) / "archive")
        s3 = None
        if use_s3:
            from tests.helpers.fixtures_s3 import start_s3_server  # noqa: PLC0415

            s3 = start_s3_server(Path(folder) / "weed")
            env = s3.env()
            from tests.helpers.fixtures_s3 import s3_client  # noqa: PLC0415

            s3_client(s3.endpoint).create_bucket(Bucket="bench")
            archive = "s3://bench/archive"
        try:
            urls = [server.url(f"/news/{page_id}.html") for page_id in pages]
            baseline = fetch_all(urls)
            config = write_config(
                Path(folder) / "sources.yaml",
                [{"name": "devset", "feeds": [server.url("/feed.xml")]}],
                allow_private_addresses=True,
            )
            summary_path = Path(folder) / "summary.json"
            started = time.perf_counter()
            result = run_cli(
                [
                    *("crawl", "--config", str(config), "--archive", archive),
                    *("--summary", str(summary_path), *FAST_CRAWL),
                ],
                env=env,
            )
            wall = time.perf_counter() - started
            if result.status != 0:
                raise SystemExit(f"crawl failed ({result.status}): {result.stderr}")
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            texts = archived_texts(archive, env)
        finally:
            if s3 is not None:
                s3.stop()
    ours = [shingle_f1(texts.get(pid, ""), truth[pid]["articleBody"]) for pid in pages]
    plain = [
        shingle_f1(trafilatura.extract(decode_html(body, None)[0]) or "", truth[pid]["articleBody"])
        for pid, body in pages.items()
    ]
    p, r, f1 = benchmark_f1(ours)
    _, _, plain_f1 = benchmark_f1(plain)
    print(f"archive: {'S3 (SeaweedFS)' if use_s3 else 'local folder'}")
    print(
        f"crawl: {len(pages)} pages, {summary['articles_archived']} archived, "
        f"wall {wall:.2f} s (CLI start to exit), engine {summary['elapsed_seconds']:.2f} s, "
        f"{len(pages) / wall:.1f} pages/s wall, {summary['pages_per_second']:.1f} pages/s engine"
    )
    print(
        f"baseline urllib fetch of the same pages: {baseline:.2f} s; ratio {wall / baseline:.1f}x"
    )
    print(f"archived text: P={p:.3f} R={r:.3f} F1={f1:.3f}")
    print(f"plain trafilatura on the same bytes: F1={plain_f1:.3f}; ratio {f1 / plain_f1:.3f}")


if __name__ == "__main__":
    main()
