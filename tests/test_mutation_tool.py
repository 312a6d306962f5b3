"""benchmarks/mutation.py counts a mutant that changes only annotations apart (no test can
kill it under ``from __future__ import annotations``), and only such a mutant."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "mutation.py"
_SPEC = importlib.util.spec_from_file_location("wirearchive_mutation_tool", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
mutation = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = mutation  # dataclasses look their module up by name
_SPEC.loader.exec_module(mutation)


def _diff(before: str, after: str) -> str:
    return f"--- a\n+++ b\n@@ -1 +1 @@\n-{before}\n+{after}\n"


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("def f(a: int) -> str | None:", "def f(a: int) -> str - None:", True),
        ("async def f(a: int | None) -> None:", "async def f(a: int & None) -> None:", True),
        ("    x: int | None = 3", "    x: int - None = 3", True),
        # A parameter or the return annotation of a signature split over several lines.
        ("    since: date | None,", "    since: date - None,", True),
        (") -> tuple[int, int] | None:", ") -> tuple[int, int] - None:", True),
        # Defaults and bodies are behaviour: a mutant of them must be killed.
        ("    since: int = 3,", "    since: int = 4,", False),
        ("def f(a: int = 1) -> None:", "def f(a: int = 2) -> None:", False),
        ("    return a | b", "    return a - b", False),
        ("    x: int = 3", "    x: int = 4", False),
        ("    if a < b:", "    if a <= b:", False),
    ],
)
def test_annotation_only(before: str, after: str, expected: bool) -> None:
    assert mutation.annotation_only(_diff(before, after)) is expected


def test_a_diff_of_several_lines_is_annotation_only_when_each_line_is() -> None:
    diff = "-    a: int | None,\n-    b: str,\n+    a: int - None,\n+    b: str,\n"
    assert mutation.annotation_only(diff)
    assert not mutation.annotation_only(diff.replace("+    b: str,", "+    b: str = 1,"))
