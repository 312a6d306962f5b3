"""``--limit N`` shared fairly between sources: max-min fair quotas, handed out round-robin.

Links arrive per discovery response, source by source, in whatever order the servers
answer: taking them first come, first served gave all of a limit to the first source. Here
new links wait in one queue per source; each source's quota is its fair share of the limit
(``fair_quotas``), where a source whose discovery is still under way may want any number,
and a source whose discovery is over wants only what it found. A source that runs dry
gives its unused share to the others; the quotas are recomputed whenever a source finishes,
and links are released round-robin, one source at a time, within them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


def fair_quotas(limit: int, demands: Mapping[str, float]) -> dict[str, int]:
    """Split ``limit`` max-min fairly: nobody gets more than it wants, the rest is even.

    ``demands`` maps each source to how many it wants (``math.inf``: unknown yet). Integer
    remainders go to the sources in the mapping's order (the config's order).
    """
    quotas = dict.fromkeys(demands, 0)
    left = limit
    hungry = [name for name in demands if demands[name] > 0]
    while left > 0 and hungry:
        share, extra = divmod(left, len(hungry))
        given = 0
        for position, name in enumerate(hungry):
            room = demands[name] - quotas[name]
            grant = int(min(room, share + (1 if position < extra else 0)))
            quotas[name] += grant
            given += grant
        left -= given
        hungry = [name for name in hungry if quotas[name] < demands[name]]
        if given == 0:
            break
    return quotas


class Budget(Generic[T]):
    """Hold new links per source and release them within fair quotas of ``limit``."""

    def __init__(self, limit: int, sources: Iterable[str]) -> None:
        self.limit = limit
        self.order = list(sources)
        self.pending: dict[str, deque[T]] = {name: deque() for name in self.order}
        self.granted = dict.fromkeys(self.order, 0)
        self.discovering = dict.fromkeys(self.order, 0)  # discovery requests in flight

    def started(self, source: str) -> None:
        """Note a discovery request of ``source`` sent: it may list more links."""
        self.discovering[source] += 1

    def finished(self, source: str) -> None:
        """Note a discovery request of ``source`` answered (or failed)."""
        self.discovering[source] -= 1

    def offer(self, source: str, item: T) -> None:
        """Queue a new link of ``source`` until the budget lets it through."""
        self.pending[source].append(item)

    def quotas(self) -> dict[str, int]:
        """Return each source's fair share of the limit, as far as is known now."""
        demands = {
            name: math.inf
            if self.discovering[name] > 0
            else float(self.granted[name] + len(self.pending[name]))
            for name in self.order
        }
        return fair_quotas(self.limit, demands)

    def release(self) -> Iterator[tuple[str, T]]:
        """Yield the queued links the quotas allow now, one source at a time in turn."""
        quotas = self.quotas()
        moved = True
        while moved:
            moved = False
            for name in self.order:
                if self.pending[name] and self.granted[name] < quotas[name]:
                    self.granted[name] += 1
                    moved = True
                    yield name, self.pending[name].popleft()

    @property
    def done(self) -> bool:
        """Tell whether every source's discovery is over."""
        return not any(self.discovering.values())

    def leftover(self) -> Iterator[tuple[str, T]]:
        """Once discovery is over, yield (and forget) the links over the limit."""
        for name in self.order:
            while self.pending[name]:
                yield name, self.pending[name].popleft()
