"""``wirearchive sources``: validate the config and list its sources."""

from __future__ import annotations

import argparse

from crawler.sources import DEFAULT_CONFIG, load_config


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sources`` command to the CLI's subparsers."""
    parser = commands.add_parser("sources", help="validate the config and list sources")
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
