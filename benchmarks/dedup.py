"""Near-duplicate detection: accuracy on syndicated variants, and the index's cost at scale.

Usage: python benchmarks/dedup.py [--data DEV_SET_DIR] [--max N] [--seed S] [--seeds K]
       [--skip-accuracy]

Part 1 builds a labelled set of pairs from the 65 real articles of the extraction dev set:
positives are syndicated variants generated the way outlets edit wire copy (seeded, so
deterministic); negatives are all cross-pairs of distinct articles plus hard negatives
(two stories sharing a boilerplate paragraph, follow-ups reusing a story's lead). It
prints precision, recall and false merges at the chosen parameters, a sweep showing why
they were chosen, and an end-to-end run through NearIndex (LSH recall included).

Part 1b does the same with the CJK (ja/zh/ko) stories of the multilingual set, syndicated
with character edits, CJK agency datelines and site lines: character shingles there.

Part 2 times NearIndex at 10k, 100k and 1M indexed articles (``--max`` caps the sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.dedup import fingerprints as neardup
from pipelines.dedup.fingerprints import Signature, compare, signature_of, words
from pipelines.index.near import NearIndex

DAY = 86400.0
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "tests/data/extraction-dev"
MULTILINGUAL_DIR = Path(__file__).resolve().parents[1] / "tests/data/extraction-multilingual"
CJK_LANGUAGES = ("ja", "zh", "ko")

BYLINES = [
    "By JANE SMITH Associated Press",
    "By Mark Jones, Reuters",
    "Agence France-Presse",
    "By The Associated Press",
    "Staff and wire reports",
]
DATELINES = ["WASHINGTON (AP) — ", "LONDON (Reuters) - ", "PARIS (AFP) — ", "NEW YORK — "]
SITE_LINES = [
    "Follow us on Twitter @dailyherald for the latest news.",
    "Copyright 2026 The Associated Press. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed.",
    "Sign up for our morning newsletter to get the day's top stories in your inbox.",
    "Read more: the latest news from our region.",
]
SHARED_PARAGRAPHS = [
    "The Associated Press contributed to this report.",
    "About Northwind Holdings: Northwind Holdings is a leading provider of logistics and "
    "supply chain software for mid-sized manufacturers across North America and Europe. "
    "Founded in 1998, the company employs more than 4,000 people in 22 countries. "
    "For more information, visit the company's website or follow it on social media.",
    "This story is part of our continuing coverage. Reporters from the newsroom and our "
    "partners contributed. Have a news tip? Send it to our editors, who read every "
    "message, and sign up for our newsletter to get the day's top stories. Our journalism "
    "is supported by readers like you: subscribe today for unlimited digital access.",
]

# Variant recipes: which edits an outlet applies to wire copy.
RECIPES: list[tuple[str, ...]] = [
    ("dateline", "site"),
    ("byline", "cut"),
    ("edits",),
    ("byline", "dateline", "edits", "site"),
    ("cut", "edits", "site"),
    ("byline", "dateline", "cut", "edits", "site"),
]


@dataclass(frozen=True)
class Style:
    """How outlets of one writing system edit wire copy: the lines they add, how they edit."""

    bylines: list[str]
    datelines: list[str]
    site_lines: list[str]
    shared: list[str]
    per_character: bool = False  # edits replace/insert/delete characters, not words


LATIN = Style(BYLINES, DATELINES, SITE_LINES, SHARED_PARAGRAPHS)
# Real CJK agency datelines and outlet furniture (Xinhua, Kyodo, Yonhap, Jiji; Japanese and
# Chinese site lines: "related articles", "reproduction prohibited", "editor:").
CJK = Style(
    bylines=["（記者 山田太郎）", "記者：王小明", "기자 김민수", "（編集委員 佐藤花子）"],
    datelines=["新华社北京4月24日电 ", "【ワシントン共同】", "(서울=연합뉴스) ", "【北京時事】"],
    site_lines=[
        "関連記事：最新ニュースはこちら",
        "無断転載・複製を禁じます。",
        "（责任编辑：李明）",
        "저작권자 © 연합뉴스 무단 전재-재배포 금지",
    ],
    shared=[
        "本記事の内容は掲載時点のものです。最新の情報は公式サイトでご確認ください。"
        "ご意見・ご感想は編集部までお寄せください。配信記事の無断転載を禁じます。",
        "本网站所刊登的新闻、信息和各种专题专栏资料，均为本网站版权所有，未经协议授权，"
        "禁止下载使用。欢迎关注我们的官方账号，获取最新资讯。",
        "이 기사는 제휴 언론사의 기사입니다. 기사 내용에 대한 문의는 해당 언론사로 "
        "연락해 주시기 바랍니다. 무단 전재 및 재배포를 금지합니다.",
    ],
    per_character=True,
)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    kind: str


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def edit_words(rng: random.Random, paras: list[str], vocab: list[str], rate: float) -> list[str]:
    """Replace, insert or delete ~rate of the words, at random positions."""
    split = [p.split() for p in paras]
    total = sum(len(p) for p in split)
    for _ in range(max(1, round(total * rate))):
        para = rng.choice([p for p in split if p])
        i = rng.randrange(len(para))
        op = rng.choice(("replace", "insert", "delete"))
        if op == "replace":
            para[i] = rng.choice(vocab)
        elif op == "insert":
            para.insert(i, rng.choice(vocab))
        elif len(para) > 1:
            del para[i]
    return [" ".join(p) for p in split]


def edit_characters(
    rng: random.Random, paras: list[str], vocab: list[str], rate: float
) -> list[str]:
    """Replace, insert or delete ~rate of the characters (a CJK word is 1-3 of them)."""
    chars = [list(p) for p in paras]
    total = sum(len(p) for p in chars)
    for _ in range(max(1, round(total * rate))):
        para = rng.choice([p for p in chars if p])
        i = rng.randrange(len(para))
        op = rng.choice(("replace", "insert", "delete"))
        if op == "replace":
            para[i] = rng.choice(vocab)
        elif op == "insert":
            para.insert(i, rng.choice(vocab))
        elif len(para) > 1:
            del para[i]
    return ["".join(p) for p in chars]


def syndicate(
    rng: random.Random,
    body: str,
    recipe: tuple[str, ...],
    vocab: list[str],
    style: Style = LATIN,
) -> str:
    """Return a syndicated copy of ``body`` edited as ``recipe`` says."""
    paras = paragraphs(body)
    if "cut" in recipe:
        # The last 1-2 paragraphs (outlets trim wire stories from the bottom), keeping at
        # least two: a 3-paragraph brief loses at most one.
        cut = max(0, min(rng.choice((1, 2)), len(paras) - 2))
        paras = paras[: len(paras) - cut] if cut else paras
    if "edits" in recipe:
        edit = edit_characters if style.per_character else edit_words
        paras = edit(rng, paras, vocab, 0.03)
    if "dateline" in recipe:
        paras[0] = rng.choice(style.datelines) + paras[0]
    if "byline" in recipe:
        paras.insert(0, rng.choice(style.bylines))
    if "site" in recipe:
        paras.append(rng.choice(style.site_lines))
    return "\n\n".join(paras)


def build_pairs(bodies: list[str], seed: int, style: Style = LATIN) -> list[Pair]:
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    if style.per_character:
        vocab = sorted({c for body in bodies for c in body if c.isalpha()})
    else:
        vocab = sorted({w for body in bodies for w in body.split() if w.isalpha()})
    pairs: list[Pair] = []
    variants: list[list[str]] = []
    for body in bodies:
        copies = [syndicate(rng, body, recipe, vocab, style) for recipe in RECIPES]
        variants.append(copies)
        for recipe, copy in zip(RECIPES, copies, strict=True):
            pairs.append(Pair(body, copy, True, "variant:" + "+".join(recipe)))
        for x, y in combinations(copies, 2):
            pairs.append(Pair(x, y, True, "variant-vs-variant"))
    for x, y in combinations(bodies, 2):
        pairs.append(Pair(x, y, False, "cross-pair"))
    n = len(bodies)
    for i, body in enumerate(bodies):
        for step in (1, 2, 3):
            shared = style.shared[(i + step) % len(style.shared)]
            other = bodies[(i + step) % n]
            byline = style.bylines[i % len(style.bylines)]
            pairs.append(
                Pair(
                    f"{byline}\n\n{body}\n\n{shared}",
                    f"{byline}\n\n{other}\n\n{shared}",
                    False,
                    "shared-boilerplate",
                )
            )
        paras = paragraphs(body)
        for lead in (1, 2):
            if len(paras) <= lead:
                continue
            others = paragraphs(bodies[rng.choice([j for j in range(n) if j != i])])
            for kind, new in (("follow-up", others), ("follow-up-short", others[:3])):
                follow = "\n\n".join(paras[:lead] + new)
                pairs.append(Pair(body, follow, False, kind))
                pairs.append(Pair(variants[i][0], follow, False, kind))
    return pairs


# -- part 1: accuracy ------------------------------------------------------------------


@dataclass
class Scores:
    jaccard: np.ndarray
    containment: np.ndarray
    valid: np.ndarray  # both texts long enough to near-match
    same: np.ndarray
    total: np.ndarray | None = None  # |A| + |B| (exact sets only)
    smaller: np.ndarray | None = None  # min(|A|, |B|)


def exact_scores(pairs: list[Pair], n: int, min_words: int = neardup.MIN_WORDS) -> Scores:
    """Jaccard and containment of the true shingle sets (what MinHash estimates)."""
    cache: dict[str, set[tuple[str, ...]] | None] = {}

    def shingles(text: str) -> set[tuple[str, ...]] | None:
        if text not in cache:
            tokens = words(text)
            cache[text] = (
                {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
                if len(tokens) >= min_words
                else None
            )
        return cache[text]

    js, cs, valid, total, smaller = [], [], [], [], []
    for pair in pairs:
        a, b = shingles(pair.a), shingles(pair.b)
        if a is None or b is None:
            js.append(0.0)
            cs.append(0.0)
            valid.append(False)
            total.append(2)
            smaller.append(1)
            continue
        inter = len(a & b)
        js.append(inter / len(a | b))
        cs.append(inter / min(len(a), len(b)))
        valid.append(True)
        total.append(len(a) + len(b))
        smaller.append(min(len(a), len(b)))
    return Scores(
        np.array(js),
        np.array(cs),
        np.array(valid),
        np.array([p.same for p in pairs]),
        np.array(total, dtype=float),
        np.array(smaller, dtype=float),
    )


def minhash_scores(
    pairs: list[Pair],
    n: int = neardup.SHINGLE_N,
    bins: int = neardup.BINS,
    seed: int = neardup.SEED,
    min_words: int = neardup.MIN_WORDS,
    *,
    char_n: int = neardup.CHAR_SHINGLE_N,
    min_chars: int = neardup.MIN_CHARS,
) -> Scores:
    """The estimates behind the decision, with signatures made with these parameters."""
    cache: dict[str, Signature | None] = {}

    def sig(text: str) -> Signature | None:
        if text not in cache:
            cache[text] = signature_of(
                text,
                n=n,
                bins=bins,
                seed=seed,
                min_words=min_words,
                char_n=char_n,
                min_chars=min_chars,
            )
        return cache[text]

    js, cs, valid = [], [], []
    for pair in pairs:
        a, b = sig(pair.a), sig(pair.b)
        if a is None or b is None:
            js.append(0.0)
            cs.append(0.0)
            valid.append(False)
            continue
        result = compare(a, b)
        js.append(result.jaccard)
        cs.append(result.containment)
        valid.append(True)
    return Scores(np.array(js), np.array(cs), np.array(valid), np.array([p.same for p in pairs]))


@dataclass
class SeedRuns:
    """Estimates over many hash seeds for the pairs near the decision boundary.

    Only pairs that some seed could decide differently are re-estimated: negatives with a
    true J > 0.2 and positives with a true J < 0.75 (the estimator's standard error is
    <= 0.04, so the others are always refused / accepted; they count as such).
    """

    jaccard: np.ndarray  # seeds x boundary pairs
    containment: np.ndarray
    same: np.ndarray  # boundary pairs
    sure_positives: int  # positives outside the boundary set
    positives: int

    def expected(self, jm: float, cm: float, fl: float) -> tuple[float, float]:
        """Expected false merges and recall over the seeds."""
        match = (self.jaccard >= jm) | ((self.containment >= cm) & (self.jaccard >= fl))
        fp = float(match[:, ~self.same].sum(axis=1).mean())
        tp = float(match[:, self.same].sum(axis=1).mean())
        return fp, (self.sure_positives + tp) / self.positives


def seed_runs(pairs: list[Pair], exact: Scores, n: int, bins: int, seeds: int) -> SeedRuns:
    boundary = exact.valid & np.where(exact.same, exact.jaccard < 0.75, exact.jaccard > 0.2)
    chosen = [p for p, keep in zip(pairs, boundary, strict=True) if keep]
    runs = [minhash_scores(chosen, n, bins, seed=1000 + i) for i in range(seeds)]
    same = exact.same & exact.valid
    return SeedRuns(
        np.stack([r.jaccard for r in runs]),
        np.stack([r.containment for r in runs]),
        exact.same[boundary],
        int(np.sum(same & ~boundary)),
        int(np.sum(exact.same)),
    )


def decide(s: Scores, jm: float, cm: float, floor: float) -> np.ndarray:
    return s.valid & ((s.jaccard >= jm) | ((s.containment >= cm) & (s.jaccard >= floor)))


def prf(s: Scores, predicted: np.ndarray) -> tuple[float, float, int]:
    tp = int(np.sum(predicted & s.same))
    fp = int(np.sum(predicted & ~s.same))
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / int(np.sum(s.same)), fp


CHOSEN = (neardup.JACCARD_MATCH, neardup.CONTAINMENT_MATCH, neardup.JACCARD_FLOOR)


def accuracy(bodies: list[str], seed: int, seeds: int) -> None:
    pairs = build_pairs(bodies, seed)
    kinds = sorted({p.kind for p in pairs})
    positives = sum(p.same for p in pairs)
    print(f"== Part 1: accuracy on {len(pairs)} labelled pairs from {len(bodies)} articles")
    print(f"   {positives} near-duplicate pairs, {len(pairs) - positives} different-story pairs")
    n, bins = neardup.SHINGLE_N, neardup.BINS
    jm, cm, floor = CHOSEN
    print(
        f"   chosen: shingle n={n}, {bins} one-permutation bins x {neardup.CODE_BITS} bits, "
        f"LSH {neardup.BANDS}x{neardup.ROWS}, min_words={neardup.MIN_WORDS}; "
        f"match if J>={jm} or (C>={cm} and J>={floor})"
    )
    s = minhash_scores(pairs, n, bins)
    predicted = decide(s, jm, cm, floor)
    precision, recall, fp = prf(s, predicted)
    print(f"   precision={precision:.4f} recall={recall:.4f} false merges={fp}")
    vs_original = np.array([p.kind.startswith("variant:") for p in pairs])
    vv = np.array([p.kind == "variant-vs-variant" for p in pairs])
    print(
        f"   recall of variants vs their original: "
        f"{int(np.sum(predicted & vs_original))}/{int(vs_original.sum())}, "
        f"variant vs variant: {int(np.sum(predicted & vv))}/{int(vv.sum())}"
    )
    print(f"   {'kind':<42} {'pairs':>5} {'short':>5} {'match':>5} {'J min/med/max':>17}")
    for kind in kinds:
        mask = np.array([p.kind == kind for p in pairs])
        ok = mask & s.valid
        jv = s.jaccard[ok]
        stats = f"{jv.min():.2f}/{np.median(jv):.2f}/{jv.max():.2f}" if len(jv) else "-"
        print(
            f"   {kind:<42} {int(mask.sum()):>5} {int((mask & ~s.valid).sum()):>5} "
            f"{int((predicted & mask).sum()):>5} {stats:>17}"
        )
    exact_by_n = {sn: exact_scores(pairs, sn) for sn in (3, 4, 5)}
    ex = exact_by_n[n]
    neg = ~s.same & s.valid
    hardest = np.argsort(-np.where(neg, ex.jaccard, -1))[:4]
    print(
        "   hardest negatives, true (J, C) -> estimated: "
        + ", ".join(
            f"({ex.jaccard[i]:.2f}, {ex.containment[i]:.2f}) -> "
            f"({s.jaccard[i]:.2f}, {s.containment[i]:.2f})"
            for i in hardest
        )
    )
    print(
        f"   estimated: negatives J max={s.jaccard[neg].max():.3f}, C max with J>={floor}: "
        f"{np.max(s.containment[neg & (s.jaccard >= floor)], initial=0):.3f}"
    )

    sweeps(pairs, s, exact_by_n, seeds)
    end_to_end(bodies, pairs)


def sweeps(pairs: list[Pair], s: Scores, exact_by_n: dict[int, Scores], seeds: int) -> None:
    n, bins = neardup.SHINGLE_N, neardup.BINS
    jm, cm, floor = CHOSEN
    ex = exact_by_n[n]
    print(
        f"\n   Sweep 1 - shingle n and bins at the chosen thresholds. P/R/FP observed with "
        f"SEED;\n   E[FP]/E[R] = expected false merges / recall over {max(seeds // 4, 10)} "
        f"other hash seeds:"
    )
    print(
        f"   {'n':>2} {'bins':>5} {'bytes':>5} {'P':>7} {'R':>7} {'FP':>3} {'E[FP]':>7} {'E[R]':>7}"
    )
    for sn, sbins in ((3, 256), (3, 512), (3, 1024), (3, 0), (4, 512), (4, 0), (5, 512), (5, 0)):
        ex_n = exact_by_n[sn]
        sc = ex_n if sbins == 0 else minhash_scores(pairs, sn, sbins)
        p_, r_, f_ = prf(sc, decide(sc, jm, cm, floor))
        if sbins:
            e_fp, e_r = seed_runs(pairs, ex_n, sn, sbins, max(seeds // 4, 10)).expected(
                jm, cm, floor
            )
        else:
            e_fp, e_r = float(f_), r_
        size = f"{sbins * neardup.CODE_BITS // 8}" if sbins else "-"
        print(
            f"   {sn:>2} {sbins or 'exact':>5} {size:>5} {p_:>7.4f} {r_:>7.4f} {f_:>3} "
            f"{e_fp:>7.4f} {e_r:>7.4f}"
        )

    runs = seed_runs(pairs, ex, n, bins, seeds)
    print(
        f"\n   Sweep 2 - thresholds at n={n}, {bins} bins (observed with SEED, expected over "
        f"{seeds} seeds; exact = true shingle sets):"
    )
    print(
        f"   {'J_match':>7} {'C_match':>7} {'J_floor':>7} {'P':>7} {'R':>7} {'FP':>3} "
        f"{'E[FP]':>7} {'E[R]':>7} {'exactR':>7} {'exactFP':>7}"
    )
    for jm_ in (0.45, 0.47, 0.5, 0.55):
        for cm_, fl_ in (
            (0.65, 0.42),
            (0.7, 0.42),
            (0.7, 0.43),
            (0.75, 0.43),
            (0.8, 0.45),
            (9.0, 0.5),
        ):
            p_, r_, f_ = prf(s, decide(s, jm_, cm_, fl_))
            e_fp, e_r = runs.expected(jm_, cm_, fl_)
            _, xr, xf = prf(ex, decide(ex, jm_, cm_, fl_))
            mark = "  <- chosen" if (jm_, cm_, fl_) == CHOSEN else ""
            label = "off" if cm_ > 1 else f"{cm_:.2f}"
            print(
                f"   {jm_:>7.2f} {label:>7} {fl_:>7.2f} {p_:>7.4f} {r_:>7.4f} {f_:>3} "
                f"{e_fp:>7.4f} {e_r:>7.4f} {xr:>7.4f} {xf:>7}{mark}"
            )

    print("\n   Sweep 3 - min_words (pairs below it are exact-only):")
    for mw in (0, 30, 50, 80, 100):
        sc = minhash_scores(pairs, min_words=mw)
        p_, r_, f_ = prf(sc, decide(sc, jm, cm, floor))
        print(f"   min_words={mw:>3}: P={p_:.4f} R={r_:.4f} FP={f_}")


def end_to_end(bodies: list[str], pairs: list[Pair]) -> None:
    """Index one side of each pair with NearIndex and look the other up (LSH included)."""
    found = missed = false_merges = refused = 0
    for pair in pairs:
        conn = sqlite3.connect(":memory:")
        index = NearIndex(conn)
        index.add("a" * 20, "k", pair.a, 0.0)
        match = index.find(pair.b)
        conn.close()
        if pair.same:
            found += match is not None
            missed += match is None
        else:
            false_merges += match is not None
            refused += match is None
    print(
        f"\n   End to end through NearIndex (LSH + verification), one pair per fresh index: "
        f"found {found}/{found + missed} near-duplicates, "
        f"false merges {false_merges}/{false_merges + refused}"
    )
    conn = sqlite3.connect(":memory:")
    index = NearIndex(conn)
    for i, body in enumerate(bodies):
        index.add(f"{i:020x}", f"k{i}", body, 0.0)
    positives = [p for p in pairs if p.kind.startswith("variant:")]
    lookup = {body: f"{i:020x}" for i, body in enumerate(bodies)}
    right = sum(
        1 for p in positives if (m := index.find(p.b)) is not None and m.article_id == lookup[p.a]
    )
    print(
        f"   All {len(bodies)} originals in one index, variants looked up: {right}/"
        f"{len(positives)} found their own original"
    )


def cjk_accuracy(folder: Path, seed: int) -> None:
    """Part 1b: the same labelled pairs built from the CJK stories of the multilingual set."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = [
        item["articleBody"]
        for _, item in sorted(truth.items())
        if item.get("lang") in CJK_LANGUAGES and len(item["articleBody"]) >= neardup.MIN_CHARS
    ]
    pairs = build_pairs(bodies, seed, CJK)
    positives = sum(p.same for p in pairs)
    print(
        f"\n== Part 1b: CJK - {len(pairs)} labelled pairs from {len(bodies)} ja/zh/ko stories "
        f"({positives} near-duplicate, {len(pairs) - positives} different-story)"
    )
    jm, cm, floor = CHOSEN
    s = minhash_scores(pairs)  # signature_of picks character shingles for these texts
    predicted = decide(s, jm, cm, floor)
    precision, recall, fp = prf(s, predicted)
    print(
        f"   chosen: character shingles n={neardup.CHAR_SHINGLE_N}, min {neardup.MIN_CHARS} "
        f"characters, same bins and thresholds: precision={precision:.4f} recall={recall:.4f} "
        f"false merges={fp}"
    )
    print(f"   {'kind':<42} {'pairs':>5} {'short':>5} {'match':>5}")
    for kind in sorted({p.kind for p in pairs}):
        mask = np.array([p.kind == kind for p in pairs])
        print(
            f"   {kind:<42} {int(mask.sum()):>5} {int((mask & ~s.valid).sum()):>5} "
            f"{int((predicted & mask).sum()):>5}"
        )
    print("   Sweep - character n x min characters (MinHash with SEED; short pairs exact only):")
    for min_chars in (100, 200, 300, 400):
        row = []
        for n in (3, 4, 5, 6):
            sc = minhash_scores(pairs, char_n=n, min_chars=min_chars)
            _, r_, f_ = prf(sc, decide(sc, jm, cm, floor))
            row.append(f"n={n}: R={r_:.3f} FP={f_}")
        print(f"   min {min_chars:>3} chars: " + "  ".join(row))
    end_to_end(bodies, pairs)


# -- part 2: index cost ------------------------------------------------------------------


def rss_bytes() -> int:
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def random_signatures(rng: np.random.Generator, count: int) -> list[Signature]:
    size = len(signature_of(" ".join(["word"] * neardup.MIN_WORDS)) or b"")
    raw = rng.integers(0, 256, size=(count, size), dtype=np.uint8)
    raw[:, :4] = np.frombuffer(np.uint32(400).tobytes(), dtype=np.uint8)  # shingle count
    return [row.tobytes() for row in raw]


def random_text(rng: random.Random, vocab: list[str], length: int = 400) -> str:
    return " ".join(rng.choices(vocab, k=length))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1e6)
    return out


@dataclass
class CostSetup:
    rng: np.random.Generator
    prng: random.Random
    vocab: list[str]
    text600: str
    bodies: list[str]
    now: float = 1.78e9


def build(conn: sqlite3.Connection, index: NearIndex, size: int, setup: CostSetup) -> bool:
    """Fill the index with ``size`` articles spread over 30 days; return True if synthetic."""
    synthetic = size > 10_000
    batch = 50_000
    for offset in range(0, size, batch):
        count = min(batch, size - offset)
        if synthetic:
            sigs = random_signatures(setup.rng, count)
        else:
            texts = (random_text(setup.prng, setup.vocab) for _ in range(count))
            sigs = [s for s in map(signature_of, texts) if s is not None]
        conn.execute("BEGIN")
        index.add_many(
            (
                f"{offset + i:020x}",
                f"articles/wire/2026/05/01/{offset + i:020x}.json",
                sig,
                setup.now - DAY * 30 * (1 - (offset + i) / size),
            )
            for i, sig in enumerate(sigs)
        )
        conn.execute("COMMIT")
    return synthetic


def report_size(conn: sqlite3.Connection, path: Path, size: int, rss_growth: int) -> None:
    print(
        f"   disk: {path.stat().st_size / size:.0f} bytes/article "
        "(file size / count, budget 1024, target <= 800)"
    )
    try:
        for name, pages in conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ):
            print(f"      {name:<24} {pages / size:7.1f} bytes/article")
    except sqlite3.OperationalError:
        pass
    print(
        f"   memory: RSS growth while building {rss_growth / size:.0f} bytes/article "
        f"= SQLite page cache (capped by cache_size, 256 MB) + allocator slack; the index "
        f"keeps no per-article state in Python"
    )


def measure(size: int, setup: CostSetup) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "near.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-262144")
        index = NearIndex(conn)
        rss0 = rss_bytes()
        started = time.perf_counter()
        synthetic = build(conn, index, size, setup)
        elapsed = time.perf_counter() - started
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rss1 = rss_bytes()
        how = (
            "random bytes as signatures, no MinHash, to save time"
            if synthetic
            else "MinHash of random 400-word texts"
        )
        print(f"\n   {size:,} articles ({how}): built in {elapsed:.1f} s")
        report_size(conn, path, size, rss1 - rss0)
        counter = iter(range(10**9))

        def op(sig: Signature) -> None:
            index.find_signature(sig)
            i = next(counter)
            index.add_signature(
                f"{i:020x}", f"articles/wire/2026/05/02/{i:020x}.json", sig, setup.now
            )

        fresh = iter(random_signatures(setup.rng, 2000))
        texts = iter([random_text(setup.prng, setup.vocab, 600) for _ in range(300)])
        conn.execute("BEGIN")
        times = timed(lambda: op(next(fresh)), 2000)
        full_times = timed(lambda: op(signature_of(next(texts)) or b""), 300)
        sig_times = timed(lambda: signature_of(setup.text600), 200)
        conn.execute("COMMIT")
        near_dup = signature_of(setup.bodies[0])
        assert near_dup is not None
        index.add_signature("f" * 20, "k", near_dup, setup.now)
        hit_times = timed(lambda: index.find_signature(near_dup), 500)
        table: dict[bytes, int] = {}
        base = timed(lambda: table.setdefault(os.urandom(16), 1), 2000)
        med, med_full = statistics.median(times), statistics.median(full_times)
        print(
            f"   lookup+insert, index only:   median {med:7.1f} µs  p99 "
            f"{percentile(times, 0.99):7.1f} µs  (2000 fresh random signatures)"
        )
        print(
            f"   lookup+insert incl. MinHash: median {med_full:7.1f} µs  "
            f"p99 {percentile(full_times, 0.99):7.1f} µs  (300 random 600-word texts)"
        )
        print(
            f"   MinHash signature alone:     median {statistics.median(sig_times):7.1f} µs  "
            f"({len(setup.text600.split())}-word dev article)"
        )
        print(f"   lookup that hits a near-dup: median {statistics.median(hit_times):7.1f} µs")
        print(
            f"   baseline dict lookup+insert of a 16-byte key: median "
            f"{statistics.median(base):.2f} µs -> index only is "
            f"{med / statistics.median(base):.0f}x"
        )
        started = time.perf_counter()
        conn.execute("BEGIN")
        pruned = index.prune(setup.now - DAY * 29)
        conn.execute("ROLLBACK")
        print(
            f"   prune of the oldest day: {pruned:,} entries found and deleted in "
            f"{time.perf_counter() - started:.1f} s (rolled back)"
        )
        conn.close()


def cost(sizes: list[int], bodies: list[str], seed: int) -> None:
    print("\n== Part 2: index cost (temp SQLite file, WAL, synchronous=NORMAL, 256 MB cache)")
    setup = CostSetup(
        rng=np.random.default_rng(seed),
        prng=random.Random(seed),  # noqa: S311 - test data, not security
        vocab=sorted({w for body in bodies for w in words(body)}),
        text600=next(b for b in bodies if 550 <= len(b.split()) <= 650),
        bodies=bodies,
    )
    print(f"   random texts draw from the {len(setup.vocab)} distinct words of the dev set")
    for size in sizes:
        measure(size, setup)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n   peak RSS of this process: {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--cjk-data", type=Path, default=MULTILINGUAL_DIR)
    parser.add_argument("--max", type=int, default=1_000_000, help="largest index size to time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=200, help="hash seeds for E[FP], E[R]")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    truth = json.loads((args.data / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = [item["articleBody"] for _, item in sorted(truth.items())]
    if not args.skip_accuracy:
        accuracy(bodies, args.seed, args.seeds)
        cjk_accuracy(args.cjk_data, args.seed)
    sizes = [s for s in (10_000, 100_000, 1_000_000) if s <= args.max]
    cost(sizes, bodies, args.seed)


if __name__ == "__main__":
    main()
