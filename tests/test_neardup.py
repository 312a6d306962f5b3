"""Normalization, exact fingerprints and the near-duplicate rule on hand-built wire texts."""

from __future__ import annotations

import hashlib

import pytest

from pipelines.dedup.fingerprints import (
    BANDS,
    BINS,
    CODE_BITS,
    MIN_CHARS,
    MIN_WORDS,
    band_keys,
    compare,
    compare_many,
    containment,
    exact_fingerprint,
    is_near_duplicate,
    normalize_text,
    shingle_count,
    shingle_hashes,
    signature_of,
    similarity,
    words,
)

STORY = [
    "Flooding along the Danube forced thousands of residents from their homes on Tuesday "
    "as the river rose to its highest level in more than two decades, officials said.",
    "Emergency crews in the city of Passau worked through the night to reinforce levees "
    "with sandbags, while helicopters lifted stranded families from rooftops in nearby "
    "villages where the water had cut off every road.",
    "The regional interior minister said about 4,500 people had been evacuated and that "
    "schools would remain closed for the rest of the week. Two people were missing after "
    "their car was swept off a bridge late on Monday.",
    "Meteorologists warned that more rain was expected over the weekend in the Alps, "
    "which could send a second flood wave downstream toward Vienna and Bratislava by "
    "the middle of next week.",
    "Farmers in the low-lying plains said entire harvests of wheat and corn had been "
    "destroyed, and insurers estimated early losses at several hundred million euros.",
    "The chancellor, who visited a shelter in a school gymnasium, promised federal aid "
    "and praised volunteers who had filled sandbags for three days without a break.",
    "Scientists have linked the growing frequency of such floods in central Europe to "
    "warmer air holding more moisture, which falls as heavier rain over short periods.",
]
OTHER = [
    "The central bank raised its main interest rate by a quarter point on Thursday, its "
    "third increase this year, citing stubborn inflation in services and housing costs.",
    "Policymakers voted seven to two for the move, with the two dissenters arguing that "
    "slowing factory output and weaker hiring already pointed to a cooling economy.",
    "The governor told reporters that further increases could not be ruled out if wage "
    "growth stayed strong, but that the bank would watch incoming data closely.",
    "Markets had largely expected the decision, and the currency edged higher against "
    "the dollar while government bond yields were little changed in afternoon trading.",
    "Mortgage lenders said they would pass the increase on to variable-rate borrowers "
    "from next month, adding pressure on households already facing higher energy bills.",
    "Economists polled last week expected one more increase before the end of the year, "
    "followed by a long pause while earlier rises worked their way through the economy.",
]
ABOUT_COMPANY = (
    "About Northwind Holdings: Northwind Holdings is a leading provider of logistics and "
    "supply chain software for mid-sized manufacturers across North America and Europe. "
    "Founded in 1998, the company employs more than 4,000 people in 22 countries. For more "
    "information, visit the company's website or follow it on social media."
)


def text(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def edit(paragraphs: list[str], changes: dict[str, str]) -> list[str]:
    out = text(paragraphs)
    for old, new in changes.items():
        assert old in out
        out = out.replace(old, new)
    return out.split("\n\n")


# -- normalization and exact fingerprints ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Hello\n\tWorld  ", "hello world"),
        ("“Quoted” and ‘single’", "\"quoted\" and 'single'"),
        ("rain — and wind – and mud", "rain - and wind - and mud"),
        ("ＦＵＬＬＷＩＤＴＨ ﬁre", "fullwidth fire"),  # NFKC
        ("STRASSE Straße", "strasse strasse"),  # casefold
        ("a\u00a0b\u2009c", "a b c"),  # no-break and thin spaces
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "variant",
    [
        "The Mayor said “no”.",
        'the mayor said "no".',
        "  The   Mayor\nsaid “no”.  ",
        "THE MAYOR SAID ”NO“.",
        "The Mayor said \uff02no\uff02.",  # fullwidth quotation marks, NFKC
    ],
)
def test_exact_fingerprint_ignores_case_space_and_unicode_forms(variant: str) -> None:
    assert exact_fingerprint(variant) == exact_fingerprint("The Mayor said “no”.")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The mayor said no.", "The mayor said yes."),
        ("The mayor said no.", "The mayor said no"),
        ("one two", "onetwo"),
    ],
)
def test_exact_fingerprint_differs_for_different_text(a: str, b: str) -> None:
    assert exact_fingerprint(a) != exact_fingerprint(b)


def test_exact_fingerprint_shape() -> None:
    fingerprint = exact_fingerprint("text")
    assert len(fingerprint) == 32
    int(fingerprint, 16)


# -- signatures ----------------------------------------------------------------------------


def test_signature_is_stable_compact_bytes() -> None:
    sig = signature_of(text(STORY))
    assert sig is not None
    assert len(sig) == 4 + 4 * BANDS + BINS * CODE_BITS // 8 == 340
    assert sig == signature_of(text(STORY))  # fixed seed
    assert shingle_count(sig) > 200
    assert similarity(sig, sig) == 1.0
    keys = band_keys(sig)
    assert len(keys) == BANDS
    assert all(-(2**31) <= key < 2**31 for key in keys)
    assert keys == band_keys(bytes(sig))


def test_signature_format_is_pinned() -> None:
    # Stored signatures must stay comparable across releases: a change of hashing shows here.
    sig = signature_of(text(STORY))
    assert sig is not None
    assert band_keys(sig)[:3] == [929773194, 775720952, -1500942063]
    assert hashlib.sha256(sig).hexdigest()[:16] == "f84d3ea50c678640"
    other_seed = signature_of(text(STORY), seed=1)
    assert other_seed is not None and band_keys(other_seed) != band_keys(sig)


def test_estimates_on_unrelated_and_identical_texts() -> None:
    a, b = signature_of(text(STORY)), signature_of(text(OTHER))
    assert a is not None and b is not None
    assert similarity(a, b) < 0.02  # 4-bit codes collide 1 time in 15: corrected for
    assert similarity(a, a) == 1.0
    assert containment(a, a) == 1.0
    cut = signature_of(text(STORY[:4]))
    assert cut is not None
    assert containment(a, cut) > 0.9 > similarity(a, cut)
    assert compare_many(a, [a, b, cut]) == [compare(a, a), compare(a, b), compare(a, cut)]
    assert compare_many(a, []) == []


def test_short_texts_are_not_near_matched() -> None:
    brief = "Police closed the A9 motorway near Munich after a lorry overturned on Tuesday."
    assert signature_of(brief) is None
    assert signature_of(brief + " Drivers were told to expect delays.") is None
    assert not is_near_duplicate(signature_of(brief), signature_of(brief))


# -- the decision rule ----------------------------------------------------------------------

SYNDICATED = {
    "dateline and byline": [
        "By ANNA SCHMIDT Associated Press",
        "PASSAU, Germany (AP) — " + STORY[0],
        *STORY[1:],
    ],
    "site boilerplate": [*STORY, "Follow us on Twitter @dailyherald for the latest news."],
    "last paragraph cut": STORY[:-1],
    "last two paragraphs cut, byline": ["By Staff and wire reports", *STORY[:-2]],
    "words changed": edit(
        STORY,
        {
            "thousands of": "many",
            "officials said": "authorities said",
            "worked through": "labored through",
            "about 4,500": "roughly 4,500",
            "downstream toward": "downriver to",
            "several hundred": "hundreds of",
            "praised volunteers": "thanked the volunteers",
        },
    ),
    "everything at once": [
        "Reuters",
        "BERLIN (Reuters) - " + STORY[0],
        *edit(STORY[1:-1], {"the night": "Monday night", "promised": "pledged"}),
        "Copyright 2026 Reuters. All rights reserved.",
    ],
}


# Estimated Jaccard similarity to STORY, as measured (signatures are deterministic); the
# tolerance lets the parameters move a little without rewriting the table.
SIMILARITY = {
    "dateline and byline": 0.97,
    "site boilerplate": 0.97,
    "last paragraph cut": 0.88,
    "last two paragraphs cut, byline": 0.74,
    "words changed": 0.80,
    "everything at once": 0.81,
}


@pytest.mark.parametrize("name", list(SYNDICATED))
def test_syndicated_copies_match(name: str) -> None:
    original, copy = signature_of(text(STORY)), signature_of(text(SYNDICATED[name]))
    assert original is not None and copy is not None
    result = compare(original, copy)
    assert result.match, (name, result)
    assert is_near_duplicate(copy, original)  # symmetric
    assert result.jaccard == pytest.approx(SIMILARITY[name], abs=0.08)


DIFFERENT = {
    "different story": text(OTHER),
    # A follow-up reusing the lead above new reporting: a different story.
    "follow-up sharing the lead": text(
        [
            *STORY[:2],
            "On Wednesday the water began to recede in Passau, leaving streets covered in mud "
            "and debris as shop owners returned to assess the damage to their businesses.",
            "Officials said the two people missing since Monday had been found dead in their "
            "car about three kilometers downstream, raising the death toll to five.",
            "Cleanup crews from across Bavaria arrived with pumps and heavy machinery, and the "
            "army said it would keep 600 soldiers in the region until the end of the month.",
            "The state government approved an emergency fund of 100 million euros for "
            "households and small businesses, to be paid within two weeks of an application.",
        ]
    ),
}


@pytest.mark.parametrize("name", list(DIFFERENT))
def test_different_stories_do_not_match(name: str) -> None:
    original, other = signature_of(text(STORY)), signature_of(DIFFERENT[name])
    assert original is not None and other is not None
    assert not compare(original, other).match, (name, compare(original, other))


@pytest.mark.parametrize(
    "boilerplate",
    [ABOUT_COMPANY, "The Associated Press contributed to this report."],
)
def test_stories_sharing_boilerplate_do_not_match(boilerplate: str) -> None:
    a = signature_of(text(["By Staff and wire reports", *STORY[:4], boilerplate]))
    b = signature_of(text(["By Staff and wire reports", *OTHER[:4], boilerplate]))
    assert a is not None and b is not None
    assert not is_near_duplicate(a, b), compare(a, b)


def test_mismatched_signatures_are_rejected() -> None:
    sig = signature_of(text(STORY))
    assert sig is not None
    with pytest.raises(ValueError, match="different sizes"):
        similarity(sig, sig[:-4])


# Chinese and Japanese: a sentence is one `\w+` "word", so shingles are character runs.
ZH_STORY = (
    "新华社北京4月24日电 国家航天局24日表示，我国将于今年下半年发射新一代载人飞船试验船，"
    "开展多项关键技术验证。航天局有关负责人介绍，试验船将搭载多种科学实验载荷，"
    "在轨运行期间完成交会对接、再入返回等关键环节的测试。专家认为，这次试验对于后续"
    "载人登月任务具有重要意义，将为我国深空探测积累宝贵经验。据了解，相关研制单位已经"
    "完成了地面联合试验，各系统状态良好，发射场区的准备工作也在有序推进之中。负责人还表示，"
    "我国将继续加强与其他国家在航天领域的交流合作，推动构建更加开放的国际航天合作格局。"
    "此前，我国已成功实施多次载人航天飞行任务，空间站也已全面建成并转入应用与发展阶段。"
    "航天员乘组在轨开展了大量空间科学实验和技术试验，取得了一批具有国际影响力的成果。"
    "业内人士指出，随着商业航天企业快速发展，火箭发射成本有望进一步下降，应用前景广阔。"
    "多地政府也出台了支持政策，吸引卫星制造、地面设备和数据服务等上下游企业集聚发展。"
)
JA_STORY = (
    "【ワシントン共同】米連邦準備制度理事会は２４日、政策金利を据え置くと発表した。"
    "声明では物価上昇率が依然として目標を上回っているとして、利下げには慎重な姿勢を示した。"
    "市場関係者の間では年内の利下げ回数について見方が分かれており、今後の経済指標に注目が"
    "集まっている。議長は記者会見で、労働市場は底堅さを保っているものの、消費の伸びには"
    "鈍化の兆しがみられると述べた。一方、住宅市場では高い金利が重荷となり、販売件数の減少が"
    "続いている。専門家は、景気の減速が鮮明になれば早期の利下げもあり得ると指摘している。"
    "外国為替市場では発表直後にドルが買われ、円相場は一時１ドル＝１５０円台まで下落した。"
    "日本政府は為替の動向を注視するとしており、財務省幹部は過度な変動には適切に対応すると述べた。"
    "東京株式市場では輸出関連株を中心に買いが広がり、日経平均株価は前日比で大きく上昇した。"
    "市場では、日米の金利差が当面は縮まらないとの見方から、円安基調が続くとの声も聞かれた。"
)


def test_a_syndicated_chinese_copy_is_a_near_duplicate() -> None:
    copy = ZH_STORY.replace("新华社北京4月24日电 ", "") + "（责任编辑：李明）"
    a, b = signature_of(ZH_STORY), signature_of(copy)
    assert a is not None and b is not None
    assert is_near_duplicate(a, b)


def test_a_syndicated_japanese_copy_cut_short_is_a_near_duplicate() -> None:
    cut = JA_STORY.rsplit("。", 2)[0] + "。"
    a, b = signature_of(JA_STORY), signature_of(cut)
    assert a is not None and b is not None
    assert is_near_duplicate(a, b)


def test_different_cjk_stories_are_not_near_duplicates() -> None:
    a, b = signature_of(ZH_STORY), signature_of(JA_STORY)
    assert a is not None and b is not None
    assert not is_near_duplicate(a, b)
    assert similarity(a, b) < 0.05


def test_cjk_text_is_shingled_by_characters() -> None:
    # Word 3-shingles of this story would be ~12 "words" of whole clauses: too short to sign.
    assert len(ZH_STORY.split("，")) < MIN_WORDS < len(ZH_STORY)
    signature = signature_of(ZH_STORY)
    assert signature is not None
    assert shingle_count(signature) > 200
    assert signature_of(ZH_STORY[: MIN_CHARS - 50]) is None


def test_latin_words_are_unchanged() -> None:
    assert words("Flooding along the Danube, café owners said") == [
        "flooding", "along", "the", "danube", "café", "owners", "said",
    ]  # fmt: skip


# -- pinned hashing and the rule's edges ------------------------------------------------------


def test_densified_band_keys_of_a_short_text_are_pinned() -> None:
    # 53 shingles in 40 LSH bins leave about ten empty, filled by densification.
    sig = signature_of(" ".join(text(STORY).split()[:55]))
    assert sig is not None and shingle_count(sig) == 53
    assert band_keys(sig)[:4] == [320355766, -1901228082, -530801273, -776062558]
    assert hashlib.sha256(sig).hexdigest()[:16] == "5d233c4ceaa47273"
    # 10 shingles leave 30 of 40 bins empty: most need several probes to be filled.
    tiny = signature_of(" ".join(text(STORY).split()[:12]), min_words=3)
    assert tiny is not None and shingle_count(tiny) == 10
    assert hashlib.sha256(tiny).hexdigest()[:16] == "c100605b043a15d9"


@pytest.mark.parametrize(
    ("n", "digest"),
    [
        (1, "a81a660ba3bc472f"),
        (2, "9aa709c58e8632e0"),
        (3, "252cbe7fd6f9d5ae"),
        (4, "e16708212e25194f"),
        (5, "c78f701c4062ca4f"),
        (6, "46ea0755d7902717"),
        (7, "74ab2e1926f562e7"),
        (8, "c0cc7b01aa6b4b5a"),
    ],
)
def test_shingle_hashes_are_pinned_for_every_supported_n(n: int, digest: str) -> None:
    hashes = shingle_hashes(words(text(STORY)), n)
    assert hashlib.sha256(hashes.tobytes()).hexdigest()[:16] == digest


def test_shingles_longer_than_the_text_or_the_mixers_are_none() -> None:
    assert len(shingle_hashes(["a", "b"], 3)) == 0
    assert len(shingle_hashes(["a"], 3)) == 0
    assert len(shingle_hashes(["a", "b", "c"], 3)) == 1  # exactly n words: one shingle
    assert len(shingle_hashes(words(text(STORY)), 9)) == 0


def test_an_odd_number_of_bins_packs_into_whole_bytes() -> None:
    sig = signature_of(text(STORY), bins=511)
    assert sig is not None and len(sig) == 4 + 4 * BANDS + 256
    assert similarity(sig, sig) == 1.0


def test_containment_of_a_signature_without_shingles_is_zero() -> None:
    sig = signature_of(text(STORY))
    assert sig is not None
    empty = (0).to_bytes(4, "little") + sig[4:]
    assert containment(sig, empty) == 0.0


@pytest.mark.parametrize("threshold", ["jaccard_match", "containment_match", "jaccard_floor"])
def test_each_threshold_is_inclusive(threshold: str) -> None:
    a, b = signature_of(text(STORY)), signature_of(text(STORY[:4]))
    assert a is not None and b is not None
    measured = compare(a, b)
    # Only the rule under test can match: the others are out of reach (above 1) or open (0).
    rules = {
        "jaccard_match": {"jaccard_match": measured.jaccard, "containment_match": 1.01},
        "containment_match": {
            "jaccard_match": 1.01,
            "containment_match": measured.containment,
            "jaccard_floor": 0.0,
        },
        "jaccard_floor": {
            "jaccard_match": 1.01,
            "containment_match": 0.0,
            "jaccard_floor": measured.jaccard,
        },
    }[threshold]
    assert compare(a, b, **rules).match  # a value equal to its threshold matches
    above = {**rules, threshold: rules[threshold] + 1e-9}
    assert not compare(a, b, **above).match
    assert compare_many(a, [b], **rules)[0].match


def test_decision_thresholds_are_keyword_only() -> None:
    sig = signature_of(text(STORY))
    assert sig is not None
    with pytest.raises(TypeError):
        compare(sig, sig, 0.5)  # type: ignore[misc]
    with pytest.raises(TypeError):
        compare_many(sig, [sig], 0.5)  # type: ignore[misc]


def test_small_sketches_compare_and_sketchless_signatures_are_rejected() -> None:
    small = signature_of(text(STORY), bins=64)  # 4 + 80 + 32 bytes
    assert small is not None and len(small) == 116
    assert similarity(small, small) == 1.0
    with pytest.raises(ValueError, match="different sizes"):
        similarity(small[:84], small[:84])  # header and bands, no bins to compare


def test_estimates_are_pinned() -> None:
    # The index stores signatures and compares them later: the estimate of a pair must not
    # drift between releases (bin counts, the code-collision correction, the rounding).
    a = signature_of(text(STORY))
    b = signature_of(text(SYNDICATED["last two paragraphs cut, byline"]))
    c = signature_of(text(SYNDICATED["words changed"]))
    assert a is not None and b is not None and c is not None
    assert (shingle_count(a), shingle_count(b)) == (208, 161)
    assert similarity(a, b) == pytest.approx(0.7349726775956285, rel=1e-12)
    assert similarity(a, c) == pytest.approx(0.7995626822157434, rel=1e-12)
    # |A∩B| = J (|A| + |B|) / (1 + J), over the smaller set: 0.4 x 369 / 1.4 / 161.
    assert containment(a, b, jaccard=0.4) == pytest.approx(147.6 / 1.4 / 161, rel=1e-12)
