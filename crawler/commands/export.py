"""``wirearchive export``: the archive as a dataset, one row per archived article."""

from __future__ import annotations

import argparse
import sys

from crawler.commands.options import sources_and_archive
from crawler.monitoring.history import open_archive
from crawler.sources import ConfigError
from pipelines.archive.stores import StoreError
from pipelines.daterange import DateRangeError, parse_day
from pipelines.export import Selection, export_archive
from pipelines.export.export import FORMATS, ExportError
from pipelines.search import SearchIndex, catch_up
from pipelines.search.query import Filters

EXIT_FAILED = 1
EXIT_USAGE = 2


def _selection(args: argparse.Namespace) -> Selection:
    since = parse_day(args.since, "--since") if args.since else None
    until = parse_day(args.until, "--until") if args.until else None
    if since and until and since > until:
        raise DateRangeError(f"--since {since} is after --until {until}")
    return Selection(Filters(sources=tuple(args.source), since=since, until=until), args.after)


def run(args: argparse.Namespace) -> int:
    """Handle ``export``: catch the index up, then write the selected rows."""
    try:
        selection = _selection(args)
    except DateRangeError as err:
        print(f"wirearchive: export: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "parquet" and "-" in (args.out, args.duplicates):
        print("wirearchive: export: Parquet needs a file, not -", file=sys.stderr)
        return EXIT_USAGE
    try:
        _sources, uri = sources_and_archive(args.config, args.archive)
        store = open_archive(uri)
        index = SearchIndex.for_store(store)
        catch_up(store, index)
        report = export_archive(
            store,
            index,
            fmt=args.format,
            out=args.out,
            selection=selection,
            duplicates_out=args.duplicates,
        )
    except (ConfigError, StoreError, ExportError, OSError) as err:
        print(f"wirearchive: export: {err}", file=sys.stderr)
        return EXIT_FAILED
    # Standard output may carry the rows: the account goes to standard error.
    print(f"wirearchive: export: {report.describe()} to {args.out}", file=sys.stderr)
    return EXIT_FAILED if report.missing else 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``export`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "export", help="one row per archived article (the latest version of each)"
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="jsonl or parquet")
    parser.add_argument(
        "--out", required=True, metavar="PATH", help="the file to write (jsonl: - for stdout)"
    )
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="only this source (repeatable)",
    )
    parser.add_argument("--since", metavar="DATE", help="first day (article date), YYYY-MM-DD")
    parser.add_argument("--until", metavar="DATE", help="last day (article date), YYYY-MM-DD")
    parser.add_argument(
        "--after",
        metavar="RUN_ID",
        help="only articles fetched after that run finished (incremental exports; a history "
        "backfill's articles carry their capture time: select those by date)",
    )
    parser.add_argument(
        "--duplicates",
        metavar="PATH",
        help="also write the duplicate records (same format and selection, by fetch day)",
    )
    parser.set_defaults(handler=run)
