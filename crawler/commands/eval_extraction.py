"""``wirearchive eval-extraction``: score extract_article on labelled benchmark-format sets.

Each folder holds ``html/{id}.html.gz`` and ``ground-truth.json`` (the Scrapinghub
article-extraction benchmark format; a page may name its ``lang``). Each set is reported on
its own, overall and per language group, next to plain ``trafilatura.extract`` in the same
run, with the cost ratio of the two. The scoring lives in pipelines/extract/evaluation.py;
``benchmarks/extraction_f1.py`` calls into it too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.exits import EXIT_OK, EXIT_USAGE
from pipelines.extract.evaluation import evaluate, text_diff

__all__ = ["add_parser", "evaluate", "run", "text_diff"]


def run(args: argparse.Namespace) -> int:
    """Handle ``eval-extraction``: 0 when every set was scored, 2 on a bad folder."""
    folders = [Path(f) for f in [*args.folders, *(args.dataset or [])]]
    if not folders:
        print("wirearchive: eval-extraction: name at least one set folder", file=sys.stderr)
        return EXIT_USAGE
    for folder in folders:
        if not (folder / "ground-truth.json").is_file() or not (folder / "html").is_dir():
            print(
                f"wirearchive: eval-extraction: {folder} has no ground-truth.json and html/"
                " folder; point it at a folder in the extraction-dev format",
                file=sys.stderr,
            )
            return EXIT_USAGE
    if args.show_worst < 0:
        print("wirearchive: eval-extraction: --show-worst must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    for folder in folders:
        print(f"== {folder.name} ==")
        evaluate(folder, args.show_worst)
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``eval-extraction`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "eval-extraction",
        help="score the extraction on benchmark-format folders against plain trafilatura",
    )
    parser.add_argument(
        "folders", nargs="*", metavar="DIR", help="html/*.html.gz + ground-truth.json"
    )
    parser.add_argument(
        "--dataset", action="append", metavar="DIR", help="a set folder (may be repeated)"
    )
    parser.add_argument(
        "--show-worst",
        type=int,
        default=0,
        metavar="N",
        help="print the N worst pages with missed and extra sentences",
    )
    parser.set_defaults(handler=run)
