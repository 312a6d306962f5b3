"""The benchmark's word-shingle metric."""

from __future__ import annotations

import pytest

from pipelines.extract.scoring import benchmark_f1, shingle_f1

TEXT = "one two three four five six"

CASES = [
    (TEXT, TEXT, (1.0, 1.0, 1.0)),
    ("", "", (1.0, 1.0, 1.0)),
    ("", TEXT, (0.0, 0.0, 0.0)),
    (TEXT, "", (0.0, 0.0, 0.0)),
    # Punctuation and spacing do not matter: tokens are \w+ runs.
    ("one, two -- three\nfour five six!", TEXT, (1.0, 1.0, 1.0)),
    # 3 shingles in truth; the prediction has 2 of them and nothing else.
    ("one two three four five", TEXT, (1.0, 2 / 3, 0.8)),
    # The prediction adds 2 shingles of boilerplate to the truth's 3.
    (TEXT + " seven eight", TEXT, (3 / 5, 1.0, 0.75)),
    # Shorter than n tokens: one shingle of all tokens.
    ("a b", "a b", (1.0, 1.0, 1.0)),
    # Multisets: a repeated shingle counts once per occurrence.
    ("a b c d a b c d", "a b c d", (0.2, 1.0, 1 / 3)),
]


@pytest.mark.parametrize(("pred", "truth", "expected"), CASES)
def test_shingle_f1(pred: str, truth: str, expected: tuple[float, float, float]) -> None:
    assert shingle_f1(pred, truth) == pytest.approx(expected)


def test_benchmark_f1_is_harmonic_mean_of_mean_precision_and_recall() -> None:
    precision, recall, f1 = benchmark_f1([(1.0, 0.5, 2 / 3), (0.5, 1.0, 2 / 3)])
    assert (precision, recall) == (0.75, 0.75)
    assert f1 == pytest.approx(0.75)
