"""``stats`` and ``gaps`` find the same gap days: both judge a period on the same weeks of
history before it, whatever else the archive holds."""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from crawler.commands import gaps as gaps_command
from crawler.commands import stats as stats_command

NOW = "2026-09-01T09:30:00+00:00"  # stats --days 31 covers 08-02..09-01, judged to 08-31
DROP = date(2026, 6, 7)  # 8 weeks before 08-02: the first day gaps reads
EMPTY = date(2026, 8, 19)


def _run(module: object, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers())  # type: ignore[attr-defined]
    args = parser.parse_args(list(argv))
    status: int = args.handler(args)
    return status


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A source that published 20 articles a day until it settled at 4 a day, a month
    before the baseline of the period judged, and had one empty day within it."""
    root = tmp_path / "archive"
    day = date(2026, 5, 1)
    while day <= date(2026, 8, 31):
        count = 0 if day == EMPTY else 20 if day < DROP else 4
        folder = root / f"articles/wire/{day:%Y/%m/%d}"
        folder.mkdir(parents=True)
        for n in range(count):
            (folder / f"a{day:%m%d}{n:02d}.json").write_text("{}")
        day += timedelta(days=1)
    return root


def test_stats_and_gaps_find_the_same_gap_days(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ("--archive", str(archive), "--json", "--now", NOW)
    assert _run(stats_command, "stats", "--days", "31", *common) == 0
    stats = json.loads(capsys.readouterr().out)
    assert _run(gaps_command, "gaps", "--source", "wire", "--since", stats["since"], *common) == 0
    gaps = json.loads(capsys.readouterr().out)
    # The drop to 4 a day is the source's normal by now: only the empty day is a gap.
    assert [gap["day"] for gap in gaps["gaps"]] == [EMPTY.isoformat()]
    assert stats["sources"]["wire"]["gaps"] == gaps["gaps"]
