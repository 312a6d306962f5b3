"""When to ask again for a page that was rejected for a lasting reason.

A feed that keeps listing a dead link (404), a video page or a paywalled teaser would
otherwise be asked for it every few minutes, forever. Such a page is remembered with its
reason and asked for again after a back-off that doubles with each rejection: a 404 may
be a story not yet published, a stub may be filled in later, so it is never given up.
Passing failures (5xx, timeouts, a store that refused the write) are not remembered:
the next run retries them as before. Which reasons are lasting is named with every other
reason in ``pipelines/outcomes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DELAY = 7 * 86400.0  # however often rejected, a page is asked for again within a week


@dataclass(frozen=True)
class Rejection:
    """What the index remembers of a rejected URL."""

    reason: str
    attempts: int  # rejections in a row
    retry_at: float  # Unix time from which it is asked for again


def retry_delay(attempts: int, base: float) -> float:
    """Seconds to wait after the ``attempts``-th rejection in a row: base, 2x, 4x... a week."""
    if base <= 0 or attempts <= 0:
        return 0.0
    return min(base * 2.0 ** min(attempts - 1, 30), MAX_DELAY)


def next_rejection(previous: Rejection | None, reason: str, now: float, base: float) -> Rejection:
    """Return what to remember after one more rejection of a URL."""
    attempts = (previous.attempts if previous is not None else 0) + 1
    return Rejection(reason, attempts, now + retry_delay(attempts, base))
