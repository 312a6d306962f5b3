"""Print the objects and bytes of a local archive by kind: the sizing figures of the docs.

Usage: python benchmarks/archive_size.py ARCHIVE_DIR
For example after ``wirearchive demo`` (run it in an empty folder: it writes ./archive).
"""

from __future__ import annotations

import sys
from pathlib import Path

KINDS = ("articles", "raw", "duplicates", "runs", "_state")


def main() -> None:
    root = Path(sys.argv[1])
    articles = sum(1 for _ in (root / "articles").rglob("*.json"))
    print(f"{'kind':<12} {'objects':>8} {'bytes':>12} {'bytes/object':>13} {'bytes/article':>14}")
    for kind in KINDS:
        sizes = [p.stat().st_size for p in (root / kind).rglob("*") if p.is_file()]
        total = sum(sizes)
        each = total // len(sizes) if sizes else 0
        per_article = total // articles if articles else 0
        print(f"{kind:<12} {len(sizes):>8} {total:>12} {each:>13} {per_article:>14}")


if __name__ == "__main__":
    main()
