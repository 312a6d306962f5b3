"""Mutation score of the rule modules: cosmic-ray mutates each one, its own tests must fail.

Usage: ``python benchmarks/mutation.py [--module NAME]... [--survivors] [--sample N]``
(``make mutation``: 60 mutants a module; ``make mutation MUTATION_SAMPLE=0``: all of them).

Each rule module is mutated in a private copy of the repository (cosmic-ray edits files in
place), and every mutant is tested with only the test files that cover that module, so a
module takes minutes, not the whole suite per mutant. It prints killed/survived per module
and the total; ``--survivors`` also prints each surviving mutant's diff, to judge it.
``--sample N`` tests N mutants a module drawn at random (fixed seed) instead of all of them:
fingerprints.py alone has over a thousand (every hash constant), hours of tests.
Needs the ``mutation`` extra (``pip install -e '.[mutation]'``). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MUTANT_TIMEOUT = 60.0  # seconds; a mutant that loops forever counts as killed
COPIED = ("crawler", "pipelines", "tests", "pyproject.toml", "scrapy.cfg")
SAMPLE_SEED = 20261201


@dataclass(frozen=True)
class Target:
    """A rule module and the tests that cover it."""

    name: str
    module: str
    tests: tuple[str, ...]


TARGETS = (
    Target("urls", "pipelines/urls.py", ("tests/test_urls.py", "tests/test_properties.py")),
    Target(
        "fingerprints",
        "pipelines/dedup/fingerprints.py",
        ("tests/test_neardup.py", "tests/test_near_boundaries.py"),
    ),
    Target(
        "address_guard",
        "crawler/downloadermiddlewares/address_guard.py",
        ("tests/test_guard.py", "tests/test_guard_hardening.py"),
    ),
    Target(
        "warc",
        "pipelines/archive/warc.py",
        (
            "tests/test_warc_codings.py",
            "tests/test_warc_request_line.py",
            "tests/test_raw_record.py",
        ),
    ),
    Target("lock", "pipelines/archive/lock.py", ("tests/test_lock.py",)),
    Target("daterange", "pipelines/daterange.py", ("tests/test_daterange.py",)),
    Target("wire", "pipelines/extract/wire.py", ("tests/test_wire.py", "tests/test_properties.py")),
    Target(
        "furniture",
        "pipelines/extract/furniture.py",
        ("tests/test_wirerules.py", "tests/test_properties.py"),
    ),
    Target("scripts", "pipelines/extract/scripts.py", ("tests/test_scripts.py",)),
    Target("dates", "pipelines/extract/dates.py", ("tests/test_dates.py",)),
)


def copy_repository(into: Path) -> None:
    """Copy what the tests need into a private folder (cosmic-ray edits files in place)."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, into / name)


def config_text(target: Target, tests: list[str]) -> str:
    """Return the cosmic-ray configuration of one module."""
    command = [str(BIN / "python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    return "\n".join(
        [
            "[cosmic-ray]",
            f'module-path = "{target.module}"',
            f"timeout = {MUTANT_TIMEOUT}",
            "excluded-modules = []",
            f"test-command = {json.dumps(' '.join(command))}",
            "",
            "[cosmic-ray.distributor]",
            'name = "local"',
            "",
        ]
    )


# Annotations are never evaluated (``from __future__ import annotations``), so a mutant that
# only changes one (``str | None`` to ``str - None``) cannot be killed by any test: it is
# counted apart, not as a survivor.
def _parse_line(source: str) -> ast.Module | None:
    """Parse one source line alone, or as the continuation of a signature it may be."""
    attempts = [source]
    if source.startswith(("def ", "async def ")):
        attempts = [source + "\n    pass"]
    # A line of a signature split over several lines: a parameter (``since: date | None,``)
    # or the closing return annotation (``) -> tuple[int, int]:``).
    attempts.append(f"def _(\n{source.rstrip(',')}\n): pass")
    attempts.append(f"def _(\n{source}\n    pass")
    for attempt in attempts:
        try:
            return ast.parse(attempt)
        except SyntaxError:
            continue
    return None


def without_annotations(line: str) -> str | None:
    """Return one source line with its annotations dropped, or None if it does not parse."""
    tree = _parse_line(line.strip())
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return ast.unparse(tree)


def annotation_only(diff: str) -> bool:
    """Tell whether a mutant's diff changes nothing but annotations."""
    lines = diff.splitlines()
    removed = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")]
    if not removed or len(removed) != len(added):
        return False
    for before, after in zip(removed, added, strict=True):
        stripped = without_annotations(before)
        if stripped is None or stripped != without_annotations(after):
            return False
    return True


def keep_sample(session: Path, size: int) -> None:
    """Drop all but ``size`` mutants, drawn at random with a fixed seed, from a session.

    The draw is over the mutants ordered by what they change (operator, its arguments, where),
    not by cosmic-ray's job ids, which are new random ids at every ``init``: the same module
    gives the same sample in every run.
    """
    with sqlite3.connect(session) as db:
        specs = db.execute(
            "SELECT job_id, operator_name, COALESCE(operator_args, ''), occurrence,"
            " start_pos_row, start_pos_col FROM mutation_specs"
        ).fetchall()
        if len(specs) <= size:
            return
        ordered = [job for job, *_ in sorted(specs, key=lambda spec: tuple(map(str, spec[1:])))]
        # A reproducible draw, not a secret: random.Random is the right tool.
        kept = set(random.Random(SAMPLE_SEED).sample(ordered, size))  # noqa: S311
        dropped = [(job,) for job in ordered if job not in kept]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", dropped)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", dropped)


def mutate(
    target: Target, work: Path, sample: int | None = None
) -> tuple[int, int, int, list[str]]:
    """Run every mutant of one module; return (killed, survived, annotation-only, diffs)."""
    tests = [test for test in target.tests if (work / test).exists()]
    if not tests:
        raise SystemExit(f"{target.name}: none of {target.tests} exists")
    config = work / f"{target.name}.toml"
    session = work / f"{target.name}.sqlite"
    config.write_text(config_text(target, tests))
    cosmic = str(BIN / "cosmic-ray")
    subprocess.run([cosmic, "init", str(config), str(session)], cwd=work, check=True)
    if sample:  # 0 or None: every mutant
        keep_sample(session, sample)
    subprocess.run([cosmic, "exec", str(config), str(session)], cwd=work, check=True)
    dump = subprocess.run(
        [cosmic, "dump", str(session)], cwd=work, check=True, capture_output=True, text=True
    ).stdout
    killed = survived = annotations = 0
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            continue
        if result["test_outcome"] == "survived":
            diff = result.get("diff") or json.dumps(item)
            if annotation_only(diff):
                annotations += 1
                continue
            survived += 1
            survivors.append(diff)
        elif result["test_outcome"] == "killed":
            killed += 1
        # "incompetent" mutants (they do not even import) count neither way
    return killed, survived, annotations, survivors


def main() -> int:
    """Print the mutation score of each selected rule module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=[t.name for t in TARGETS])
    parser.add_argument("--survivors", action="store_true", help="print surviving mutants")
    parser.add_argument(
        "--sample", type=int, help="test N random mutants a module, not all (0: all)"
    )
    args = parser.parse_args()
    if shutil.which("cosmic-ray", path=str(BIN)) is None:
        raise SystemExit("cosmic-ray is missing: pip install -e '.[mutation]'")
    chosen = [t for t in TARGETS if not args.module or t.name in args.module]
    rows = []
    with tempfile.TemporaryDirectory(prefix="wirearchive-mutation-") as folder:
        work = Path(folder)
        copy_repository(work)
        for target in chosen:
            started = time.monotonic()
            killed, survived, annotations, survivors = mutate(target, work, args.sample)
            seconds = time.monotonic() - started
            rows.append((target.name, killed, survived, annotations, seconds))
            if args.survivors:
                for diff in survivors:
                    print(f"--- survived in {target.module}\n{diff}")
    print(f"{'module':<16}{'killed':>8}{'survived':>10}{'score':>8}{'annot.':>8}{'time':>8}")
    total_killed = total_survived = 0
    for name, killed, survived, annotations, seconds in rows:
        total_killed += killed
        total_survived += survived
        score = killed / (killed + survived) if killed + survived else 1.0
        print(f"{name:<16}{killed:>8}{survived:>10}{score:>8.0%}{annotations:>8}{seconds:>7.0f}s")
    total = total_killed + total_survived
    print(f"{'all':<16}{total_killed:>8}{total_survived:>10}{total_killed / max(total, 1):>8.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
