"""``wirearchive cron``: print crontab lines (or systemd timers) for the scheduled sources."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from crawler.exits import EXIT_FAILED, EXIT_OK, fail
from crawler.scheduling.groups import group_sources
from crawler.scheduling.units import render_crontab, render_systemd, resolve_paths
from crawler.sources import DEFAULT_CONFIG, ConfigError, load_config


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``cron`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "cron", help="print crontab lines (or systemd timers) for the scheduled sources"
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="sources file (./sources.yaml)")
    parser.add_argument("--archive", help="archive URI (default: the config's, else ./archive)")
    parser.add_argument(
        "--log-dir", metavar="DIR", help="folder for logs and summaries (default: CONFIG_DIR/logs)"
    )
    parser.add_argument(
        "--systemd", action="store_true", help="print systemd service + timer units instead"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print crontab lines (or systemd units); 1 on a config error."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return fail(str(err), EXIT_FAILED)
    groups, unscheduled = group_sources(config.sources)
    paths = resolve_paths(config, args.archive, args.log_dir)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    render = render_systemd if args.systemd else render_crontab
    sys.stdout.write(render(groups, unscheduled, paths, now))
    return EXIT_OK
