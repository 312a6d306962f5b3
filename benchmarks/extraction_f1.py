"""Score extract_article on the extraction dev set (Scrapinghub benchmark format).

Usage: python benchmarks/extraction_f1.py [DEV_SET_DIR]
Prints mean precision/recall/F1 (shingle metric, see pipelines/scoring.py), speed, the
worst pages, and the same figures for plain trafilatura.extract() as a baseline.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.encoding import decode_html
from pipelines.extract import ExtractionRejected, extract_article
from pipelines.scoring import benchmark_f1, shingle_f1

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared/data/extraction-dev"


def load(folder: Path) -> list[tuple[str, str, str, str]]:
    """Return (id, url, decoded html, true body) for every page of the set."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        body = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        html, _ = decode_html(body, None)
        pages.append((page_id, item["url"], html, item["articleBody"]))
    return pages


def ours(html: str, url: str) -> str:
    try:
        return extract_article(html, url).text
    except ExtractionRejected as exc:
        print(f"  rejected {url}: {exc.reason} {exc}")
        return ""


def baseline(html: str, url: str) -> str:
    return trafilatura.extract(html) or ""


def run(name: str, fn: Callable[[str, str], str], pages: list[tuple[str, str, str, str]]) -> float:
    started = time.perf_counter()
    predictions = [fn(html, url) for _, url, html, _ in pages]
    elapsed = time.perf_counter() - started
    scores = [shingle_f1(p, t) for p, (_, _, _, t) in zip(predictions, pages, strict=True)]
    precision, recall, f1 = benchmark_f1(scores)
    mean_f1 = statistics.fmean(f for _, _, f in scores)
    print(
        f"{name}: pages={len(pages)} P={precision:.3f} R={recall:.3f} F1={f1:.3f}"
        f" (mean per-page F1 {mean_f1:.3f}) speed={len(pages) / elapsed:.1f} pages/s"
    )
    worst = sorted(zip(scores, pages, strict=True), key=lambda row: row[0][2])[:5]
    for (p, r, f), (page_id, url, _, _) in worst:
        print(f"  worst F1={f:.3f} P={p:.3f} R={r:.3f} {page_id[:12]} {url}")
    return f1


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    pages = load(folder)
    ours_f1 = run("extract_article", ours, pages)
    base_f1 = run("trafilatura.extract (baseline)", baseline, pages)
    print(f"ratio extract_article / baseline F1: {ours_f1 / base_f1:.3f}")


if __name__ == "__main__":
    main()
