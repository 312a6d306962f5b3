"""The ``wirearchive`` command line: the one composition root.

Only the command asked for is imported: each command module pulls in what it runs (Scrapy
and Twisted for a crawl, uvicorn for serve, trafilatura for eval-extraction), and importing
all of them cost every invocation about a second before it did anything.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from crawler import __version__
from crawler.exits import EXIT_FAILED, RunError, fail

# Command name -> its module under crawler.commands (``add_parser`` and ``run``); help
# lists them in this order.
COMMANDS: dict[str, str] = {
    "crawl": "crawl",
    "backfill": "backfill",
    "reextract": "reextract",
    "verify": "verify",
    "sources": "sources",
    "demo": "demo",
    "eval-extraction": "eval_extraction",
    "cron": "cron",
    "health": "health",
    "gaps": "gaps",
    "stats": "stats",
    "serve": "serve",
    "index": "index",
    "export": "export",
}
_HELP = frozenset({"-h", "--help"})


def command_module(name: str) -> ModuleType:
    """Import the module of one command."""
    return importlib.import_module(f"crawler.commands.{COMMANDS[name]}")


def modules_for(argv: Sequence[str]) -> list[str]:
    """The commands a command line needs parsers for.

    The named command alone; every command for the top-level help or an unknown name
    (argparse then lists the choices); none for ``--version`` or an empty line.
    """
    at = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), len(argv))
    if _HELP & set(argv[:at]):
        return list(COMMANDS)
    if at < len(argv):
        return [argv[at]] if argv[at] in COMMANDS else list(COMMANDS)
    return []


def build_parser(names: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of the named commands (default: every command)."""
    parser = argparse.ArgumentParser(
        prog="wirearchive", description="Archive wire-service news from the sources you declare."
    )
    parser.add_argument("--version", action="version", version=f"wirearchive {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if names is None else names:
        command_module(name).add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command and return its exit status."""
    line = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(modules_for(line)).parse_args(line)
    # After parsing: --version and --help need neither pydantic nor YAML.
    from crawler.sources import ConfigError  # noqa: PLC0415

    try:
        status: int = args.handler(args)
    except ConfigError as err:
        return fail(str(err), EXIT_FAILED)
    except RunError as err:
        return fail(str(err), err.exit_status)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_FAILED)
    return status
