"""``wirearchive crawl``: crawl all (or the named) sources once, incrementally."""

from __future__ import annotations

import argparse

from crawler.commands import options
from crawler.exits import EXIT_USAGE, RunError
from crawler.runner import RunRequest, run_crawl
from crawler.sources import load_config


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``crawl`` command to the CLI's subparsers."""
    parser = commands.add_parser("crawl", help="crawl all (or the named) sources once")
    options.add_crawl_options(parser)
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="crawl only this source (repeatable)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=0,
        metavar="N",
        help="request at most N new article pages in this run, shared fairly between sources",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="re-fetch archived articles; a changed text is stored as a new version",
    )
    options.add_distributed_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Crawl the configured sources once."""
    if args.limit < 0:
        raise RunError("--limit must be 0 or more", EXIT_USAGE)
    redis_url = options.redis_flag(args)
    return run_crawl(
        RunRequest(
            config=load_config(args.config),
            sources=args.source,
            archive=args.archive,
            limit=args.limit,
            summary_path=args.summary,
            settings=options.setting_overrides(args),
            verbose=args.verbose,
            refresh=args.refresh,
            redis=redis_url,
            worker=args.worker,
        )
    )
