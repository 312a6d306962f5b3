"""``wirearchive reextract``: re-run extraction from the archived raw records (no network)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from crawler.commands import options
from crawler.exits import EXIT_FAILED, EXIT_OK
from crawler.extensions.summary import new_run_id
from crawler.runner import locked_archive, selected
from crawler.sources import DEFAULT_CONFIG, load_config
from pipelines.archive.keys import encode_json, resolve_archive
from pipelines.archive.reextract import ReextractReport, article_keys_in, reextract
from pipelines.index.backends import open_index

# Without a terminal, one progress line every this many articles keeps logs short.
PROGRESS_EVERY = 50


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``reextract`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "reextract", help="re-run extraction from the archived raw records (no network)"
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (./sources.yaml)")
    parser.add_argument("--archive", help="archive URI: a folder or s3://bucket/prefix")
    parser.add_argument("--source", action="append", default=[], metavar="NAME")
    parser.add_argument("--since", metavar="DATE", help="first day (article key date), YYYY-MM-DD")
    parser.add_argument("--until", metavar="DATE", help="last day, YYYY-MM-DD")
    parser.add_argument("--summary", metavar="PATH", help="also write the report here (JSON)")
    options.add_index_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Re-extract archived articles from their raw records; never fetch. Print the report."""
    config = load_config(args.config)
    wanted = options.date_range(args)
    names = selected(config, args.source) if args.source else ()
    archive = resolve_archive(args.archive, config.archive)
    run_id = new_run_id()
    started = time.monotonic()
    redis_url = options.redis_flag(args) or config.redis
    with locked_archive(archive, run_id, redis_url) as store:
        index = open_index(store, redis_url, archive=archive, fetch=False)
        try:
            report = reextract(store, index, article_keys_in(store, names, wanted), _progress)
        finally:
            try:
                index.save(store)
            finally:
                index.close()
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    result = {"run_id": run_id, "archive": archive, **report.as_dict()}
    result["elapsed_seconds"] = round(time.monotonic() - started, 3)
    if args.summary:
        Path(args.summary).write_bytes(encode_json(result))
    print(
        f"wirearchive reextract {run_id}: {report.seen} articles read, {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.newly_rejected} newly rejected, "
        f"{report.now_duplicates} now duplicates, {report.unreadable} unreadable"
    )
    for key, reason in sorted(report.rejected.items()):
        print(f"  rejected now ({reason}): {key}")
    return EXIT_FAILED if report.unreadable else EXIT_OK


def _progress(report: ReextractReport) -> None:
    if report.seen % PROGRESS_EVERY == 0 or sys.stderr.isatty():
        end = "\r" if sys.stderr.isatty() else "\n"
        sys.stderr.write(
            f"reextract: {report.seen} read, {report.changed} changed, "
            f"{report.newly_rejected} newly rejected{end}"
        )
