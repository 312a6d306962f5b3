"""Score extract_article on the extraction dev set (Scrapinghub benchmark format).

Usage: python benchmarks/extraction_f1.py [DEV_SET_DIR] [WORST_N]
Prints mean precision/recall/F1 (shingle metric, see pipelines/extract/scoring.py), ms/page and the
same figures for plain trafilatura.extract() as a baseline, then the worst pages with what
was missed and what was extra. The scoring loop is crawler/commands/eval_extraction.py's (the
``wirearchive eval-extraction`` command).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.commands.eval_extraction import evaluate

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "tests/data/extraction-dev"


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    show_worst = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    evaluate(folder, show_worst)


if __name__ == "__main__":
    main()
