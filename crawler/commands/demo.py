"""``wirearchive demo``: serve the bundled demo wire site on loopback and crawl it."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from crawler.exits import RunError
from crawler.runner import RunRequest, run_crawl
from crawler.sources import DEFAULT_CONFIG, load_config
from pipelines.archive.keys import resolve_archive

# On loopback there is no one to be polite to: start fast so the demo takes seconds.
DEMO_SETTINGS = {"AUTOTHROTTLE_START_DELAY": "0.05", "WIREARCHIVE_PROGRESS_INTERVAL": "2"}
# Fixed ports keep the demo's URLs, and so its article ids, the same from run to run.
DEMO_PORTS = {"wiredaily": 8361, "lahoreledger": 8362, "metroobserver": 8363}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command to the CLI's subparsers."""
    parser = commands.add_parser("demo", help="crawl the bundled demo wire site into ./archive")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
            config_path = Path(folder) / DEFAULT_CONFIG
            archive = Path(resolve_archive(None)).resolve()
            config_path.write_text(site.sources_yaml(str(archive)), encoding="utf-8")
            for name, server in site.servers.items():
                print(f"demo outlet {name:<16} {server.base_url}/")
            status = run_crawl(RunRequest(config=load_config(config_path), settings=DEMO_SETTINGS))
    finally:
        site.stop()
    # As the user ran it (`make demo` runs .venv/bin/wirearchive), so it can be pasted.
    program = sys.argv[0] if Path(sys.argv[0]).name == "wirearchive" else "python -m crawler"
    print(f"browse the demo archive: {program} serve --archive {archive}")
    return status
