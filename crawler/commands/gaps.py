"""``wirearchive gaps``: the days on which a source yielded far less than it usually does."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from crawler.commands.options import date_range, optional_config
from crawler.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from crawler.monitoring.gaps import Coverage, source_coverage
from crawler.monitoring.history import open_archive
from crawler.sources import ConfigError
from pipelines.archive.keys import resolve_archive
from pipelines.archive.stores import StoreError
from pipelines.daterange import parse_time


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``gaps`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "gaps", help="days on which a source yielded far less than it usually does"
    )
    parser.add_argument("--source", required=True, metavar="NAME", help="the source to judge")
    parser.add_argument("--since", metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument(
        "--until", metavar="DATE", help="last day, YYYY-MM-DD (UTC; default and latest: yesterday)"
    )
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # a fixed 'now' for tests and replays
    parser.set_defaults(handler=run)


def format_coverage(coverage: Coverage) -> str:
    """Return the gaps as text: one line a gap day, after a line that says what was judged."""
    gaps = coverage.gaps
    lines = [
        f"{coverage.source}: {len(gaps)} gap day{'' if len(gaps) == 1 else 's'} in "
        f"{coverage.since}..{coverage.until} ({coverage.days_judged} days; a gap yields less "
        f"than {coverage.rule.fraction:.0%} of the source's usual count for that weekday)"
    ]
    lines += [
        f"  {gap.day}  {gap.day:%a}  {gap.count:>6} articles  usually {gap.usual:g}" for gap in gaps
    ]
    if gaps:
        lines.append(
            f"fill them: wirearchive backfill --source {coverage.source} --from ccnews "
            f"--since {coverage.since} --until {coverage.until} --gaps"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the source's gap days; exit 0 whether or not there are any."""
    wanted = date_range(args)
    now = parse_time(args.now) if args.now else datetime.now(UTC)
    if now is None:
        print(f"wirearchive: gaps: --now {args.now!r} is not an ISO 8601 time", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = optional_config(args.config)
        if config is not None and args.source not in {s.name for s in config.sources}:
            known = ", ".join(s.name for s in config.sources) or "none"
            print(
                f"wirearchive: gaps: no source named {args.source!r} in {config.path} "
                f"(its sources: {known})",
                file=sys.stderr,
            )
            return EXIT_USAGE
        archive = resolve_archive(args.archive, config.archive if config else None)
        coverage = source_coverage(
            open_archive(archive), args.source, wanted.since, wanted.until, now=now
        )
    except (ConfigError, StoreError) as err:
        print(f"wirearchive: gaps: {err}", file=sys.stderr)
        return EXIT_FAILED
    if coverage.until < coverage.since:
        print(
            f"wirearchive: gaps: nothing to judge: {coverage.since}..{coverage.until} "
            "(days are judged once over, up to yesterday in UTC)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"archive": archive, **coverage.to_json()}, indent=2))
    else:
        print(format_coverage(coverage))
    return EXIT_OK
