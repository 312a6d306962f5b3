"""The ``wirearchive`` command line: the one composition root."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler import __version__
from crawler.commands import eval_extraction as evaluate
from crawler.commands import export as export_command
from crawler.commands import index as index_command
from crawler.commands import serve as serve_command
from crawler.monitoring import health
from crawler.monitoring import stats as report
from crawler.runner import (
    EXIT_FAILED,
    EXIT_USAGE,
    RunError,
    RunRequest,
    fail,
    parse_setting,
    run_crawl,
    run_reextract,
    run_verify,
)
from crawler.scheduling import cron as schedule
from crawler.sources import Config, ConfigError, check_redis_url, load_config
from pipelines.daterange import DateRange, DateRangeError, parse_day

DEFAULT_CONFIG = "sources.yaml"
DEMO_ARCHIVE = "./archive"
# On loopback there is no one to be polite to: start fast so the demo takes seconds.
DEMO_SETTINGS = {"AUTOTHROTTLE_START_DELAY": "0.05", "WIREARCHIVE_PROGRESS_INTERVAL": "2"}
# Fixed ports keep the demo's URLs, and so its article ids, the same from run to run.
DEMO_PORTS = {"wiredaily": 8361, "lahoreledger": 8362, "metroobserver": 8363}


def _add_crawl_options(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="wirearchive", description="Archive wire-service news from the sources you declare."
    )
    parser.add_argument("--version", action="version", version=f"wirearchive {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    crawl = commands.add_parser("crawl", help="crawl all (or the named) sources once")
    _add_crawl_options(crawl)
    crawl.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="crawl only this source (repeatable)",
    )
    crawl.add_argument(
        "--limit",
        type=int,
        default=0,
        metavar="N",
        help="request at most N new article pages in this run",
    )
    crawl.add_argument(
        "--refresh",
        action="store_true",
        help="re-fetch archived articles; a changed text is stored as a new version",
    )
    _add_distributed_options(crawl)

    backfill = commands.add_parser(
        "backfill", help="fill the archive with one source's history through the same pipeline"
    )
    _add_crawl_options(backfill)
    backfill.add_argument("--source", required=True, metavar="NAME", help="the source to fill")
    backfill.add_argument("--since", metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    backfill.add_argument("--until", metavar="DATE", help="last day, YYYY-MM-DD (UTC)")
    backfill.add_argument(
        "--urls", metavar="FILE", help="fetch exactly these URLs (one a line; - for stdin)"
    )
    _add_distributed_options(backfill)

    again = commands.add_parser(
        "reextract", help="re-run extraction from the archived raw records (no network)"
    )
    again.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (./sources.yaml)")
    again.add_argument("--archive", help="archive URI: a folder or s3://bucket/prefix")
    again.add_argument("--source", action="append", default=[], metavar="NAME")
    again.add_argument("--since", metavar="DATE", help="first day (article key date), YYYY-MM-DD")
    again.add_argument("--until", metavar="DATE", help="last day, YYYY-MM-DD")
    again.add_argument("--summary", metavar="PATH", help="also write the report here (JSON)")

    check = commands.add_parser("verify", help="check the index against the archive")
    check.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (./sources.yaml)")
    check.add_argument("--archive", help="archive URI: a folder or s3://bucket/prefix")
    check.add_argument("--repair", action="store_true", help="repair the index from the archive")
    check.add_argument("--json", action="store_true", help="print one JSON object")

    sources = commands.add_parser("sources", help="validate the config and list sources")
    sources.add_argument("--config", default=DEFAULT_CONFIG)

    commands.add_parser("demo", help="crawl the bundled demo wire site into ./archive")
    evaluate.add_parser(commands)
    schedule.add_parser(commands)
    health.add_parser(commands)
    report.add_parser(commands)
    for command in (serve_command, index_command, export_command):
        command.add_parser(commands)
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = dict(parse_setting(assignment) for assignment in args.settings)
    if args.workers is not None:
        if args.workers < 0:
            raise RunError("--workers must be 0 or more", EXIT_USAGE)
        settings["WIREARCHIVE_WORKERS"] = args.workers
    return settings


def _add_distributed_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--redis",
        metavar="URL",
        help="distributed mode: share the index, the queue of article pages and the source "
        "leases in this Redis (redis://HOST:PORT/DB; default: the config's redis:)",
    )
    command.add_argument(
        "--worker", metavar="NAME", help="this worker's name in distributed mode (host:pid)"
    )


def _redis_flag(args: argparse.Namespace) -> str | None:
    if args.redis:
        try:
            check_redis_url(args.redis)
        except ValueError as err:
            raise RunError(f"--redis: {err}", EXIT_USAGE) from err
    return str(args.redis) if args.redis else None


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl the configured sources once."""
    if args.limit < 0:
        raise RunError("--limit must be 0 or more", EXIT_USAGE)
    redis_url = _redis_flag(args)
    return run_crawl(
        RunRequest(
            config=load_config(args.config),
            sources=args.source,
            archive=args.archive,
            limit=args.limit,
            summary_path=args.summary,
            settings=_settings(args),
            verbose=args.verbose,
            refresh=args.refresh,
            redis=redis_url,
            worker=args.worker,
        )
    )


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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RunError(
                f"--urls {name} line {number}: {url!r} is not an http(s) URL", EXIT_USAGE
            )
        urls.append(url)
    if not urls:
        raise RunError(f"--urls {name} lists no URL", EXIT_USAGE)
    return urls


def date_range(args: argparse.Namespace) -> DateRange:
    """Return the --since/--until range of a command; a bad value is a usage error."""
    try:
        since = parse_day(args.since, "--since") if args.since else None
        until = parse_day(args.until, "--until") if args.until else None
        return DateRange(since, until)
    except DateRangeError as err:
        raise RunError(str(err), EXIT_USAGE) from err


def cmd_reextract(args: argparse.Namespace) -> int:
    """Re-extract archived articles from their raw records."""
    return run_reextract(
        load_config(args.config), args.archive, args.source, date_range(args), args.summary
    )


def cmd_verify(args: argparse.Namespace) -> int:
    """Check (and repair) the index against the archive."""
    config = (
        load_config(args.config) if Path(args.config).exists() or args.archive is None else None
    )
    if config is None:
        config = Config(path=args.config, sources=())
    return run_verify(config, args.archive, repair=args.repair, as_json=args.json)


def cmd_backfill(args: argparse.Namespace) -> int:
    """Fill one source's history: by date range, or exactly the listed URLs."""
    wanted = date_range(args)
    since, until = wanted.since, wanted.until
    urls = read_urls(args.urls) if args.urls else []
    settings = {
        **_settings(args),
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
            redis=_redis_flag(args),
            worker=args.worker,
        )
    )


def cmd_sources(args: argparse.Namespace) -> int:
    """Validate the config and list its sources."""
    config = load_config(args.config)
    print(f"{config.path}: {len(config.sources)} sources, archive {config.archive or 'default'}")
    for source in config.sources:
        parts = [
            f"{len(source.feeds)} feeds",
            f"{len(source.sitemaps)} sitemaps",
            f"{len(source.start_urls)} listing pages",
        ]
        if source.schedule:
            parts.append(f"schedule {source.schedule!r}")
        print(f"  {source.name:<24} {', '.join(parts)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled demo site on loopback and crawl it into ./archive."""
    from crawler.demo import start_demo_site  # noqa: PLC0415  (only the demo needs it)

    try:
        site = start_demo_site(DEMO_PORTS)
    except OSError as err:
        raise RunError(
            f"cannot serve the demo site on 127.0.0.1 ports {sorted(DEMO_PORTS.values())}: "
            f"{err.strerror}; stop whatever uses them and run again"
        ) from err
    try:
        with tempfile.TemporaryDirectory(prefix="wirearchive-demo-") as folder:
            config_path = Path(folder) / "sources.yaml"
            config_path.write_text(
                site.sources_yaml(str(Path(DEMO_ARCHIVE).resolve())), encoding="utf-8"
            )
            for name, server in site.servers.items():
                print(f"demo outlet {name:<16} {server.base_url}/")
            status = run_crawl(RunRequest(config=load_config(config_path), settings=DEMO_SETTINGS))
    finally:
        site.stop()
    # As the user ran it (`make demo` runs .venv/bin/wirearchive), so it can be pasted.
    program = sys.argv[0] if Path(sys.argv[0]).name == "wirearchive" else "python -m crawler"
    print(f"browse the demo archive: {program} serve --archive {Path(DEMO_ARCHIVE).resolve()}")
    return status


COMMANDS = {
    "crawl": cmd_crawl,
    "backfill": cmd_backfill,
    "reextract": cmd_reextract,
    "verify": cmd_verify,
    "sources": cmd_sources,
    "demo": cmd_demo,
    "eval-extraction": evaluate.run,
    "cron": schedule.run,
    "health": health.run,
    "stats": report.run,
    "serve": serve_command.run,
    "index": index_command.run,
    "export": export_command.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as err:
        return fail(str(err), EXIT_FAILED)
    except RunError as err:
        return fail(str(err), err.exit_status)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_FAILED)
