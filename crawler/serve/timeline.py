"""The geometry of a story's timeline plot: one row per appearance, time along the x axis.

The template draws the SVG from these numbers, so every label goes through autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from crawler.serve.story import Story, format_delay

WIDTH = 860
LEFT = 170  # room for the outlet names
RIGHT = 90  # room for the last delay label
TOP = 28
ROW = 24
BOTTOM = 26
TICKS = 4
MIN_SPAN_SECONDS = 60.0


@dataclass(frozen=True)
class Mark:
    """One appearance drawn on the plot."""

    x: float
    y: float
    label: str
    delay: str
    kind: str
    anchor: str  # the page's element id to link to


@dataclass(frozen=True)
class Tick:
    """An x axis tick."""

    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    """Everything the template needs to draw the plot."""

    width: int
    height: int
    left: int
    right: int
    axis_y: float
    marks: list[Mark]
    ticks: list[Tick]
    undated: int  # appearances with no time, listed in the table only


def timeline_of(story: Story) -> Timeline:
    """Lay a story out: the original at the left edge, each copy at its delay."""
    dated = [a for a in story.all if a.delay is not None]
    latest = max((a.delay for a in dated if a.delay is not None), default=timedelta(0))
    smallest = min((a.delay for a in dated if a.delay is not None), default=timedelta(0))
    start = min(smallest, timedelta(0))
    plot = WIDTH - LEFT - RIGHT
    # At least a minute wide: a story whose copies all came at once still has an axis.
    total = max((latest - start).total_seconds(), MIN_SPAN_SECONDS)

    def x(delay: timedelta) -> float:
        return round(LEFT + (delay - start).total_seconds() / total * plot, 1)

    marks = [
        Mark(
            x=x(a.delay),
            y=TOP + i * ROW,
            label=a.source,
            delay=a.delay_text,
            kind=a.kind,
            anchor=f"appearance-{a.id}",
        )
        for i, a in enumerate(dated)
        if a.delay is not None
    ]
    axis_y = TOP + max(len(marks) - 1, 0) * ROW + ROW / 2
    moments = [start + timedelta(seconds=total * i / TICKS) for i in range(TICKS + 1)]
    ticks = [Tick(x(moment), format_delay(moment)) for moment in moments]
    return Timeline(
        width=WIDTH,
        height=int(axis_y + BOTTOM),
        left=LEFT,
        right=WIDTH - RIGHT,
        axis_y=axis_y,
        marks=marks,
        ticks=ticks,
        undated=len(story.all) - len(dated),
    )
