"""``wirearchive cron``: ready crontab lines (or systemd timers) for the scheduled sources.

Every run of one archive holds the archive's lock, so two crawls that start in the same minute
do not both run: all but one exit 75 (locked). Sources that share a schedule are therefore
crawled by one line with several ``--source`` flags, and schedules that still fire at the same
minute are reported in a comment with a staggered expression to use instead.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import itertools
import shlex
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import croniter

from crawler.sources import Config, ConfigError, Source, load_config
from pipelines.archive.keys import DEFAULT_ARCHIVE

DEFAULT_CONFIG = "sources.yaml"
EXIT_LOCKED = 75
# Enough to see weekly schedules meet; bounded so an every-minute schedule stays cheap.
COLLISION_HORIZON = timedelta(days=8)
MAX_FIRINGS = 12_000

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
CRON_DAYS = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
# systemd's week starts on Monday; cron's 0 and 7 are both Sunday.
SYSTEMD_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Unconvertible(ValueError):
    """A cron expression that has no exact systemd OnCalendar equivalent; str() says why."""


@dataclass(frozen=True)
class ScheduleGroup:
    """Sources crawled together by one line because they share one cron expression."""

    schedule: str
    sources: tuple[str, ...]

    @property
    def label(self) -> str:
        """A name for the group's log files and units: the source names joined by '.'."""
        return ".".join(self.sources)


def normalize(expression: str) -> str:
    """Return a cron expression with single spaces and aliases (``@daily``) expanded."""
    text = " ".join(expression.split())
    return ALIASES.get(text.lower(), text)


def group_sources(sources: Iterable[Source]) -> tuple[list[ScheduleGroup], list[str]]:
    """Group scheduled sources by schedule (first-declared order); list the unscheduled ones."""
    groups: dict[str, list[str]] = {}
    unscheduled: list[str] = []
    for source in sources:
        if source.schedule is None:
            unscheduled.append(source.name)
        else:
            groups.setdefault(normalize(source.schedule), []).append(source.name)
    return [ScheduleGroup(expr, tuple(names)) for expr, names in groups.items()], unscheduled


# ---------------------------------------------------------------- cron -> OnCalendar


def _number(token: str, low: int, high: int, names: dict[str, int] | None) -> int:
    value = names.get(token.lower()) if names else None
    if value is None:
        if not token.isdigit():
            raise Unconvertible(f"{token!r} is not a plain number or name")
        value = int(token)
    if not low <= value <= high:
        raise Unconvertible(f"{value} is outside {low}-{high}")
    return value


def _values(field: str, low: int, high: int, names: dict[str, int] | None) -> list[int]:
    """Expand one cron field into the sorted values it selects."""
    chosen: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise Unconvertible(f"step {step_text!r} is not a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, low, high, names), _number(last, low, high, names)
            if start > end:
                raise Unconvertible(f"range {base!r} wraps around")
        else:
            start = _number(base, low, high, names)
            end = high if slash else start
        chosen.update(range(start, end + 1, step))
    return sorted(chosen)


def _numeric(field: str, low: int, high: int, names: dict[str, int] | None = None) -> str:
    """Render a minute/hour/day/month field in OnCalendar syntax, or raise Unconvertible."""
    width = 2
    if field == "*":
        return "*"
    parts: list[str] = []
    for item in field.split(","):
        base, slash, step = item.partition("/")
        if slash and (base == "*" or base.isdigit() or (names and base.lower() in names)):
            # cron's "a/s" and systemd's "a/s" both mean a, a+s, ... up to the field's end.
            start = low if base == "*" else _number(base, low, high, names)
            _values(item, low, high, names)  # validate the step
            parts.append(f"{start:0{width}d}/{int(step)}")
        elif not slash and "-" in base:
            first, last = (_values(base, low, high, names)[i] for i in (0, -1))
            parts.append(f"{first:0{width}d}..{last:0{width}d}")
        else:
            # A single value, or a stepped range systemd cannot express: list the values.
            parts.extend(f"{value:0{width}d}" for value in _values(item, low, high, names))
    return ",".join(parts)


def _weekdays(field: str) -> str:
    """Render a day-of-week field as systemd weekday names ("" for every day)."""
    if field == "*":
        return ""
    days = {SYSTEMD_DAYS[(value - 1) % 7] for value in _values(field, 0, 7, CRON_DAYS)}
    ordered = [day for day in SYSTEMD_DAYS if day in days]
    if len(ordered) == 7:
        return ""
    # Compress runs of consecutive days (Mon..Fri); systemd ranges do not wrap past Sunday.
    runs: list[list[str]] = []
    for day in ordered:
        if runs and SYSTEMD_DAYS.index(runs[-1][-1]) + 1 == SYSTEMD_DAYS.index(day):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(f"{run[0]}..{run[-1]}" if len(run) >= 3 else ",".join(run) for run in runs)


def cron_to_oncalendar(expression: str) -> str:
    """Return the systemd OnCalendar= value firing exactly when the cron expression does.

    Raise Unconvertible when there is none: both day-of-month and day-of-week restricted
    (cron fires when *either* matches, systemd only when both do), croniter extensions
    (``L``, ``W``, ``#``, ``?``, a seconds field) or anything not plain numbers and names.
    """
    fields = normalize(expression).split(" ")
    if len(fields) != 5:
        raise Unconvertible(f"{len(fields)} fields; only the five standard fields convert")
    minute, hour, dom, month, dow = fields
    if not dom.startswith("*") and not dow.startswith("*"):
        raise Unconvertible(
            "day-of-month and day-of-week are both restricted: cron fires when either "
            "matches, OnCalendar only when both do"
        )
    day = _numeric(dom, 1, 31)
    calendar = (
        f"*-{_numeric(month, 1, 12, MONTHS)}-{day} "
        f"{_numeric(hour, 0, 23)}:{_numeric(minute, 0, 59)}:00"
    )
    weekdays = _weekdays(dow)
    return f"{weekdays} {calendar}" if weekdays else calendar


# ---------------------------------------------------------------- intervals, collisions


@functools.lru_cache(maxsize=256)
def firings(
    expression: str, start: datetime, horizon: timedelta = COLLISION_HORIZON
) -> tuple[datetime, ...]:
    """Return the times the expression fires after start and within horizon (bounded)."""
    iterator = croniter(normalize(expression), start)
    end = start + horizon
    times: list[datetime] = []
    while len(times) < MAX_FIRINGS:
        moment: datetime = iterator.get_next(datetime)
        if moment > end:
            break
        times.append(moment)
    return tuple(times)


def schedule_interval(expression: str, start: datetime | None = None) -> timedelta:
    """Return the median gap between the expression's next 50 firings."""
    iterator = croniter(normalize(expression), start or datetime.now(UTC))
    times: list[datetime] = [iterator.get_next(datetime) for _ in range(51)]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    return timedelta(seconds=statistics.median(gaps))


@dataclass(frozen=True)
class Collision:
    """A group whose schedule starts in the same minute as earlier groups' schedules."""

    group: ScheduleGroup
    earlier: tuple[ScheduleGroup, ...]
    at: datetime
    count: int
    suggestion: str | None


def _shifted(expression: str, offset: int) -> str | None:
    """Shift the minute field of ``*/s``, ``a/s`` or a plain minute by offset minutes."""
    minute, rest = normalize(expression).split(" ", 1)
    base, slash, step = minute.partition("/")
    if slash and step.isdigit():
        start = 0 if base == "*" else int(base) if base.isdigit() else None
        if start is None or offset >= int(step) or start + offset > 59:
            return None
        return f"{start + offset}-59/{step} {rest}"
    if minute.isdigit() and int(minute) + offset <= 59:
        return f"{int(minute) + offset} {rest}"
    return None


def collisions(groups: Sequence[ScheduleGroup], start: datetime) -> list[Collision]:
    """Find groups that start in the same minute as an earlier group, with a staggered
    expression for each that avoids every other group (earlier ones as already staggered)."""
    original = [set(firings(group.schedule, start)) for group in groups]
    planned = list(original)
    found: list[Collision] = []
    for index, group in enumerate(groups):
        hits = [j for j in range(index) if original[j] & original[index]]
        if not hits:
            continue
        common = sorted(original[index] & set().union(*(original[j] for j in hits)))
        others = set().union(*(planned[j] for j in range(len(groups)) if j != index))
        suggestion = None
        for offset in range(1, 30):
            candidate = _shifted(group.schedule, offset)
            if candidate is None:
                continue
            moved = set(firings(candidate, start))
            if not moved & others:
                suggestion, planned[index] = candidate, moved
                break
        found.append(
            Collision(group, tuple(groups[j] for j in hits), common[0], len(common), suggestion)
        )
    return found


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Paths:
    """The absolute paths every scheduled line uses."""

    executable: str
    config: str
    archive: str
    log_dir: str


def resolve_paths(config: Config, archive: str | None, log_dir: str | None) -> Paths:
    """Absolute executable, config, archive (flag, else config, else ./archive) and log folder."""
    uri = archive or config.archive or DEFAULT_ARCHIVE
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


def run(args: argparse.Namespace) -> int:
    """Handle ``cron``: print crontab lines (or systemd units); 1 on a config error."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"wirearchive: {err}", file=sys.stderr)
        return 1
    groups, unscheduled = group_sources(config.sources)
    paths = resolve_paths(config, args.archive, args.log_dir)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    render = render_systemd if args.systemd else render_crontab
    sys.stdout.write(render(groups, unscheduled, paths, now))
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
