"""The command line imports only the command it runs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from crawler.cli import COMMANDS, build_parser, modules_for
from tests.helpers.support import CLI_TIMEOUT, ROOT

# What no command but its own should pay for at start-up.
HEAVY = ("scrapy", "twisted", "trafilatura", "boto3", "uvicorn", "numpy", "redis")


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["sources", "--config", "x.yaml"], ["sources"]),
        (["eval-extraction", "tests/data/extraction-dev"], ["eval-extraction"]),
        (["crawl", "--source", "a"], ["crawl"]),
        (["--version"], []),
        ([], []),
        (["--help"], list(COMMANDS)),
        (["-h"], list(COMMANDS)),
        (["-h", "crawl"], list(COMMANDS)),  # the top-level help lists every command
        (["crawl", "-h"], ["crawl"]),
        (["crawll"], list(COMMANDS)),  # a typo: argparse lists every choice
    ],
)
def test_modules_for(argv: list[str], names: list[str]) -> None:
    assert modules_for(argv) == names


def test_every_command_registers_the_name_it_is_listed_under() -> None:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    assert list(actions[0].choices) == list(COMMANDS)


def _loaded_by(probe: str) -> list[str]:
    """Run a probe in a fresh interpreter; return the module names it prints as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize("argv", [["--version"], ["sources", "--config", "x.yaml"]])
def test_light_commands_import_no_heavy_library(argv: list[str]) -> None:
    probe = (
        "import json, sys\n"
        "from crawler.cli import build_parser, modules_for\n"
        f"build_parser(modules_for({argv!r}))\n"
        "import crawler.sources\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    assert _loaded_by(probe) == []


def test_a_crawl_process_loads_no_extraction_rules() -> None:
    # The crawl's own process never extracts (its worker processes do): it must not pay the
    # extraction libraries' import, nor a backfill's archive readers, on every cron run.
    probe = (
        "import json, sys\n"
        "from scrapy.utils.misc import load_object\n"
        "from crawler import settings\n"
        "import crawler.commands.crawl, crawler.runner, crawler.spiders.wire\n"
        "for table in (settings.DOWNLOADER_MIDDLEWARES, settings.ITEM_PIPELINES,"
        " settings.EXTENSIONS):\n"
        "    [load_object(path) for path, order in table.items() if order is not None]\n"
        "for path in (settings.SCHEDULER, settings.TWISTED_DNS_RESOLVER):\n"
        "    load_object(path)\n"
        "from scrapy.spiderloader import get_spider_loader\n"
        "from crawler.runner import RunRequest, crawl_settings\n"
        "from crawler.sources import Config\n"
        "get_spider_loader(crawl_settings(RunRequest(Config('x.yaml', ())), 'archive', 'r'))\n"
        "late = ('trafilatura', 'htmldate', 'fastwarc', 'crawler.spiders.history')\n"
        "print(json.dumps([m for m in late if m in sys.modules]))\n"
    )
    assert _loaded_by(probe) == []
