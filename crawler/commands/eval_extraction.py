"""``wirearchive eval-extraction``: score extract_article on a benchmark-format folder.

The folder holds ``html/{id}.html.gz`` (page bytes, charset inside) and
``ground-truth.json`` (``{id: {"articleBody": ..., "url": ...}}``), the format of the
Scrapinghub article-extraction benchmark. Pages are scored with the benchmark's word-shingle
precision/recall/F1 (pipelines/extract/scoring.py), next to plain ``trafilatura.extract`` in the
same run. ``benchmarks/extraction_f1.py`` calls into this module: one scoring loop.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura

from crawler.exits import EXIT_OK, EXIT_USAGE
from pipelines.extract.article import ExtractionRejected, extract_article
from pipelines.extract.encoding import decode_html
from pipelines.extract.scoring import benchmark_f1, shingle_f1, shingles

# A sentence counts as missed (or extra) when fewer than this share of its shingles are
# found on the other side.
DIFF_OVERLAP = 0.5
DIFF_SNIPPET = 160
SHINGLE = 4
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Page:
    """One page of a dataset: its id, URL, decoded HTML and reference body."""

    page_id: str
    url: str
    html: str
    truth: str


@dataclass
class RunResult:
    """One extractor's predictions and scores over a dataset."""

    name: str
    predictions: list[str]
    scores: list[tuple[float, float, float]]
    seconds: float
    rejections: Counter[str] = field(default_factory=Counter)

    @property
    def totals(self) -> tuple[float, float, float]:
        """(mean P, mean R, F1 of the means), as the benchmark publishes them."""
        return benchmark_f1(self.scores)

    @property
    def ms_per_page(self) -> float:
        return 1000 * self.seconds / max(1, len(self.scores))


def load_dataset(folder: Path) -> list[Page]:
    """Read every page of a benchmark-format folder, decoding bytes as the crawler does."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, item in sorted(truth.items()):
        body = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        html, _ = decode_html(body, None)
        pages.append(Page(page_id, item.get("url", ""), html, item["articleBody"]))
    return pages


Extractor = Callable[[str, str], str]


def plain_trafilatura(html: str, url: str) -> str:
    """The baseline: trafilatura.extract with its defaults."""
    return trafilatura.extract(html) or ""


def score(name: str, extractor: Extractor, pages: Sequence[Page]) -> RunResult:
    """Run one extractor over the pages; a rejection scores as an empty prediction."""
    predictions: list[str] = []
    rejections: Counter[str] = Counter()
    started = time.perf_counter()
    for page in pages:
        try:
            predictions.append(extractor(page.html, page.url))
        except ExtractionRejected as exc:
            rejections[exc.reason] += 1
            predictions.append("")
    elapsed = time.perf_counter() - started
    scores = [shingle_f1(p, page.truth) for p, page in zip(predictions, pages, strict=True)]
    return RunResult(name, predictions, scores, elapsed, rejections)


def ours(html: str, url: str) -> str:
    """The pipeline's extraction (rejections propagate to `score`)."""
    return extract_article(html, url).text


_SENTENCE = re.compile(r"(?<=[.!?…”\"])\s+(?=[A-Z“\"(])|\n+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.split()) >= 3]


def _unmatched(text: str, other: str) -> list[str]:
    """Sentences of `text` that mostly do not occur (as shingles) in `other`."""
    pool = shingles(other)
    joined = f" {' '.join(_TOKEN.findall(other))} "
    out = []
    for sentence in _sentences(text):
        tokens = _TOKEN.findall(sentence)
        if len(tokens) < SHINGLE:
            # Shorter than one shingle: look for the words in a row instead.
            if f" {' '.join(tokens)} " not in joined:
                out.append(sentence)
            continue
        own = shingles(sentence)
        found = sum((own & pool).values())
        if found < DIFF_OVERLAP * sum(own.values()):
            out.append(sentence)
    return out


def text_diff(prediction: str, truth: str) -> tuple[list[str], list[str]]:
    """Return (missed sentences of truth, extra sentences of prediction)."""
    return _unmatched(truth, prediction), _unmatched(prediction, truth)


def _clip(sentence: str) -> str:
    sentence = re.sub(r"\s+", " ", sentence)
    if len(sentence) <= DIFF_SNIPPET:
        return sentence
    return sentence[: DIFF_SNIPPET - 1] + "…"


def report(result: RunResult) -> str:
    precision, recall, f1 = result.totals
    mean_f1 = statistics.fmean(f for _, _, f in result.scores) if result.scores else 0.0
    line = (
        f"{result.name}: pages={len(result.scores)} P={precision:.3f} R={recall:.3f}"
        f" F1={f1:.3f} (mean per-page F1 {mean_f1:.3f}) {result.ms_per_page:.1f} ms/page"
    )
    if result.rejections:
        counted = ", ".join(f"{k}={v}" for k, v in sorted(result.rejections.items()))
        line += f" rejected: {counted}"
    return line


def worst(result: RunResult, pages: Sequence[Page], count: int) -> list[str]:
    """The `count` pages with the lowest F1, each with its missed and extra sentences."""
    rows = sorted(range(len(pages)), key=lambda i: result.scores[i][2])[:count]
    lines = []
    for i in rows:
        p, r, f = result.scores[i]
        page = pages[i]
        lines.append(f"F1={f:.3f} P={p:.3f} R={r:.3f} {page.page_id[:12]} {page.url}")
        missed, extra = text_diff(result.predictions[i], page.truth)
        lines.extend(f"  - missed: {_clip(s)}" for s in missed)
        lines.extend(f"  + extra:  {_clip(s)}" for s in extra)
    return lines


def evaluate(folder: Path, show_worst: int = 0) -> tuple[RunResult, RunResult]:
    """Score the pipeline and the baseline on a folder; print both and the worst pages."""
    pages = load_dataset(folder)
    mine = score("extract_article", ours, pages)
    base = score("trafilatura.extract (baseline)", plain_trafilatura, pages)
    print(report(mine))
    print(report(base))
    delta = mine.totals[2] - base.totals[2]
    print(f"F1 difference extract_article - baseline: {delta:+.3f}")
    if show_worst:
        print(f"worst {show_worst} pages of extract_article (- missed, + extra):")
        for line in worst(mine, pages, show_worst):
            print(line)
    return mine, base


def run(args: argparse.Namespace) -> int:
    """Handle ``eval-extraction``: 0 when the dataset was scored, 2 on a bad folder."""
    folder = Path(args.dataset)
    if not (folder / "ground-truth.json").is_file() or not (folder / "html").is_dir():
        print(
            f"wirearchive: eval-extraction: {folder} has no ground-truth.json and html/ folder; "
            "point --dataset at a folder in the extraction-dev format",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.show_worst < 0:
        print("wirearchive: eval-extraction: --show-worst must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    evaluate(folder, args.show_worst)
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``eval-extraction`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "eval-extraction",
        help="score the extraction on a benchmark-format folder against plain trafilatura",
    )
    parser.add_argument(
        "--dataset", required=True, metavar="DIR", help="html/*.html.gz + ground-truth.json"
    )
    parser.add_argument(
        "--show-worst",
        type=int,
        default=0,
        metavar="N",
        help="print the N worst pages with missed and extra sentences",
    )
    parser.set_defaults(handler=run)
