"""The ``wirearchive`` command line: the one composition root."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from crawler import __version__
from crawler.commands import (
    backfill,
    crawl,
    cron,
    demo,
    eval_extraction,
    export,
    gaps,
    health,
    index,
    reextract,
    serve,
    sources,
    stats,
    verify,
)
from crawler.exits import EXIT_FAILED, RunError, fail
from crawler.sources import ConfigError

# Each command module adds its subparser, with its ``run`` as the handler; help lists them
# in this order.
COMMANDS = (
    crawl,
    backfill,
    reextract,
    verify,
    sources,
    demo,
    eval_extraction,
    cron,
    health,
    gaps,
    stats,
    serve,
    index,
    export,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="wirearchive", description="Archive wire-service news from the sources you declare."
    )
    parser.add_argument("--version", action="version", version=f"wirearchive {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except ConfigError as err:
        return fail(str(err), EXIT_FAILED)
    except RunError as err:
        return fail(str(err), err.exit_status)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_FAILED)
    return status
