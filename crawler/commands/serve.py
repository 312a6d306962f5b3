"""``wirearchive serve``: the read-only web app and JSON API over a local or S3 archive."""

from __future__ import annotations

import argparse
import sys

from crawler.commands.options import sources_and_archive
from crawler.monitoring.history import open_archive
from crawler.serve.server import DEFAULT_HOST, DEFAULT_PORT, open_reader, serve
from crawler.sources import ConfigError
from pipelines.archive.stores import StoreError

EXIT_FAILED = 1
EXIT_USAGE = 2
HIGHEST_PORT = 65535


def run(args: argparse.Namespace) -> int:
    """Handle ``serve``: catch the search index up, then serve until interrupted."""
    if not 1 <= args.port <= HIGHEST_PORT:
        print(f"wirearchive: serve: --port {args.port} is not a TCP port", file=sys.stderr)
        return EXIT_USAGE
    try:
        sources, uri = sources_and_archive(args.config, args.archive)
        reader = open_reader(open_archive(uri), sources)
    except (ConfigError, StoreError) as err:
        print(f"wirearchive: serve: {err}", file=sys.stderr)
        return EXIT_FAILED
    try:
        serve(reader, args.host, args.port)
    except OSError as err:
        print(
            f"wirearchive: serve: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr
        )
        return EXIT_FAILED
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``serve`` command to the CLI's subparsers."""
    parser = commands.add_parser("serve", help="read-only web app and JSON API over the archive")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument("--config", help="sources file (default ./sources.yaml when present)")
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on ({DEFAULT_PORT})"
    )
    parser.set_defaults(handler=run)
