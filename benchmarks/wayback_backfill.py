"""Pages/s of a Wayback Machine backfill against the loopback CDX server of the tests.

Usage: python benchmarks/wayback_backfill.py [--pages N] [--delay SECONDS ...]

Serves N captures (the extraction dev set's pages, cycled under distinct URLs) from the
test Wayback server (tests/helpers/history_archives.py), runs ``wirearchive backfill
--from wayback`` into a fresh archive for each DOWNLOAD_DELAY given (1.0 is the default
politeness: one connection, a second between requests), and prints the run's pages/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.history_archives import WaybackServer
from tests.helpers.support import dev_pages, write_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--delay", type=float, nargs="+", default=[0.0, 1.0])
    args = parser.parse_args()
    pages = list(dev_pages().values())
    server = WaybackServer()
    server.captures = [
        (f"20261001{n // 60:02d}{n % 60:02d}00", f"http://times.example/news/{n}.html", page)
        for n, page in enumerate(pages[n % len(pages)] for n in range(args.pages))
    ]
    server.publish()
    with server.server.running(), tempfile.TemporaryDirectory() as folder:
        for delay in args.delay:
            run = Path(folder) / f"delay-{delay}"
            run.mkdir()
            config = write_config(
                run / "sources.yaml",
                [{"name": "times", "domains": ["times.example"]}],
                allow_private_addresses=True,
            )
            summary = run / "summary.json"
            command = [
                sys.executable, "-m", "crawler", "backfill", "--source", "times",
                "--from", "wayback", "--since", "2026-10-01", "--until", "2026-10-01",
                "--config", str(config), "--archive", str(run / "archive"),
                "--summary", str(summary), "-s", f"DOWNLOAD_DELAY={delay}",
                "-s", "AUTOTHROTTLE_START_DELAY=0",
            ]  # fmt: skip
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "WIREARCHIVE_WAYBACK_URL": server.server.base_url + "/",
            }
            subprocess.run(command, env=env, check=True, capture_output=True)
            result = json.loads(summary.read_text())
            print(
                f"DOWNLOAD_DELAY={delay}: {result['articles_archived']} of {args.pages} archived "
                f"in {result['elapsed_seconds']:.1f} s: {result['pages_per_second']:.2f} pages/s"
            )


if __name__ == "__main__":
    main()
