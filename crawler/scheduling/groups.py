"""Group scheduled sources by schedule, and find groups whose crawls start in the same minute.

Every run of one archive holds the archive's lock, so two crawls that start in the same minute
do not both run: all but one exit 75 (locked). Sources that share a schedule are therefore
crawled by one line with several ``--source`` flags, and schedules that still fire at the same
minute are reported with a staggered expression to use instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from crawler.scheduling.expressions import firings, normalize
from crawler.sources import Source


@dataclass(frozen=True)
class ScheduleGroup:
    """Sources crawled together by one line because they share one cron expression."""

    schedule: str
    sources: tuple[str, ...]

    @property
    def label(self) -> str:
        """A name for the group's log files and units: the source names joined by '.'."""
        return ".".join(self.sources)


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
