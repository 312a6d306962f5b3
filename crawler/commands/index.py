"""``wirearchive index``: bring the search index up to date with the archive."""

from __future__ import annotations

import argparse
import sys
import time

from crawler.commands.options import sources_and_archive
from crawler.monitoring.history import open_archive
from crawler.sources import ConfigError
from pipelines.archive.stores import StoreError
from pipelines.search import SearchIndex, catch_up, search_path

EXIT_FAILED = 1


def run(args: argparse.Namespace) -> int:
    """Handle ``index``: index what the archive holds and the index lacks (all with --rebuild)."""
    started = time.monotonic()
    try:
        _sources, uri = sources_and_archive(args.config, args.archive)
        store = open_archive(uri)
        path = search_path(store)
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        index = SearchIndex(path)
        report = catch_up(store, index)
    except (ConfigError, StoreError) as err:
        print(f"wirearchive: index: {err}", file=sys.stderr)
        return EXIT_FAILED
    seconds = time.monotonic() - started
    print(
        f"search index {path}: {report.describe()} in {seconds:.1f}s; "
        f"it holds {len(index)} articles and {index.count_copies()} copies"
    )
    return EXIT_FAILED if report.unreadable else 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``index`` command to the CLI's subparsers."""
    parser = commands.add_parser("index", help="bring the search index up to date with the archive")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the search index and index everything again"
    )
    parser.set_defaults(handler=run)
