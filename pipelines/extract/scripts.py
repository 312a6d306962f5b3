"""Text units across writing systems: words where words are spaced, characters where not.

Chinese, Japanese and Thai write no spaces between words, so `\\w+` makes a whole clause
one "word": a 3,000-character Japanese story has a few dozen. Every length rule, shingle
and score counts units instead: a word of a spaced script, or one character of a script
written without spaces (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar). Hangul is spaced,
but its syllables are counted one by one like the other CJK scripts, as the benchmark's
multilingual data README asks for CJK.
"""

from __future__ import annotations

import re
from typing import Final

# Scripts written without spaces between words, as character ranges for a regex class.
UNSPACED: Final = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
# One unit: a character of an unspaced script, or a run of other word characters.
UNIT: Final = re.compile(rf"[{UNSPACED}]|[^\W{UNSPACED}]+")
_UNSPACED_CHAR: Final = re.compile(rf"[{UNSPACED}]")


def units(text: str) -> list[str]:
    """Return the text's units, in order (not case-folded)."""
    return UNIT.findall(text)


def count_units(text: str) -> int:
    """Return how many units the text has: its length for every length rule.

    Spaced text counts its whitespace-separated words (str.split, 10x faster than the
    regex); only text holding an unspaced script pays for the regex.
    """
    if text.isascii() or not _UNSPACED_CHAR.search(text):
        return len(text.split())
    return len(UNIT.findall(text))


def is_unspaced(text: str, share: float = 0.3) -> bool:
    """Tell whether at least `share` of the text's word characters are of unspaced scripts."""
    unspaced = len(_UNSPACED_CHAR.findall(text))
    if not unspaced:
        return False
    spaced = sum(len(u) for u in UNIT.findall(text)) - unspaced
    return unspaced >= share * (unspaced + spaced)


# Scripts that name their language well enough to correct a page's declared one.
_KANA: Final = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL: Final = re.compile(r"[\uac00-\ud7af]")
_THAI: Final = re.compile(r"[\u0e00-\u0e7f]")
# Japanese text is mostly kana (particles, inflections) with Han; Chinese has no kana.
KANA_SHARE: Final = 0.1
SCRIPT_SHARE: Final = 0.3


def script_language(text: str) -> str | None:
    """The language a text's writing system implies (ja, zh, ko, th), or None."""
    letters = sum(len(u) for u in UNIT.findall(text))
    if not letters:
        return None
    kana, han = len(_KANA.findall(text)), len(_HAN.findall(text))
    hangul, thai = len(_HANGUL.findall(text)), len(_THAI.findall(text))
    if kana + han >= SCRIPT_SHARE * letters:
        return "ja" if kana >= KANA_SHARE * (kana + han) else "zh"
    if hangul >= SCRIPT_SHARE * letters:
        return "ko"
    if thai >= SCRIPT_SHARE * letters:
        return "th"
    return None
