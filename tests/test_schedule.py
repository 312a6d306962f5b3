"""``wirearchive cron``: cron -> OnCalendar, grouping, collisions and the printed lines."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from croniter import croniter

from crawler.cli import build_parser
from crawler.commands import cron as schedule
from crawler.scheduling.expressions import (
    Unconvertible,
    cron_to_oncalendar,
    firings,
    normalize,
    schedule_interval,
)
from crawler.scheduling.groups import ScheduleGroup, collisions, group_sources
from crawler.scheduling.units import Paths, crontab_line
from crawler.sources import Source

BASE = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday

CONVERTIBLE = [
    ("*/15 * * * *", "*-*-* *:00/15:00"),
    ("* * * * *", "*-*-* *:*:00"),
    ("0 9 * * 1-5", "Mon..Fri *-*-* 09:00:00"),
    ("30 2 1 * *", "*-*-01 02:30:00"),
    ("0 */6 * * *", "*-*-* 00/6:00:00"),
    ("5,35 * * * sun", "Sun *-*-* *:05,35:00"),
    ("0 0 * * 5-7", "Fri..Sun *-*-* 00:00:00"),
    ("0 0 * * 0,1,2,6", "Mon,Tue,Sat,Sun *-*-* 00:00:00"),
    ("0 0 * * */2", "Tue,Thu,Sat,Sun *-*-* 00:00:00"),
    ("15 10 * * 1,3,5", "Mon,Wed,Fri *-*-* 10:15:00"),
    ("0-30/10 8-18 * jan-mar *", "*-01..03-* 08..18:00,10,20,30:00"),
    ("7/20 * * * *", "*-*-* *:07/20:00"),
    ("0 12 */2 * *", "*-*-01/2 12:00:00"),
    ("0 0 * * 0-6", "*-*-* 00:00:00"),
    ("@daily", "*-*-* 00:00:00"),
    ("@hourly", "*-*-* *:00:00"),
    ("@weekly", "Sun *-*-* 00:00:00"),
    ("  */5   *  * * *", "*-*-* *:00/5:00"),
]

UNCONVERTIBLE = [
    ("0 6 1 * 1", "either"),
    ("0 0 L * *", "'L'"),
    ("0 0 * * 5#2", "'5#2'"),
    ("0 0 * * * 30", "6 fields"),
    ("0 0 5-1 * *", "wraps"),
]


@pytest.mark.parametrize(("cron", "calendar"), CONVERTIBLE)
def test_cron_to_oncalendar(cron: str, calendar: str) -> None:
    assert cron_to_oncalendar(cron) == calendar


@pytest.mark.parametrize(("cron", "why"), UNCONVERTIBLE)
def test_unconvertible_expressions_say_why(cron: str, why: str) -> None:
    with pytest.raises(Unconvertible, match=re.escape(why)):
        cron_to_oncalendar(cron)


def _systemd_times(calendar: str, count: int) -> list[datetime]:
    out = subprocess.run(
        [
            "systemd-analyze",
            "calendar",
            f"--iterations={count}",
            f"--base-time={BASE:%Y-%m-%d %H:%M:%S} UTC",
            calendar,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": "UTC"},
    ).stdout
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC", out)
    return [datetime.fromisoformat(s).replace(tzinfo=UTC) for s in stamps]


GET_SYSTEMD = (
    "`make test` installs it when run as root; otherwise `apt-get install systemd` "
    "(Debian/Ubuntu, systemd >= 247 for --base-time)"
)


@pytest.fixture(scope="module")
def systemd_analyze() -> None:
    """Fail, never skip, without systemd-analyze: the timers' calendars go unchecked."""
    if not shutil.which("systemd-analyze"):
        pytest.fail(f"systemd-analyze is missing: {GET_SYSTEMD}", pytrace=False)


@pytest.mark.usefixtures("systemd_analyze")
@pytest.mark.parametrize(("cron", "calendar"), CONVERTIBLE)
def test_systemd_fires_when_cron_does(cron: str, calendar: str) -> None:
    """systemd's own calendar parser agrees with croniter on the next firings."""
    try:
        expected_times = _systemd_times(calendar, 12)
    except subprocess.CalledProcessError as err:  # an older systemd without --base-time
        pytest.fail(f"systemd-analyze calendar: {err.stderr.strip()}; {GET_SYSTEMD}")
    assert len(expected_times) == 12, calendar  # the output was parsed, not missed
    iterator = croniter(normalize(cron), BASE)
    assert expected_times == [iterator.get_next(datetime) for _ in range(12)]


def _source(name: str, cron: str | None) -> Source:
    return Source(name=name, feeds=(f"https://{name}.example/rss",), schedule=cron)


def test_sources_sharing_a_schedule_share_a_group() -> None:
    groups, unscheduled = group_sources(
        [
            _source("a", "*/15 * * * *"),
            _source("b", "0 * * * *"),
            _source("c", None),
            _source("d", "*/15  *  * * *"),
            _source("e", "@hourly"),
        ]
    )
    assert groups == [
        ScheduleGroup("*/15 * * * *", ("a", "d")),
        ScheduleGroup("0 * * * *", ("b", "e")),
    ]
    assert unscheduled == ["c"]
    assert groups[0].label == "a.d"


@pytest.mark.parametrize(
    ("cron", "interval"),
    [
        ("*/15 * * * *", timedelta(minutes=15)),
        ("0 */6 * * *", timedelta(hours=6)),
        ("0 9 * * 1-5", timedelta(days=1)),
        ("0 0 * * 1", timedelta(days=7)),
    ],
)
def test_schedule_interval_is_the_median_gap(cron: str, interval: timedelta) -> None:
    assert schedule_interval(cron, BASE) == interval


@pytest.mark.parametrize(
    ("schedules", "colliding", "suggestion"),
    [
        (["*/15 * * * *", "5-59/15 * * * *"], [], None),
        (["*/15 * * * *", "*/10 * * * *"], ["*/10 * * * *"], "1-59/10 * * * *"),
        (["0 * * * *", "0 6 * * *"], ["0 6 * * *"], "1 6 * * *"),
        (["*/5 * * * *", "*/5 * * * 1-5"], ["*/5 * * * 1-5"], "1-59/5 * * * 1-5"),
        (["0 3 * * 0", "30 3 * * *"], [], None),
    ],
)
def test_collisions_are_found_and_staggered(
    schedules: list[str], colliding: list[str], suggestion: str | None
) -> None:
    groups = [ScheduleGroup(cron, (f"s{i}",)) for i, cron in enumerate(schedules)]
    found = collisions(groups, BASE)
    assert [hit.group.schedule for hit in found] == colliding
    if found:
        assert found[0].suggestion == suggestion
        assert found[0].earlier == (groups[0],)


def test_suggestions_avoid_each_other() -> None:
    groups = [
        ScheduleGroup("*/15 * * * *", ("a",)),
        ScheduleGroup("*/10 * * * *", ("b",)),
        ScheduleGroup("0 * * * *", ("c",)),
    ]
    found = collisions(groups, BASE)
    assert [hit.group.label for hit in found] == ["b", "c"]
    assert [hit.earlier for hit in found] == [(groups[0],), (groups[0], groups[1])]
    staggered = ["*/15 * * * *", *(hit.suggestion for hit in found)]
    assert None not in staggered
    fired = [set(firings(str(cron), BASE)) for cron in staggered]
    assert not (fired[0] & fired[1]) and not (fired[0] & fired[2]) and not (fired[1] & fired[2])


PATHS = Paths(
    executable="/srv/wa/.venv/bin/wirearchive",
    config="/srv/wa/sources.yaml",
    archive="s3://bucket/wire",
    log_dir="/var/log/wire archive",
)


def test_crontab_line_is_absolute_and_parses_as_a_crawl() -> None:
    line = crontab_line(ScheduleGroup("*/15 * * * *", ("a", "b")), PATHS)
    assert line == (
        "*/15 * * * * /srv/wa/.venv/bin/wirearchive crawl --config /srv/wa/sources.yaml "
        "--archive s3://bucket/wire --source a --source b "
        "--summary '/var/log/wire archive/a.b.last-run.json' "
        ">> '/var/log/wire archive/a.b.log' 2>&1"
    )
    command = shlex.split(line.split(" ", 5)[5].split(" >> ")[0])
    args = build_parser().parse_args(command[1:])
    assert args.command == "crawl"
    assert args.source == ["a", "b"]
    assert args.archive == "s3://bucket/wire"


def test_percent_signs_are_escaped_for_crontab() -> None:
    paths = Paths("/x/wirearchive", "/cfg/100%.yaml", "/arch", "/logs")
    line = crontab_line(ScheduleGroup("0 * * * *", ("a",)), paths)
    assert "100\\%.yaml" in line
    assert "%" not in line.replace("\\%", "")


def _run_cron(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    schedule.add_parser(parser.add_subparsers())
    args = parser.parse_args(["cron", *argv])
    return args.handler(args), ""


CONFIG = """\
archive: ./arch
sources:
  - name: alpha
    feeds: [https://alpha.example/rss]
    schedule: "*/15 * * * *"
  - name: beta
    feeds: [https://beta.example/rss]
    schedule: "*/15 * * * *"
  - name: gamma
    feeds: [https://gamma.example/rss]
    schedule: "*/10 * * * *"
  - name: delta
    feeds: [https://delta.example/rss]
  - name: eps
    feeds: [https://eps.example/rss]
    schedule: "0 6 1 * 1"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_cron_command_prints_ready_lines(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = _run_cron("--config", str(config), "--log-dir", str(config.parent / "logs"))
    out = capsys.readouterr().out
    assert status == 0
    exe = str(Path(sys.executable).parent / "wirearchive")
    archive = str(config.parent / "arch")
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert lines == [
        f"*/15 * * * * {exe} crawl --config {config} --archive {archive} --source alpha "
        f"--source beta --summary {config.parent}/logs/alpha.beta.last-run.json "
        f">> {config.parent}/logs/alpha.beta.log 2>&1",
        f"*/10 * * * * {exe} crawl --config {config} --archive {archive} --source gamma "
        f"--summary {config.parent}/logs/gamma.last-run.json "
        f">> {config.parent}/logs/gamma.log 2>&1",
        f"0 6 1 * 1 {exe} crawl --config {config} --archive {archive} --source eps "
        f"--summary {config.parent}/logs/eps.last-run.json >> {config.parent}/logs/eps.log 2>&1",
    ]
    assert "# not scheduled (no 'schedule:' in the config): delta" in out
    assert "exits 75" in out
    assert "stagger it: use '1-59/10 * * * *' for gamma" in out


def test_cron_command_takes_the_archive_flag(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run_cron("--config", str(config), "--archive", "s3://b/p")
    out = capsys.readouterr().out
    assert "--archive s3://b/p --source alpha" in out
    assert f"{config.parent}/logs/alpha.beta.log" in out  # default log dir: next to the config


def test_systemd_units(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = _run_cron("--config", str(config), "--systemd", "--log-dir", "/var/log/wa")
    out = capsys.readouterr().out
    assert status == 0
    assert "# ---- /etc/systemd/system/wirearchive-alpha.beta.service" in out
    assert "# ---- /etc/systemd/system/wirearchive-alpha.beta.timer" in out
    assert "OnCalendar=*-*-* *:00/15:00" in out
    assert "OnCalendar=*-*-* *:00/10:00" in out
    assert "--source alpha --source beta --summary /var/log/wa/alpha.beta.last-run.json" in out
    assert "StandardOutput=append:/var/log/wa/alpha.beta.log" in out
    assert "SuccessExitStatus=75" in out
    # '0 6 1 * 1' (1st of the month OR Mondays) has no OnCalendar form: a comment, a fallback.
    assert "# '0 6 1 * 1' has no exact OnCalendar form: day-of-month and day-of-week" in out
    assert "OnUnitActiveSec=7d" in out
    assert out.count("[Timer]") == 3


def test_config_error_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = _run_cron("--config", str(tmp_path / "missing.yaml"))
    assert status == 1
    assert "no such file" in capsys.readouterr().err
