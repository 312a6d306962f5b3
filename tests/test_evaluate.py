"""``eval-extraction``: scores a small benchmark-format folder and shows the worst pages."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import pytest

from crawler.commands.eval_extraction import add_parser, run, text_diff
from pipelines.extract.evaluation import language_group
from tests.helpers.support import DEV_SET

PAGES = 3


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dataset")
    (folder / "html").mkdir()
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    chosen = dict(sorted(truth.items())[:PAGES])
    for page_id in chosen:
        shutil.copy(DEV_SET / "html" / f"{page_id}.html.gz", folder / "html")
    (folder / "ground-truth.json").write_text(json.dumps(chosen), encoding="utf-8")
    return folder


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wirearchive")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_eval_extraction_scores_both_extractors(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(["eval-extraction", "--dataset", str(dataset), "--show-worst", "2"])
    assert args.handler is run
    assert run(args) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"== {dataset.name} =="
    assert lines[1].startswith(f"extract_article: pages={PAGES} P=")
    assert lines[2].startswith(f"trafilatura.extract (baseline): pages={PAGES} P=")
    assert all("ms/page" in line for line in lines[1:3])
    assert "F1 difference" in lines[3]
    assert re.search(r"cost ratio \d+\.\d\d \(", lines[3])
    assert lines[4].split()[:2] == ["group", "pages"]
    assert lines[5].split()[:2] == ["en", str(PAGES)]  # pages without `lang` are English
    assert "worst 2 pages" in out
    assert sum(line.startswith("F1=") for line in lines) == 2


def test_eval_extraction_reports_each_set_named_positionally(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_parse(["eval-extraction", str(dataset), str(dataset)])) == 0
    out = capsys.readouterr().out
    assert out.count(f"== {dataset.name} ==") == 2
    assert out.count("cost ratio") == 2


@pytest.mark.parametrize(
    ("lang", "truth", "group"),
    [
        ("en", "The council met.", "en"),
        ("de-CH", "Der Rat tagte.", "de"),
        ("ja", "政府は発表した。", "CJK"),
        ("ko", "정부는 발표했다.", "CJK"),
        ("zh", "新华社北京电", "CJK"),
        ("cs", "Vláda to oznámila.", "other Latin"),
        ("vi", "Người đàn ông 63 tuổi đau bụng.", "other Latin"),
        ("ru", "Правительство заявило об этом.", "other scripts"),
        ("ar", "أعلنت الحكومة ذلك.", "other scripts"),
        ("th", "รัฐบาลประกาศ", "other scripts"),
    ],
)
def test_language_groups(lang: str, truth: str, group: str) -> None:
    assert language_group(lang, truth) == group


def test_eval_extraction_rejects_a_folder_without_ground_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_parse(["eval-extraction", "--dataset", str(tmp_path)])) == 2
    assert "ground-truth.json" in capsys.readouterr().err
    assert run(_parse(["eval-extraction"])) == 2
    assert "at least one set" in capsys.readouterr().err


def test_text_diff_lists_missed_and_extra_sentences() -> None:
    truth = "The council met on Monday. It approved the budget for next year. Tax rises."
    prediction = "The council met on Monday. Sign up for our newsletter today please."
    missed, extra = text_diff(prediction, truth)
    assert missed == ["It approved the budget for next year."]
    assert extra == ["Sign up for our newsletter today please."]


def test_eval_extraction_splits_a_set_by_where_its_truths_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    chosen = dict(sorted(truth.items())[:PAGES])
    (tmp_path / "html").mkdir()
    for n, page_id in enumerate(chosen):
        shutil.copy(DEV_SET / "html" / f"{page_id}.html.gz", tmp_path / "html")
        chosen[page_id]["dataset"] = "first" if n == 0 else "second"
    (tmp_path / "ground-truth.json").write_text(json.dumps(chosen), encoding="utf-8")
    assert run(_parse(["eval-extraction", str(tmp_path)])) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["truth", "from", "pages"]
    )
    assert [line.split()[:2] for line in lines[header + 1 : header + 3]] == [
        ["first", "1"],
        ["second", str(PAGES - 1)],
    ]


def test_a_set_from_one_source_has_no_source_table(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_parse(["eval-extraction", str(dataset)])) == 0
    assert "truth from" not in capsys.readouterr().out
