"""``wirearchive verify``: check the index against the archive, and repair it if asked."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crawler.commands import options
from crawler.exits import EXIT_FAILED, EXIT_OK
from crawler.extensions.summary import new_run_id
from crawler.runner import locked_archive
from crawler.sources import DEFAULT_CONFIG, Config, load_config
from pipelines.archive.keys import resolve_archive
from pipelines.archive.verify import VerifyReport, verify
from pipelines.index.backends import open_index

# Enough keys of each kind to see the pattern; --json lists them all.
SHOWN_KEYS = 20


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verify`` command to the CLI's subparsers."""
    parser = commands.add_parser("verify", help="check the index against the archive")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (./sources.yaml)")
    parser.add_argument("--archive", help="archive URI: a folder or s3://bucket/prefix")
    parser.add_argument("--repair", action="store_true", help="repair the index from the archive")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options.add_index_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the index against the archive (under the lock); repair the index if asked."""
    # With --archive the config is optional: verify needs no sources.
    if Path(args.config).exists() or args.archive is None:
        config = load_config(args.config)
    else:
        config = Config(path=args.config, sources=())
    archive = resolve_archive(args.archive, config.archive)
    redis_url = options.redis_flag(args) or config.redis
    with locked_archive(archive, new_run_id(), redis_url, repair=args.repair) as store:
        index = open_index(store, redis_url, archive=archive, repair=args.repair, fetch=False)
        try:
            report = verify(store, index, repair=args.repair)
            if args.repair:
                # A fresh base and manifest of the repaired index (S3): whatever state
                # objects were damaged or orphaned are replaced and swept.
                index.save(store, rebuild=True)
        finally:
            index.close()
    if args.json:
        print(json.dumps({"archive": archive, **report.as_dict()}, indent=2))
    else:
        _print_report(archive, report, repaired=args.repair)
    if report.unreadable or report.temp_objects:
        return EXIT_FAILED
    return EXIT_OK if args.repair or report.clean else EXIT_FAILED


def _print_report(archive: str, report: VerifyReport, *, repaired: bool) -> None:
    print(
        f"wirearchive verify {archive}: {report.articles} articles, {report.duplicates} "
        f"duplicates; {len(report.unindexed)} not indexed, {len(report.missing_objects)} "
        f"indexed but missing, {len(report.unreadable)} unreadable, "
        f"{len(report.temp_objects)} temporary objects" + (" (index repaired)" if repaired else "")
    )
    for label, keys in (
        ("not indexed", report.unindexed),
        ("missing", report.missing_objects),
        ("temporary", report.temp_objects),
    ):
        for key in keys[:SHOWN_KEYS]:
            print(f"  {label}: {key}")
    for key, why in list(report.unreadable.items())[:SHOWN_KEYS]:
        print(f"  unreadable: {key}: {why}")
