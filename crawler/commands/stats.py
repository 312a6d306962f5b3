"""``wirearchive stats``: what the archive holds, per source, as text, JSON or an HTML page."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler.commands.options import optional_config
from crawler.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from crawler.monitoring.history import open_archive
from crawler.monitoring.stats_collect import DEFAULT_DAYS, collect
from crawler.monitoring.stats_html import render_html
from crawler.monitoring.stats_text import format_text
from crawler.sources import ConfigError
from pipelines.archive.keys import resolve_archive
from pipelines.archive.stores import StoreError
from pipelines.daterange import parse_time


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``stats`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "stats", help="articles by day, duplicates, rejects and last runs per source"
    )
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--html", metavar="PATH", help="also write a static HTML report here")
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        metavar="N",
        help=f"the last N days by key date ({DEFAULT_DAYS}; 0 for all)",
    )
    parser.add_argument("--now", help=argparse.SUPPRESS)  # a fixed 'now' for tests and replays
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the report as text or JSON, and write the HTML page when asked."""
    if args.days < 0:
        print("wirearchive: stats: --days must be 0 (all) or more", file=sys.stderr)
        return EXIT_USAGE
    now = parse_time(args.now) if args.now else datetime.now(UTC)
    if now is None:
        print(f"wirearchive: stats: --now {args.now!r} is not an ISO 8601 time", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = optional_config(args.config)
        archive = resolve_archive(args.archive, config.archive if config else None)
        sources = [source.name for source in config.sources] if config else []
        report = collect(open_archive(archive), now, days=args.days, sources=sources)
    except (ConfigError, StoreError) as err:
        print(f"wirearchive: stats: {err}", file=sys.stderr)
        return EXIT_FAILED
    if args.html:
        try:
            Path(args.html).write_text(render_html(report), encoding="utf-8")
        except OSError as err:
            print(f"wirearchive: stats: cannot write {args.html}: {err}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(format_text(report))
        if args.html:
            print(f"HTML report: {Path(args.html).resolve()}")
    return EXIT_OK
