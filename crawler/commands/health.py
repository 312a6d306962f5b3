"""``wirearchive health``: judge each source against its run history; exit 1 if one is failing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from crawler.commands.options import optional_config
from crawler.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from crawler.monitoring.health import format_health, health_json, judge_archive, unhealthy
from crawler.monitoring.history import open_archive
from crawler.sources import ConfigError
from pipelines.archive.keys import resolve_archive
from pipelines.archive.stores import StoreError
from pipelines.daterange import parse_time

EXIT_UNHEALTHY = EXIT_FAILED


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``health`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "health",
        help="judge each source against its run history; exit 1 if any is unhealthy",
    )
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--now", help=argparse.SUPPRESS)  # a fixed 'now' for tests and replays
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print each source's health: 0 when none is unhealthy, 1 when one is (or on an error)."""
    now = parse_time(args.now) if args.now else datetime.now(UTC)
    if now is None:
        print(f"wirearchive: health: --now {args.now!r} is not an ISO 8601 time", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = optional_config(args.config)
        archive = resolve_archive(args.archive, config.archive if config else None)
        health = judge_archive(open_archive(archive), list(config.sources) if config else None, now)
    except (ConfigError, StoreError) as err:
        print(f"wirearchive: health: {err}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(health_json(archive, now, health), indent=2))
    else:
        print(format_health(health) or "no sources configured or recorded")
    return EXIT_UNHEALTHY if unhealthy(health) else EXIT_OK
