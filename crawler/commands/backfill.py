"""``wirearchive backfill``: fill one source's history through the same pipeline."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

from crawler.commands import options
from crawler.exits import EXIT_OK, EXIT_USAGE, RunError
from crawler.monitoring.gaps import day_spans, gap_days
from crawler.monitoring.history import open_archive
from crawler.runner import RunRequest, project_settings, run_crawl
from crawler.sources import Config, ConfigError, Source, load_config
from pipelines.archive.keys import resolve_archive
from pipelines.archive.stores import StoreError

HISTORY_ARCHIVES = ("ccnews", "wayback")
# Where history is read: -s NAME=VALUE, else the environment variable, else the default.
ENDPOINT_SETTINGS = ("WIREARCHIVE_CCNEWS_URL", "WIREARCHIVE_WAYBACK_URL")


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
    parser.add_argument(
        "--from",
        dest="history",
        choices=HISTORY_ARCHIVES,
        help="read the source's history from Common Crawl News or the Wayback Machine, by "
        "capture date (needs --since and --until); the publisher is never requested",
    )
    parser.add_argument(
        "--gaps",
        action="store_true",
        help="with --from: fill only the days of --since..--until on which the source "
        "yielded far less than usual (see `wirearchive gaps`), one run a span of days",
    )
    options.add_distributed_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Fill one source's history: by date range, exactly the listed URLs, or the gap days."""
    wanted = options.date_range(args)
    since, until = wanted.since, wanted.until
    config = load_config(args.config)
    if args.gaps and not args.history:
        raise RunError("--gaps needs --from ccnews or --from wayback", EXIT_USAGE)
    if args.history:
        check_history(args, config, since is not None and until is not None)
    if args.gaps:
        assert since is not None and until is not None  # check_history made sure
        return fill_gaps(args, config, since, until)
    return run_range(args, config, since, until)


def fill_gaps(args: argparse.Namespace, config: Config, since: date, until: date) -> int:
    """Run the history backfill once for each span of gap days; stop at the first failure.

    Each span is a crawl of its own in a child process: a Twisted reactor runs once a
    process, so a second crawl in this one would fail with ReactorNotRestartable.
    """
    archive = resolve_archive(args.archive, config.archive)
    try:
        days = gap_days(open_archive(archive), args.source, since, until, now=datetime.now(UTC))
    except StoreError as err:
        raise RunError(f"cannot read the archive {archive} to find gaps: {err}") from err
    spans = day_spans(days)
    if not spans:
        print(f"backfill --gaps: no gap day of {args.source} in {since}..{until}; nothing to fill")
        return EXIT_OK
    for number, (first, last) in enumerate(spans, 1):
        print(
            f"backfill --gaps: {args.source} {first}..{last} from {args.history} "
            f"({number} of {len(spans)} spans)",
            file=sys.stderr,
            flush=True,
        )
        status = run_child(span_command(args, first, last))
        if status != EXIT_OK:
            # The span that failed is part filled at most: a rerun with --gaps finds it again.
            left = ", ".join(f"{a}..{b}" for a, b in spans[number - 1 :])
            print(
                f"backfill --gaps: {first}..{last} ended with status {status}; not filled "
                f"yet: {left} (run the same command again to fill them)",
                file=sys.stderr,
            )
            return status
    return EXIT_OK


def span_command(args: argparse.Namespace, first: date, last: date) -> list[str]:
    """Return the command line of one span's backfill: these options, that span's days."""
    argv = [sys.executable, "-m", "crawler", "backfill", "--source", args.source]
    argv += ["--from", args.history, "--since", first.isoformat(), "--until", last.isoformat()]
    argv += ["--config", args.config]
    for flag, value in (
        ("--archive", args.archive),
        ("--summary", args.summary),
        ("--workers", args.workers),
        ("--max-time", args.max_time),
        ("--redis", args.redis),
        ("--worker", args.worker),
    ):
        if value is not None:
            argv += [flag, str(value)]
    for assignment in args.settings:
        argv += ["-s", assignment]
    return [*argv, "-v"] if args.verbose else argv


def run_child(argv: list[str]) -> int:
    """Run one span's backfill and return its exit status (128 + N when killed by signal N).

    Ctrl-C reaches the child from the terminal (same process group) and stops its crawl
    gracefully, so it is ignored here meanwhile; a SIGTERM sent to this process alone is
    passed on, so the child stops as cleanly as a single run would.
    """
    child = subprocess.Popen(argv)
    handlers = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda sig, _frame: child.send_signal(sig)),
    }
    try:
        status = child.wait()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return 128 - status if status < 0 else status


def run_range(
    args: argparse.Namespace, config: Config, since: date | None, until: date | None
) -> int:
    """Run one backfill of the source over ``since..until``."""
    urls = options.read_urls(args.urls) if args.urls else []
    overrides = options.setting_overrides(args)
    if args.history:
        overrides = {**endpoints(overrides), **overrides, "WIREARCHIVE_HISTORY": args.history}
    elif not named_source(config, args.source).discoverable:
        raise RunError(
            f"source {args.source!r} declares only domains: backfill it with --from ccnews "
            "or --from wayback",
            EXIT_USAGE,
        )
    settings = {
        **overrides,
        "WIREARCHIVE_MODE": "backfill",
        "WIREARCHIVE_SINCE": since.isoformat() if since else None,
        "WIREARCHIVE_UNTIL": until.isoformat() if until else None,
        "WIREARCHIVE_URLS": urls,
    }
    return run_crawl(
        RunRequest(
            config=config,
            sources=[args.source],
            archive=args.archive,
            summary_path=args.summary,
            settings=settings,
            verbose=args.verbose,
            redis=options.redis_flag(args),
            worker=args.worker,
        )
    )


def check_history(args: argparse.Namespace, config: Config, bounded: bool) -> None:
    """Refuse a history backfill without both ends of its range, or with --urls."""
    if not bounded:
        raise RunError(f"--from {args.history} needs --since and --until", EXIT_USAGE)
    if args.urls:
        raise RunError(f"--from {args.history} and --urls exclude each other", EXIT_USAGE)
    source = named_source(config, args.source)
    if not source.hosts():
        raise RunError(
            f"source {args.source!r} has no host to look for: declare its domains", EXIT_USAGE
        )


def named_source(config: Config, name: str) -> Source:
    """Return the named source; an undeclared name is a usage error, as for any run."""
    try:
        return config.source(name)
    except ConfigError as err:
        raise RunError(str(err), EXIT_USAGE) from err


def endpoints(overrides: dict[str, Any]) -> dict[str, Any]:
    """Return the history endpoints from the environment, where -s did not set them."""
    defaults = project_settings()
    return {
        name: overrides.get(name) or os.environ.get(name) or defaults.get(name)
        for name in ENDPOINT_SETTINGS
    }
