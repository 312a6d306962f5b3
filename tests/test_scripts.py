"""Text units across writing systems: the rules of pipelines/extract/scripts.py as tables."""

from __future__ import annotations

import pytest

from pipelines.extract.scripts import count_units, is_unspaced, script_language, units

# The first and last character of each script written without spaces, as documented.
UNSPACED_EDGES = [
    ("Thai, Lao", "\u0e00", "\u0eff"),
    ("Myanmar", "\u1000", "\u109f"),
    ("Hangul Jamo", "\u1100", "\u11ff"),
    ("Khmer", "\u1780", "\u17ff"),
    ("Hiragana, Katakana", "\u3040", "\u30ff"),
    ("Hangul compatibility Jamo", "\u3130", "\u318f"),
    ("Katakana phonetic extensions", "\u31f0", "\u31ff"),
    ("CJK extension A", "\u3400", "\u4dbf"),
    ("CJK unified ideographs", "\u4e00", "\u9fff"),
    ("Hangul syllables", "\uac00", "\ud7af"),
    ("CJK compatibility ideographs", "\uf900", "\ufaff"),
    ("half-width Katakana", "\uff66", "\uff9f"),
    ("CJK extensions B-G", "\U00020000", "\U0003134f"),
]


@pytest.mark.parametrize(("script", "first", "last"), UNSPACED_EDGES)
def test_each_character_of_an_unspaced_script_is_a_unit(script: str, first: str, last: str) -> None:
    # Letters on both sides: a run of word characters, split at each unspaced one.
    assert units(f"ab{first}{last}cd") == ["ab", first, last, "cd"], script


@pytest.mark.parametrize(
    "outside",
    ["\u0dff", "\u0f00", "\u10a0", "\u1200", "\u1800", "\u4dc0", "\ufb00", "\U00031350"],
)
def test_characters_just_outside_the_ranges_join_their_word(outside: str) -> None:
    if not f"a{outside}b".isidentifier():  # a symbol, not a word character: it splits
        assert units(f"a{outside}b") == ["a", "b"]
    else:
        assert units(f"a{outside}b") == [f"a{outside}b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Floods, officials said.", ["Floods", "officials", "said"]),
        ("café 2026 co-op", ["café", "2026", "co", "op"]),
        ("東京で雨", ["東", "京", "で", "雨"]),
        ("ソウル 서울 Seoul", ["ソ", "ウ", "ル", "서", "울", "Seoul"]),
        ("AP通信によると", ["AP", "通", "信", "に", "よ", "る", "と"]),
        ("กรุงเทพ", ["ก", "ร", "ุ", "ง", "เ", "ท", "พ"]),
        ("", []),
        ("... — !", []),
    ],
)  # fmt: skip
def test_units(text: str, expected: list[str]) -> None:
    assert units(text) == expected


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("one two  three\nfour", 4),  # ASCII: whitespace-separated words
        ("café au lait", 3),  # not ASCII, no unspaced script: still words
        ("word, — word", 3),  # str.split counts the dash: only ASCII-free texts pay the regex
        ("東京で雨", 4),
        ("東京 rain, 雨", 4),
        ("", 0),
    ],
)
def test_count_units(text: str, count: int) -> None:
    assert count_units(text) == count


@pytest.mark.parametrize(
    ("text", "share", "expected"),
    [
        ("plain English text", 0.3, False),
        ("東京", 0.3, True),
        # 3 unspaced of 10 word characters: 0.3 exactly is enough, 0.31 is not.
        ("東京都abcdefg", 0.3, True),
        ("東京都abcdefg", 0.31, False),
        ("東京都abcdefgh", 0.3, False),  # 3 of 11
        ("東 abc, def; ghi!", 0.3, False),  # punctuation and spaces do not count: 1 of 10
        ("東京都 abc; defg", 0.3, True),  # 3 of 10
    ],
)
def test_is_unspaced_at_its_share(text: str, share: float, expected: bool) -> None:
    assert is_unspaced(text, share) is expected


def test_is_unspaced_defaults_to_three_in_ten() -> None:
    assert is_unspaced("東京都abcdefg")
    assert not is_unspaced("東京都abcdefgh")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("政府は新しい計画を発表した", "ja"),
        ("政府发布了新的计划", "zh"),
        ("정부는 새로운 계획을 발표했다", "ko"),
        ("รัฐบาลประกาศแผนใหม่", "th"),
        ("The government announced a new plan", None),
        ("", None),
        ("!!!", None),
        # Japanese needs kana at 1 in 10 of its Han and kana: 1 of 10 is, 1 of 11 is not.
        ("の一二三四五六七八九", "ja"),
        ("の一二三四五六七八九十", "zh"),
        ("のの一二三四五六七八九十百千万上下左右中", "ja"),  # 2 of 20
        ("のの一二三四五六七八九十百千万上下左右中大", "zh"),  # 2 of 21
        # A script names the language from 3 in 10 letters: 3 of 10 is, 3 of 11 is not.
        ("政府发abcdefg", "zh"),
        ("政府发abcdefgh", None),
        ("のabcdefghij", None),  # a kana among Latin letters: 1 of 11
        ("の一abc", "ja"),  # kana and Han counted together: 2 of 5
        ("정부는abcdefg", "ko"),
        ("정부는abcdefgh", None),
        ("รฐบabcdefg", "th"),
        ("รฐบabcdefgh", None),
        ("รัฐบabcdefghij", None),  # a vowel sign is a letter of its own: 4 of 14
        # Thai only from U+0E00 to U+0E7F: Lao is unspaced, but not Thai.
        ("ລາວລາວ", None),
    ],
)
def test_script_language(text: str, language: str | None) -> None:
    assert script_language(text) == language
