"""Exact and near-duplicate text fingerprints for syndicated wire copy.

One wire story is republished by many outlets with small edits: another byline or dateline
line, site boilerplate, the last paragraphs cut, a few words changed. We archive it once
and record the other copies as near-duplicates. Two keys per text:

* ``exact_fingerprint``: sha256 of the normalized text (16 bytes, 32 hex chars).
* ``signature``: a one-permutation MinHash of the word shingles of the normalized text,
  b-bit packed (340 bytes) so it can be stored in SQLite, with its LSH buckets
  (``band_keys``, see nearindex.py).

The decision rule is precision first (see ``is_near_duplicate``): a false merge loses an
article from the archive, a missed near-duplicate only stores one copy too many.
Parameters were chosen with ``benchmarks/dedup.py`` (65 real articles, generated
syndicated variants and hard negatives); the figures are quoted next to each constant.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from pipelines.extract.scripts import UNIT, is_unspaced

# -- normalization ---------------------------------------------------------------------

_QUOTES: Final = {
    **dict.fromkeys("‘’‚‛′‵`´", "'"),
    **dict.fromkeys("“”„‟″‶«»", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃", "-"),
}


def normalize_text(text: str) -> str:
    """Return NFKC, casefolded text with unified quotes/dashes and single spaces."""
    text = unicodedata.normalize("NFKC", text)
    for char, plain in _QUOTES.items():  # str.translate is 10x slower on non-ASCII text
        if char in text:
            text = text.replace(char, plain)
    return " ".join(text.casefold().split())


def exact_fingerprint(text: str) -> str:
    """Return the exact-text key: sha256 of the normalized text, first 16 bytes as hex."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()[:32]


def words(text: str) -> list[str]:
    """Return the normalized units of a text (punctuation dropped): its words, and each
    character of a script written without spaces (CJK, Thai) on its own."""
    return UNIT.findall(normalize_text(text))


# -- parameters, chosen with benchmarks/dedup.py (65 dev articles; 1365 near-duplicate pairs
# and 2795 different-story pairs: all cross-pairs, shared boilerplate, follow-ups). "R" is
# the recall observed with SEED; "E[FP]" / "E[R]" the false merges / recall expected over
# the hash seed (Monte Carlo: 100 other seeds); "exact" uses the true shingle sets. --------

# Word n-grams. With the rule below: R 0.990 at n=3, 0.982 at n=4, 0.969 at n=5 (exact:
# 0.988 / 0.984 / 0.969), no false merge for any (3% word edits cost ~3n% of the shingles,
# so larger n only loses copies); different stories share few 3-word phrases (J <= 0.05).
SHINGLE_N: Final = 3
# One-permutation MinHash (Li, Owen & Zhang 2012): each shingle is hashed once into one of
# BINS bins and a bin keeps its smallest hash, so the sketch costs O(shingles), not
# O(shingles x permutations). A bin is stored as a CODE_BITS-bit code of its minimum
# (b-bit minwise hashing, Li & Koenig 2010; code 0 = empty bin) and J is estimated over the
# bins not empty in both texts, corrected for code collisions (1 in 15). A short text
# lands in few bins, mostly one shingle each, so its estimate is close to exact: that is
# where the hardest pairs are (short stories, a follow-up reusing most of one).
# 256 bins (128 bytes): E[FP] 0.04, E[R] 0.988; 512 bins (256 bytes): E[FP] 0 (none in 100
# seeds), E[R] 0.989; 1024 bins: no better (E[R] 0.989; SEED itself draws 1 false merge).
# The old 128 x 32-bit MinHash (512 bytes) had a standard error of 0.044 at J=0.45.
BINS: Final = 512
CODE_BITS: Final = 4
# LSH: BANDS x ROWS full-width minhashes (a second one-permutation MinHash of BANDS x ROWS
# bins, empty bins filled by optimal densification, Shrivastava 2017), ROWS per band. A
# pair shares a bucket with probability 1-(1-J^2)^20 = 0.989 at J=0.45, 0.997 at J=0.5;
# end to end through NearIndex no pair is lost to LSH (1351/1365 found, as compare alone).
# The 32-bit bucket keys are stored in the signature (80 bytes): pruning reads them back.
BANDS: Final = 20
ROWS: Final = 2
# Fixed seed: signatures are stable across runs and processes (the index persists them).
SEED: Final = 20260501
# Below this many words a text is matched exactly only: a brief is mostly its lead, so a
# follow-up reusing it looks like a copy. R 0.990 at 0, 30 and 50, no false merge; 0.969
# at 80. Kept at 50 for safety on briefs the labelled set does not cover.
MIN_WORDS: Final = 50
# Scripts written without spaces (Chinese, Japanese, Thai; Korean too, counted per
# syllable): a word 3-shingle of such text is one "word" of a whole clause, so their
# shingles are runs of CHAR_SHINGLE_N characters instead, and a text needs MIN_CHARS of
# them. Chosen with part 1b of benchmarks/dedup.py (13 real ja/zh/ko stories of the
# multilingual set; 273 syndicated variants with 3% character edits, CJK agency
# datelines and site lines; 217 cross-pairs, shared boilerplate and follow-ups): at 100
# or 200 characters every n from 3 to 6 merges 4 follow-ups of 300-character stories
# (the lead is most of such a story, as for English briefs under MIN_WORDS); at 300,
# none, with recall 0.868 / 0.857 / 0.832 / 0.788 for n = 3 / 4 / 5 / 6 (the misses are
# the pairs under 300 characters, matched exactly only). n=4 over 3: four characters
# are about two words, and 13 stories are too few to trust 3-character phrases apart.
CHAR_SHINGLE_N: Final = 4
MIN_CHARS: Final = 300
# Decision rule (see compare): J >= 0.47, or containment >= 0.7 with J >= 0.43 (copies cut
# by 1-2 paragraphs). Observed P 1.000 R 0.990 (vs the original 388/390, variant vs variant
# 963/975); E[FP] 0 in 100 seeds, E[R] 0.989; exact R 0.988. The hardest negatives
# (follow-ups reusing a short story's lead) have true (J, C) = (0.41, 0.63), (0.38, 0.56),
# (0.36, 0.71), (0.36, 0.99): ~3 standard errors below the thresholds. Alternatives:
# C >= 0.65: E[FP] 0.15; J >= 0.45: E[FP] 0.04; J >= 0.5 alone: E[R] 0.978; J >= 0.55
# with C >= 0.8, J >= 0.45: E[R] 0.970. The misses are short stories cut and reworded
# by two outlets (true J 0.25-0.45), inseparable from a follow-up by set similarity.
JACCARD_MATCH: Final = 0.47
CONTAINMENT_MATCH: Final = 0.7
JACCARD_FLOOR: Final = 0.43

_HEADER: Final = 4  # uint32 shingle count
_BAND_BYTES: Final = 4 * BANDS  # int32 LSH bucket per band
_CODES: Final = (1 << CODE_BITS) - 1  # non-empty codes 1..15

Signature = bytes
"""Packed little-endian: uint32 shingle count, BANDS int32 LSH buckets, then BINS 4-bit
bin codes, two per byte (low nibble first)."""

_U64 = np.uint64


def _fmix64(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """MurmurHash3's 64-bit finalizer: every input bit affects every output bit."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> _U64(33))
        h = h * _U64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> _U64(33))
        h = h * _U64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> _U64(33))


@functools.cache
def _salt(seed: int, stream: int) -> np.uint64:
    return _U64(np.random.default_rng([seed, stream]).integers(0, 2**63, dtype=np.uint64))


_MIX: Final = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x85EBCA77C2B2AE63, 0x94D049BB133111EB],
    dtype=np.uint64,
)  # fmt: skip


def shingle_hashes(tokens: list[str], n: int = SHINGLE_N) -> npt.NDArray[np.uint64]:
    """Return the sorted distinct 64-bit hashes of the word n-grams of ``tokens``."""
    if len(tokens) < n or n > len(_MIX):
        return np.empty(0, dtype=np.uint64)
    # crc32 per word (stable across processes, unlike hash()), spread to 64 bits.
    hashes = _fmix64(np.array([zlib.crc32(t.encode()) for t in tokens], dtype=np.uint64))
    count = len(tokens) - n + 1
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):  # position-dependent multipliers: "a b c" != "c b a"
            combined += hashes[k : k + count] * _MIX[k]
    return np.unique(_fmix64(combined))


def _bin_minima(
    shingles: npt.NDArray[np.uint64], bins: int, salt: np.uint64
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """One-permutation MinHash: return (non-empty bins, the smallest 32-bit hash in each)."""
    h = _fmix64(shingles ^ salt)
    with np.errstate(over="ignore"):
        slot = ((h >> _U64(32)) * _U64(bins)) >> _U64(32)  # high half picks the bin
    keyed = np.sort((slot << _U64(32)) | (h & _U64(0xFFFFFFFF)))  # low half ranks in it
    slots = keyed >> _U64(32)
    first = np.ones(len(keyed), dtype=bool)
    first[1:] = slots[1:] != slots[:-1]
    return slots[first].astype(np.int64), keyed[first] & _U64(0xFFFFFFFF)


_BAND_SALT: Final = np.random.default_rng([SEED, 3]).integers(0, 2**63, size=BANDS, dtype=np.uint64)


def _band_keys_of(shingles: npt.NDArray[np.uint64], seed: int) -> npt.NDArray[np.int32]:
    """Return BANDS LSH buckets from BANDS x ROWS densified one-permutation minhashes."""
    size = BANDS * ROWS
    slots, minima = _bin_minima(shingles, size, _salt(seed, 1))
    values = np.zeros(size, dtype=np.uint64)
    values[slots] = minima | _U64(1 << 32)  # bit 32: bin filled
    # Optimal densification: an empty bin takes the value of the first non-empty bin along
    # its own pseudo-random probe sequence, so two texts' bins still agree with prob. J.
    filled = values.copy()
    empty = np.flatnonzero(values == 0).astype(np.uint64)
    attempt = 0
    while len(empty) and attempt < 10_000:
        with np.errstate(over="ignore"):
            probe = _fmix64(empty * _U64(0x9E3779B97F4A7C15) + _U64(attempt) + _salt(seed, 2))
        source = values[(probe % _U64(size)).astype(np.int64)]
        found = source != 0
        filled[empty[found].astype(np.int64)] = source[found]
        empty, attempt = empty[~found], attempt + 1
    grid = filled.reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        mixed = (grid * _MIX[:ROWS]).sum(axis=1, dtype=np.uint64)
        mixed = _fmix64(mixed + _BAND_SALT)
    return (mixed >> _U64(32)).astype(np.uint32).view(np.int32)


def signature_of(
    text: str,
    *,
    n: int = SHINGLE_N,
    bins: int = BINS,
    min_words: int = MIN_WORDS,
    seed: int = SEED,
    char_n: int = CHAR_SHINGLE_N,
    min_chars: int = MIN_CHARS,
) -> Signature | None:
    """Return the signature of a text, or None when it is too short to near-match.

    `n` and `min_words` apply to spaced scripts; text mostly in an unspaced script uses
    `char_n` and `min_chars` instead.
    """
    tokens = words(text)
    if is_unspaced(text):
        n, min_words = char_n, min_chars
    if len(tokens) < max(min_words, n):
        return None
    shingles = shingle_hashes(tokens, n)
    slots, minima = _bin_minima(shingles, bins, _salt(seed, 0))
    codes = np.zeros(bins + bins % 2, dtype=np.uint8)
    code_salt = _salt(seed, 4)
    codes[slots] = (_fmix64(minima ^ code_salt) % _U64(_CODES) + _U64(1)).astype(np.uint8)
    packed = codes[0::2] | (codes[1::2] << np.uint8(CODE_BITS))
    header = min(len(shingles), 2**32 - 1).to_bytes(_HEADER, "little")
    return header + _band_keys_of(shingles, seed).astype("<i4").tobytes() + packed.tobytes()


def _pair_table() -> npt.NDArray[np.uint32]:
    """Per pair of packed bytes (a << 8 | b): equal, both and either non-empty nibble counts
    in bit fields 0, 11 and 22 (a sum over BINS / 2 bytes stays below 2**11 per field)."""
    a, b = np.divmod(np.arange(1 << 16, dtype=np.uint32), np.uint32(256))
    table = np.zeros(1 << 16, dtype=np.uint32)
    for shift in (0, CODE_BITS):
        x, y = (a >> shift) & _CODES, (b >> shift) & _CODES
        both = ((x != 0) & (y != 0)).astype(np.uint32)
        either = ((x != 0) | (y != 0)).astype(np.uint32)
        table += both * (x == y) + (both << np.uint32(11)) + (either << np.uint32(22))
    return table


_PAIRS: Final = _pair_table()


def shingle_count(sig: Signature) -> int:
    """Return the number of distinct shingles of the text a signature was made from."""
    return int.from_bytes(sig[:_HEADER], "little")


def _similarities(sig: Signature, others: list[Signature]) -> npt.NDArray[np.float64]:
    """Return the estimated Jaccard similarity of ``sig`` to each of ``others``."""
    if any(len(other) != len(sig) for other in others) or len(sig) <= _HEADER + _BAND_BYTES:
        raise ValueError("signatures of different sizes")
    body = _HEADER + _BAND_BYTES
    mine = np.frombuffer(sig, dtype=np.uint8, offset=body).astype(np.uint32) << np.uint32(8)
    theirs = np.frombuffer(b"".join(other[body:] for other in others), dtype=np.uint8)
    counts = _PAIRS[theirs.reshape(len(others), -1) | mine].sum(axis=1, dtype=np.uint32)
    equal, both, either = counts & 0x7FF, (counts >> 11) & 0x7FF, counts >> 22
    # Of the `both` bins whose minima differ, 1/_CODES still have equal codes: remove them.
    # (q M - D) / (q - 1) is exact in floats for identical signatures (J = 1.0).
    matches = (_CODES * equal.astype(np.int64) - both) / (_CODES - 1)
    estimate: npt.NDArray[np.float64] = np.clip(matches / np.maximum(either, 1), 0.0, 1.0)
    return estimate


def similarity(sig_a: Signature, sig_b: Signature) -> float:
    """Return the estimated Jaccard similarity of the shingle sets of two signatures."""
    return float(_similarities(sig_a, [sig_b])[0])


def _containment(jaccard: float, size_a: int, size_b: int) -> float:
    smaller = min(size_a, size_b)
    if smaller == 0:
        return 0.0
    return min(1.0, jaccard * (size_a + size_b) / (1.0 + jaccard) / smaller)


def containment(sig_a: Signature, sig_b: Signature, jaccard: float | None = None) -> float:
    """Return the estimated |A∩B| / min(|A|, |B|) from the Jaccard estimate and set sizes.

    |A∩B| = J (|A| + |B|) / (1 + J); a copy with its last paragraphs cut has a low
    Jaccard similarity to the full text but a containment close to 1.
    """
    j = similarity(sig_a, sig_b) if jaccard is None else jaccard
    return _containment(j, shingle_count(sig_a), shingle_count(sig_b))


@dataclass(frozen=True, slots=True)
class Comparison:
    """The estimates behind a near-duplicate decision."""

    jaccard: float
    containment: float
    match: bool


def compare_many(
    sig: Signature,
    others: list[Signature],
    *,
    jaccard_match: float = JACCARD_MATCH,
    containment_match: float = CONTAINMENT_MATCH,
    jaccard_floor: float = JACCARD_FLOOR,
) -> list[Comparison]:
    """``compare`` of one signature with many (same size), vectorized."""
    if not others:
        return []
    size = shingle_count(sig)
    out = []
    for j, other in zip(_similarities(sig, others).tolist(), others, strict=True):
        c = _containment(j, size, shingle_count(other))
        match = j >= jaccard_match or (c >= containment_match and j >= jaccard_floor)
        out.append(Comparison(j, c, match))
    return out


def compare(
    sig_a: Signature,
    sig_b: Signature,
    *,
    jaccard_match: float = JACCARD_MATCH,
    containment_match: float = CONTAINMENT_MATCH,
    jaccard_floor: float = JACCARD_FLOOR,
) -> Comparison:
    """Compare two signatures and decide whether they are copies of one story.

    A match is either a high Jaccard similarity (the same text with small edits and
    template lines), or a high containment (one text is most of the other: paragraphs cut)
    backed by a Jaccard floor so that a follow-up which reuses a story's lead paragraphs
    above a new body, or a short story plus a long shared boilerplate, does not qualify.
    """
    return compare_many(
        sig_a,
        [sig_b],
        jaccard_match=jaccard_match,
        containment_match=containment_match,
        jaccard_floor=jaccard_floor,
    )[0]


def is_near_duplicate(sig_a: Signature | None, sig_b: Signature | None) -> bool:
    """Return True when two signatures are near-duplicates (None: too short, never)."""
    if sig_a is None or sig_b is None:
        return False
    return compare(sig_a, sig_b).match


def band_keys(sig: Signature) -> list[int]:
    """Return the signature's LSH bucket per band, as signed 32-bit ints (SQLite INTEGER).

    Band i is fmix64 of the band's ROWS densified minhashes times odd constants plus the
    band's salt (one table holds the buckets of all bands), high 32 bits. Stored in the
    signature: deterministic across processes, and pruning reads them back.
    """
    if len(sig) < _HEADER + _BAND_BYTES:
        raise ValueError("signature too short")
    keys: list[int] = np.frombuffer(sig, dtype="<i4", count=BANDS, offset=_HEADER).tolist()
    return keys
