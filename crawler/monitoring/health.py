"""Source health from the archive's history of run summaries (``runs/*.json``).

A source is judged against its own history, run by run (``per_source`` of each summary):

- ``unknown``: fewer than ``min_history`` runs of the source are recorded.
- ``unhealthy`` (rejected): every page fetched in each of its last ``failing_runs`` runs was
  rejected (``fetched > 0`` and nothing stored, unchanged or found duplicate).
- ``unhealthy`` (discovery errors): its feeds, sitemaps or listings failed in every one of its
  last ``failing_runs`` runs.
- ``unhealthy`` (quiet): its latest runs archived nothing new *and* listed no article link, for
  longer than ``quiet_intervals`` usual intervals, while the runs before that quiet spell
  archived at least ``min_new_per_run`` new articles per run on median (over up to
  ``history_runs`` runs). The usual interval is the median gap between runs that archived
  something new, else the source's cron schedule interval, else the median gap between runs.
  The baseline is taken *before* the quiet spell so that a dead source stays unhealthy.
- ``unknown`` also when no recorded run ever listed a link or archived anything: there is
  no baseline (a new source with wrong ``allow`` rules, or one dead for longer than the
  runs read).
- ``unhealthy`` (not crawled): a source with a ``schedule:`` whose last run is older than
  ``quiet_intervals`` schedule intervals (cron stopped, or every run found the lock held).

Interrupted runs do not count toward the rejected and discovery-error rules.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from crawler.monitoring.history import (
    DEFAULT_MAX_RUNS,
    load_history,
    sources_in_history,
)
from crawler.scheduling.expressions import schedule_interval
from crawler.sources import Source
from pipelines.archive.stores import Store
from pipelines.daterange import parse_time

Status = Literal["healthy", "unhealthy", "unknown"]


@dataclass(frozen=True)
class Thresholds:
    """When a source counts as unhealthy; per-source overrides replace single fields."""

    quiet_intervals: float = 3.0  # K: quiet for longer than K usual intervals
    history_runs: int = 20  # N: runs forming the "normally produces" baseline
    min_new_per_run: float = 1.0  # baseline median of new articles per run to expect output
    failing_runs: int = 2  # M: consecutive runs all rejected / all with discovery errors
    min_history: int = 3  # fewer runs than this: unknown


ThresholdSpec = Thresholds | Mapping[str, "Thresholds | Mapping[str, Any]"] | None


def thresholds_for(name: str, spec: ThresholdSpec = None) -> Thresholds:
    """Resolve a source's thresholds: one Thresholds for all, or a mapping by source name
    (``"*"`` for every source) whose values are Thresholds or ``{field: value}`` overrides."""
    if spec is None:
        return Thresholds()
    if isinstance(spec, Thresholds):
        return spec
    result = Thresholds()
    for key in ("*", name):
        value = spec.get(key)
        if isinstance(value, Thresholds):
            result = value
        elif value is not None:
            result = replace(result, **dict(value))
    return result


@dataclass(frozen=True)
class Health:
    """A source's health: the status, the reason in words, and the times it rests on."""

    status: Status
    reason: str
    last_new_at: datetime | None = None
    last_run_at: datetime | None = None
    runs: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the health as a JSON-ready object."""
        return {
            "status": self.status,
            "reason": self.reason,
            "last_new_at": _iso(self.last_new_at),
            "last_run_at": _iso(self.last_run_at),
            "runs": self.runs,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


@dataclass(frozen=True)
class SourceRun:
    """One run as seen by one source: its start and its per-source counts."""

    started_at: datetime
    finished_at: datetime
    status: str
    counts: Mapping[str, int] = field(default_factory=dict)

    def count(self, key: str) -> int:
        """Return one per-source counter (0 when the run did not count it)."""
        return int(self.counts.get(key, 0))

    @property
    def new(self) -> int:
        """New article objects: stored plus new versions."""
        return self.count("stored") + self.count("revised")

    @property
    def kept(self) -> int:
        """Fetched pages that ended up archived, unchanged or recorded as duplicates."""
        return self.new + self.count("unchanged") + self.count("duplicates")


def source_runs(history: Iterable[Mapping[str, Any]], name: str) -> list[SourceRun]:
    """Return the runs that crawled the source, oldest first."""
    runs: list[SourceRun] = []
    for summary in history:
        per_source = summary.get("per_source") or {}
        if name not in (summary.get("sources") or ()):
            # A distributed-mode helper fetched some of its pages but did not poll it.
            helper = (summary.get("frontier") or {}).get("helper")
            if name not in per_source or helper:
                continue
        started = parse_time(summary.get("started_at"))
        if started is None:
            continue
        finished = parse_time(summary.get("finished_at")) or started
        counts = per_source.get(name) or {}
        runs.append(SourceRun(started, finished, str(summary.get("status", "")), counts))
    runs.sort(key=lambda run: run.started_at)
    return runs


def _median_gap(times: Sequence[datetime]) -> timedelta | None:
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    gaps = [gap for gap in gaps if gap > 0]
    return timedelta(seconds=statistics.median(gaps)) if gaps else None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 2 * 3_600:
        return f"{seconds / 3_600:.1f} h"
    return f"{max(seconds, 0) // 60} min"


def usual_interval(
    runs: Sequence[SourceRun], schedule: str | None, now: datetime
) -> tuple[timedelta | None, str]:
    """Return the source's usual interval and where it comes from."""
    productive = _median_gap([run.started_at for run in runs if run.new > 0])
    if productive:
        return productive, "median gap between productive runs"
    if schedule:
        return schedule_interval(schedule, now), f"schedule '{schedule}'"
    return _median_gap([run.started_at for run in runs]), "median gap between runs"


Finding = tuple[Status, str] | None


def _missed_runs(
    runs: Sequence[SourceRun], schedule: str | None, now: datetime, limits: Thresholds
) -> Finding:
    """A scheduled source whose last run is older than K schedule intervals."""
    if not schedule or not runs:
        return None
    last_run = runs[-1].started_at
    every = schedule_interval(schedule, last_run)
    if now - last_run <= limits.quiet_intervals * every:
        return None
    return (
        "unhealthy",
        f"not crawled for {_span(now - last_run)} (schedule '{schedule}' runs every "
        f"{_span(every)}); check cron and the logs (exit 75: archive lock held)",
    )


def _failing(runs: Sequence[SourceRun], limits: Thresholds) -> Finding:
    """Every page rejected, or discovery failing, in each of the last M complete runs."""
    complete = [run for run in runs if run.status != "interrupted"]
    recent = complete[-limits.failing_runs :] if limits.failing_runs > 0 else []
    if not recent or len(recent) < limits.failing_runs:
        return None
    if all(run.count("fetched") > 0 and run.kept == 0 for run in recent):
        fetched = sum(run.count("fetched") for run in recent)
        return (
            "unhealthy",
            f"all {fetched} pages fetched in the last {len(recent)} runs were rejected",
        )
    if all(run.count("discovery_errors") > 0 for run in recent):
        errors = sum(run.count("discovery_errors") for run in recent)
        return (
            "unhealthy",
            f"feeds/sitemaps/listings failed in each of the last {len(recent)} runs "
            f"({errors} discovery errors)",
        )
    return None


def _quiet(
    runs: Sequence[SourceRun], schedule: str | None, now: datetime, limits: Thresholds
) -> Finding:
    """Nothing new and no link listed for longer than K usual intervals, against a baseline
    taken before that quiet spell; unknown when no run ever listed or archived anything."""
    quiet = 0
    for run in reversed(runs):
        if run.new > 0 or run.count("links") > 0:
            break
        quiet += 1
    before = runs[: len(runs) - quiet]
    if not before:
        return (
            "unknown",
            f"no new article and no link listed in any of its {len(runs)} recorded runs: "
            "no baseline to judge by (check its feeds and allow rules)",
        )
    if not quiet:
        return None
    typical = statistics.median(run.new for run in before[-limits.history_runs :])
    interval, basis = usual_interval(before, schedule, now)
    silent = now - before[-1].started_at
    if (
        typical < limits.min_new_per_run
        or interval is None
        or silent <= limits.quiet_intervals * interval
    ):
        return None
    not_modified = sum(1 for run in runs[-quiet:] if run.count("not_modified"))
    unchanged = (
        f"; feeds answered 304 Not Modified in {not_modified} of them" if not_modified else ""
    )
    return (
        "unhealthy",
        f"nothing new and no links listed in its last {quiet} runs for "
        f"{_span(silent)} (> {limits.quiet_intervals:g} x {_span(interval)}, "
        f"{basis}){unchanged}; it normally archives {typical:g} new per run",
    )


def _healthy(runs: Sequence[SourceRun]) -> tuple[Status, str]:
    if not runs:
        return "healthy", "no runs recorded"
    latest = runs[-1]
    return (
        "healthy",
        f"last run {latest.status or 'unknown'}: {latest.new} new, "
        f"{latest.count('links')} links, {latest.count('rejected')} rejected",
    )


def assess(
    history: Sequence[Mapping[str, Any]],
    source: Source | str,
    now: datetime,
    thresholds: ThresholdSpec = None,
) -> Health:
    """Judge one source's health from run summaries (any order) at time ``now``."""
    name = source if isinstance(source, str) else source.name
    schedule = None if isinstance(source, str) else source.schedule
    limits = thresholds_for(name, thresholds)
    runs = source_runs(history, name)
    last_new = next((run.finished_at for run in reversed(runs) if run.new > 0), None)
    last_run = runs[-1].started_at if runs else None
    finding: Finding = None
    if len(runs) < limits.min_history:
        finding = ("unknown", f"{len(runs)} runs recorded; {limits.min_history} needed")
    finding = (
        finding
        or _missed_runs(runs, schedule, now, limits)
        or _failing(runs, limits)
        or _quiet(runs, schedule, now, limits)
    )
    status, reason = finding or _healthy(runs)
    return Health(status, reason, last_new, last_run, len(runs))


# ---------------------------------------------------------------- the archive's sources


def health_of_sources(
    store: Store,
    sources: Iterable[Source | str],
    now: datetime,
    *,
    thresholds: ThresholdSpec = None,
    extra_runs: Sequence[Mapping[str, Any]] = (),
    max_runs: int = DEFAULT_MAX_RUNS,
) -> dict[str, Health]:
    """Return each source's health from the archive's run history.

    ``extra_runs`` are summaries not (yet) in the store, e.g. the run being finished; a run
    already in the store with the same ``run_id`` is not counted twice.
    """
    history: list[Mapping[str, Any]] = list(load_history(store, max_runs))
    seen = {run.get("run_id") for run in history}
    history += [run for run in extra_runs if run.get("run_id") not in seen]
    result: dict[str, Health] = {}
    for source in sources:
        name = source if isinstance(source, str) else source.name
        result[name] = assess(history, source, now, thresholds)
    return result


def judge_archive(
    store: Store, sources: Sequence[Source] | None, now: datetime
) -> dict[str, Health]:
    """Judge the configured sources, or without a config every source the history names."""
    history = load_history(store)
    if sources is None:
        return {name: assess(history, name, now) for name in sources_in_history(history)}
    thresholds = {source.name: source.health for source in sources if source.health}
    return {source.name: assess(history, source, now, thresholds) for source in sources}


def unhealthy(health: Mapping[str, Health]) -> list[str]:
    """Return the names of the unhealthy sources, sorted."""
    return sorted(name for name, item in health.items() if item.status == "unhealthy")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def format_health(health: Mapping[str, Health]) -> str:
    """Return one line per source: name, status, reason, last new article time."""
    width = max((len(name) for name in health), default=6)
    lines = [
        f"{name:<{width}}  {item.status:<9}  {item.reason}  "
        f"(last new article: {_when(item.last_new_at)})"
        for name, item in health.items()
    ]
    return "\n".join(lines)


def health_json(archive: str, now: datetime, health: Mapping[str, Health]) -> dict[str, Any]:
    """Return the health of every source as one JSON-ready object."""
    return {
        "archive": archive,
        "checked_at": _iso(now),
        "unhealthy": unhealthy(health),
        "sources": {name: item.to_json() for name, item in health.items()},
    }
