"""Render the schedule as crontab lines or systemd service and timer units."""

from __future__ import annotations

import getpass
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from crawler.exits import EXIT_LOCKED
from crawler.scheduling.expressions import (
    COLLISION_HORIZON,
    Unconvertible,
    cron_to_oncalendar,
    schedule_interval,
)
from crawler.scheduling.groups import Collision, ScheduleGroup, collisions
from crawler.sources import Config
from pipelines.archive.keys import resolve_archive


@dataclass(frozen=True)
class Paths:
    """The absolute paths every scheduled line uses."""

    executable: str
    config: str
    archive: str
    log_dir: str


def resolve_paths(config: Config, archive: str | None, log_dir: str | None) -> Paths:
    """Absolute executable, config, archive (flag, else config, else ./archive) and log folder."""
    uri = resolve_archive(archive, config.archive)
    if "://" not in uri:
        uri = str(Path(uri).expanduser().resolve())
    config_path = Path(config.path).resolve()
    logs = Path(log_dir).expanduser().resolve() if log_dir else config_path.parent / "logs"
    return Paths(
        executable=str(Path(sys.executable).absolute().parent / "wirearchive"),
        config=str(config_path),
        archive=uri,
        log_dir=str(logs),
    )


def crawl_command(group: ScheduleGroup, paths: Paths) -> list[str]:
    """Return the argv of the crawl that one group's line runs."""
    argv = [paths.executable, "crawl", "--config", paths.config, "--archive", paths.archive]
    for name in group.sources:
        argv += ["--source", name]
    argv += ["--summary", str(Path(paths.log_dir) / f"{group.label}.last-run.json")]
    return argv


def _cron_quote(argv: Sequence[str]) -> str:
    # crontab turns an unescaped % into a newline: escape it after shell quoting.
    return " ".join(shlex.quote(arg) for arg in argv).replace("%", "\\%")


def crontab_line(group: ScheduleGroup, paths: Paths) -> str:
    """Return one crontab line: the schedule, the crawl, its output appended to a log file."""
    log = str(Path(paths.log_dir) / f"{group.label}.log")
    return (
        f"{group.schedule} {_cron_quote(crawl_command(group, paths))} >> {_cron_quote([log])} 2>&1"
    )


def _collision_comments(found: Sequence[Collision]) -> list[str]:
    lines: list[str] = []
    for hit in found:
        earlier = ", ".join(f"{g.label} ({g.schedule})" for g in hit.earlier)
        lines.append(
            f"# WARNING: {hit.group.label} ({hit.group.schedule}) starts in the same minute as "
            f"{earlier}, first {hit.at:%a %H:%M}, {hit.count} times in "
            f"{COLLISION_HORIZON.days} days;"
        )
        lines.append(f"#   then one of them exits {EXIT_LOCKED} (locked) and its crawl is skipped.")
        if hit.suggestion:
            lines.append(f"#   stagger it: use '{hit.suggestion}' for {hit.group.label}")
        else:
            lines.append(f"#   stagger it: move {hit.group.label}'s minutes off the others'")
    return lines


def _header(paths: Paths, unscheduled: Sequence[str], now: datetime) -> list[str]:
    lines = [
        f"# wirearchive schedule for {paths.config} (generated {now:%Y-%m-%d %H:%M} UTC)",
        f"# archive: {paths.archive}",
        f"# logs: {paths.log_dir} (create it first: mkdir -p {shlex.quote(paths.log_dir)})",
        "# One run per archive at a time: a crawl that starts while another holds the archive "
        f"lock exits {EXIT_LOCKED}.",
        "# So sources sharing a schedule share one line (several --source); to stagger lines "
        "with different",
        "# schedules, offset their minutes (e.g. '5-59/15 * * * *' instead of '*/15 * * * *').",
    ]
    if unscheduled:
        lines.append(f"# not scheduled (no 'schedule:' in the config): {', '.join(unscheduled)}")
    return lines


def render_crontab(
    groups: Sequence[ScheduleGroup],
    unscheduled: Sequence[str],
    paths: Paths,
    now: datetime,
) -> str:
    """Return the crontab text: header comments, collision warnings, one line per group."""
    lines = _header(paths, unscheduled, now)
    if not groups:
        lines.append("# no source has a 'schedule:'; nothing to install")
    lines += _collision_comments(collisions(groups, now))
    for group in groups:
        lines.append(f"# {', '.join(group.sources)}")
        lines.append(crontab_line(group, paths))
    return "\n".join(lines) + "\n"


def _timespan(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def systemd_units(group: ScheduleGroup, paths: Paths, now: datetime) -> tuple[str, str]:
    """Return the (service, timer) unit texts of one group."""
    log = str(Path(paths.log_dir) / f"{group.label}.log")
    service = "\n".join(
        [
            "[Unit]",
            f"Description=wirearchive crawl of {', '.join(group.sources)}",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            f"User={getpass.getuser()}",
            f"WorkingDirectory={Path(paths.config).parent}",
            f"ExecStart={' '.join(shlex.quote(arg) for arg in crawl_command(group, paths))}",
            f"StandardOutput=append:{log}",
            f"StandardError=append:{log}",
            f"# {EXIT_LOCKED}: another run held the archive lock; this crawl was skipped.",
            f"SuccessExitStatus={EXIT_LOCKED}",
            "",
        ]
    )
    timer = [
        "[Unit]",
        f"Description=wirearchive schedule '{group.schedule}' for {', '.join(group.sources)}",
        "",
        "[Timer]",
    ]
    try:
        timer += [
            f"OnCalendar={cron_to_oncalendar(group.schedule)}",
            "AccuracySec=1s",
            "Persistent=true",
        ]
    except Unconvertible as err:
        every = _timespan(schedule_interval(group.schedule, now))
        timer += [
            f"# '{group.schedule}' has no exact OnCalendar form: {err};",
            f"# running every {every} instead (its median interval).",
            "OnActiveSec=1min",
            f"OnUnitActiveSec={every}",
            "AccuracySec=1s",
        ]
    timer += [
        f"Unit=wirearchive-{group.label}.service",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ]
    return service, "\n".join(timer)


def render_systemd(
    groups: Sequence[ScheduleGroup],
    unscheduled: Sequence[str],
    paths: Paths,
    now: datetime,
) -> str:
    """Return every group's service and timer, each under a comment naming its file."""
    lines = _header(paths, unscheduled, now)
    lines += [
        "# Save each unit below under /etc/systemd/system/, then:",
        "#   systemctl daemon-reload && systemctl enable --now "
        + " ".join(f"wirearchive-{group.label}.timer" for group in groups),
    ]
    if not groups:
        lines.append("# no source has a 'schedule:'; nothing to install")
    lines += _collision_comments(collisions(groups, now))
    for group in groups:
        service, timer = systemd_units(group, paths, now)
        lines += [
            "",
            f"# ---- /etc/systemd/system/wirearchive-{group.label}.service",
            service,
            f"# ---- /etc/systemd/system/wirearchive-{group.label}.timer",
            timer,
        ]
    return "\n".join(lines) + "\n"
