"""--limit shared fairly: max-min fair quotas, released round-robin as sources run dry."""

from __future__ import annotations

import math

import pytest

from crawler.discovery.budget import Budget, fair_quotas

INF = math.inf


@pytest.mark.parametrize(
    ("limit", "demands", "expected"),
    [
        (10, {"a": INF, "b": INF, "c": INF}, {"a": 4, "b": 3, "c": 3}),
        (10, {"a": INF, "b": 2, "c": 0}, {"a": 8, "b": 2, "c": 0}),  # the dry give theirs away
        (6, {"a": 8, "b": 4, "c": 1}, {"a": 3, "b": 2, "c": 1}),
        (3, {"a": 1, "b": 1, "c": 5}, {"a": 1, "b": 1, "c": 1}),
        (20, {"a": 3, "b": 4}, {"a": 3, "b": 4}),  # more than wanted: everyone gets all
        (2, {"a": INF, "b": INF, "c": INF}, {"a": 1, "b": 1, "c": 0}),
        (0, {"a": INF}, {"a": 0}),
        (5, {}, {}),
    ],
)
def test_fair_quotas(limit: int, demands: dict[str, float], expected: dict[str, int]) -> None:
    assert fair_quotas(limit, demands) == expected


def test_the_first_source_to_answer_gets_only_its_share_while_others_discover() -> None:
    budget: Budget[int] = Budget(6, ["a", "b", "c"])
    for name in "abc":
        budget.started(name)
    for item in range(10):
        budget.offer("a", item)
    budget.finished("a")
    assert [item for _name, item in budget.release()] == [0, 1]  # 6 / 3 while b, c discover
    budget.offer("b", 100)
    budget.finished("b")  # b had one link: its unused share goes to a and c
    released = list(budget.release())
    assert released == [("a", 2), ("b", 100)]  # a 3, b 1; c, still discovering, keeps 2
    budget.finished("c")  # c had none: a gets the rest
    assert [item for _name, item in budget.release()] == [3, 4]
    assert budget.done
    assert [item for _name, item in budget.leftover()] == [5, 6, 7, 8, 9]


def test_release_takes_turns_between_sources() -> None:
    budget: Budget[str] = Budget(4, ["a", "b"])
    for item in ("a1", "a2", "a3"):
        budget.offer("a", item)
    for item in ("b1", "b2", "b3"):
        budget.offer("b", item)
    assert [item for _name, item in budget.release()] == ["a1", "b1", "a2", "b2"]
