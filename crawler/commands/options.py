"""Options several commands share, and the readers of their values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler.exits import EXIT_USAGE, RunError
from crawler.sources import DEFAULT_CONFIG, Config, Source, check_redis_url, load_config
from pipelines.archive.keys import resolve_archive
from pipelines.daterange import DateRange, DateRangeError, parse_day
from pipelines.urls import is_web_url


def add_crawl_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of every command that runs a crawl (crawl, backfill)."""
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (./sources.yaml)")
    parser.add_argument("--archive", help="archive URI: a folder or s3://bucket/prefix")
    parser.add_argument("--summary", metavar="PATH", help="also write the run summary here")
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy or wirearchive setting (repeatable)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="extraction processes (default: one per core; 0: one thread in the crawl process)",
    )
    parser.add_argument(
        "--max-time",
        type=float,
        metavar="SECONDS",
        help="once the run has lasted this long, stop gracefully as on SIGTERM",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")


def add_distributed_options(parser: argparse.ArgumentParser) -> None:
    """Add --redis and --worker, the options of distributed mode."""
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="distributed mode: share the index, the queue of article pages and the source "
        "leases in this Redis (redis://HOST:PORT/DB; default: the config's redis:)",
    )
    parser.add_argument(
        "--worker", metavar="NAME", help="this worker's name in distributed mode (host:pid)"
    )


def parse_setting(assignment: str) -> tuple[str, Any]:
    """Parse ``NAME=VALUE`` from ``-s``; the value stays a string, as with ``scrapy -s``."""
    name, sep, value = assignment.partition("=")
    if not sep or not name.strip():
        raise RunError(f"invalid -s {assignment!r}: expected NAME=VALUE", EXIT_USAGE)
    return name.strip(), value


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Return the settings a crawl command's -s and --workers flags override."""
    settings: dict[str, Any] = dict(parse_setting(assignment) for assignment in args.settings)
    if args.workers is not None:
        if args.workers < 0:
            raise RunError("--workers must be 0 or more", EXIT_USAGE)
        settings["WIREARCHIVE_WORKERS"] = args.workers
    if args.max_time is not None:
        if args.max_time <= 0:
            raise RunError("--max-time must be more than 0 seconds", EXIT_USAGE)
        settings["WIREARCHIVE_MAX_TIME"] = args.max_time
    return settings


def add_index_option(parser: argparse.ArgumentParser) -> None:
    """Add --redis: the archive's index is the shared one of distributed mode."""
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="the index is the shared one in this Redis (redis://HOST:PORT/DB; default: the "
        "config's redis:, else the archive's SQLite index); stop the workers first",
    )


def redis_flag(args: argparse.Namespace) -> str | None:
    """Return the --redis URL, checked; a malformed one is a usage error."""
    if args.redis:
        try:
            check_redis_url(args.redis)
        except ValueError as err:
            raise RunError(f"--redis: {err}", EXIT_USAGE) from err
    return str(args.redis) if args.redis else None


def date_range(args: argparse.Namespace) -> DateRange:
    """Return the --since/--until range of a command; a bad value is a usage error."""
    try:
        since = parse_day(args.since, "--since") if args.since else None
        until = parse_day(args.until, "--until") if args.until else None
        return DateRange(since, until)
    except DateRangeError as err:
        raise RunError(str(err), EXIT_USAGE) from err


def read_urls(name: str) -> list[str]:
    """Read a --urls file (or standard input): one URL a line, blanks and # comments skipped."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as err:
        raise RunError(f"cannot read --urls {name}: {err.strerror}", EXIT_USAGE) from err
    urls = []
    for number, line in enumerate(text.splitlines(), 1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        if not is_web_url(url):
            raise RunError(
                f"--urls {name} line {number}: {url!r} is not an http(s) URL", EXIT_USAGE
            )
        urls.append(url)
    if not urls:
        raise RunError(f"--urls {name} lists no URL", EXIT_USAGE)
    return urls


def optional_config(path: str | None) -> Config | None:
    """Load --config, else ./sources.yaml when present; None when neither is there."""
    # health and stats read an archive: they need no config, only its sources when given.
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    return load_config(path) if path is not None else None


def sources_and_archive(
    config_path: str | None, archive_flag: str | None
) -> tuple[list[Source] | None, str]:
    """Return the optional config's sources (None without one) and the archive URI."""
    config = optional_config(config_path)
    configured = config.archive if config is not None else None
    return (list(config.sources) if config is not None else None), resolve_archive(
        archive_flag, configured
    )
