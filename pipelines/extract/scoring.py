"""Score extracted text against a reference body, as the Scrapinghub benchmark does.

The metric (github.com/scrapinghub/article-extraction-benchmark, evaluate.py): split both
texts into `\\w+` tokens, take every run of n tokens (a "shingle", n = 4), and compare the
two multisets of shingles. A text shorter than n tokens is one shingle of all its tokens.
Scripts written without spaces (CJK, Thai) are tokenised per character (see scripts.py),
as the multilingual set's README asks: `\\w+` would make a whole clause one token.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

from pipelines.extract.scripts import UNIT


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Return the multiset of n-token shingles of a text."""
    tokens = UNIT.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def shingle_f1(pred: str, truth: str, n: int = 4) -> tuple[float, float, float]:
    """Return (precision, recall, F1) of pred against truth on shingle multisets.

    Both empty is a perfect score; an empty prediction of a non-empty truth scores 0.
    """
    pred_sh, true_sh = shingles(pred, n), shingles(truth, n)
    if not pred_sh and not true_sh:
        return 1.0, 1.0, 1.0
    tp = sum((pred_sh & true_sh).values())
    if tp == 0:
        return 0.0, 0.0, 0.0
    precision = tp / sum(pred_sh.values())
    recall = tp / sum(true_sh.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def benchmark_f1(scores: Iterable[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Return (mean P, mean R, F1 of those means): the figure the benchmark publishes.

    The benchmark takes the harmonic mean of the averaged precision and recall, which is a
    little higher than the mean of per-page F1s when a few pages are bad.
    """
    rows = list(scores)
    precision = statistics.fmean(p for p, _, _ in rows)
    recall = statistics.fmean(r for _, r, _ in rows)
    total = precision + recall
    return precision, recall, (2 * precision * recall / total if total else 0.0)
