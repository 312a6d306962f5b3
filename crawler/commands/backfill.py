"""``wirearchive backfill``: fill one source's history through the same pipeline."""

from __future__ import annotations

import argparse

from crawler.commands import options
from crawler.runner import RunRequest, run_crawl
from crawler.sources import load_config


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``backfill`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "backfill", help="fill the archive with one source's history through the same pipeline"
    )
    options.add_crawl_options(parser)
    parser.add_argument("--source", required=True, metavar="NAME", help="the source to fill")
    parser.add_argument("--since", metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--until", metavar="DATE", help="last day, YYYY-MM-DD (UTC)")
    parser.add_argument(
        "--urls", metavar="FILE", help="fetch exactly these URLs (one a line; - for stdin)"
    )
    options.add_distributed_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Fill one source's history: by date range, or exactly the listed URLs."""
    wanted = options.date_range(args)
    since, until = wanted.since, wanted.until
    urls = options.read_urls(args.urls) if args.urls else []
    settings = {
        **options.setting_overrides(args),
        "WIREARCHIVE_MODE": "backfill",
        "WIREARCHIVE_SINCE": since.isoformat() if since else None,
        "WIREARCHIVE_UNTIL": until.isoformat() if until else None,
        "WIREARCHIVE_URLS": urls,
    }
    return run_crawl(
        RunRequest(
            config=load_config(args.config),
            sources=[args.source],
            archive=args.archive,
            summary_path=args.summary,
            settings=settings,
            verbose=args.verbose,
            redis=options.redis_flag(args),
            worker=args.worker,
        )
    )
