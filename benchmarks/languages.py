"""Score extraction per script group: the figures of docs/guides/languages.md.

Usage: python benchmarks/languages.py [DATASET_DIR]
Splits the multilingual set by the ``lang`` of each page into script groups, writes each group
as a benchmark-format folder, and runs ``wirearchive eval-extraction --dataset`` on it, so every
figure is the command's own output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "tests/data/extraction-multilingual"
GROUPS = {
    "English": {"en"},
    "German": {"de"},
    "other Latin script": {"es", "fr", "pt", "nl", "da", "no", "sv", "cs", "lv", "tr", "vi", "id"}
    | {"xh", "zu"},
    "Chinese, Japanese, Korean": {"zh", "ja", "ko"},
    "Arabic, Cyrillic, Devanagari (ar ru hi)": {"ar", "ru", "hi"},
}


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    truth = json.loads((source / "ground-truth.json").read_text(encoding="utf-8"))
    for label, languages in GROUPS.items():
        chosen = {key: value for key, value in truth.items() if value.get("lang") in languages}
        with tempfile.TemporaryDirectory(prefix="wirearchive-lang-") as folder:
            (Path(folder) / "html").mkdir()
            for key in chosen:
                name = f"{key}.html.gz"
                (Path(folder) / "html" / name).write_bytes((source / "html" / name).read_bytes())
            (Path(folder) / "ground-truth.json").write_text(json.dumps(chosen), encoding="utf-8")
            print(f"## {label}: {len(chosen)} pages", flush=True)
            subprocess.run(
                [sys.executable, "-m", "crawler", "eval-extraction", "--dataset", folder],
                check=True,
                cwd=ROOT,
            )


if __name__ == "__main__":
    main()
