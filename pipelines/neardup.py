"""Exact and near-duplicate text fingerprints for syndicated wire copy.

One wire story is republished by many outlets with small edits: another byline or dateline
line, site boilerplate, the last paragraphs cut, a few words changed. We archive it once
and record the other copies as near-duplicates. Two keys per text:

* ``exact_fingerprint``: sha256 of the normalized text (16 bytes, 32 hex chars).
* ``signature``: a MinHash of the word shingles of the normalized text, packed as bytes
  so it can be stored in SQLite; ``band_keys`` are its LSH buckets (see nearindex.py).

The decision rule is precision first (see ``is_near_duplicate``): a false merge loses an
article from the archive, a missed near-duplicate only stores one copy too many.
Parameters were chosen with ``benchmarks/dedup.py`` (65 real articles, generated
syndicated variants and hard negatives); the figures are quoted next to each constant.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

# -- normalization ---------------------------------------------------------------------

_QUOTES: Final = {
    **dict.fromkeys("‘’‚‛′‵`´", "'"),
    **dict.fromkeys("“”„‟″‶«»", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃", "-"),
}
_WORD: Final = re.compile(r"\w+")


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
    """Return the normalized words of a text (punctuation dropped)."""
    return _WORD.findall(normalize_text(text))


# -- parameters, chosen with benchmarks/dedup.py (65 dev articles; 1365 near-duplicate pairs
# and 2795 different-story pairs: all cross-pairs, shared boilerplate, follow-ups). "E[FP]"
# is the expected number of false merges over those 2795 pairs given the estimator's noise
# (k J_est ~ Binomial(k, J_true)); "R" the recall. ------------------------------------------

# Word n-grams. With the thresholds below: R 0.953 at n=3, 0.925 at n=4, 0.859 at n=5, no
# false merge for any (3% word edits cost ~3n% of the shingles, so larger n only loses
# copies); different stories share few 3-word phrases (cross-pairs: estimated J <= 0.05).
SHINGLE_N: Final = 3
# MinHash permutations. The hardest negative (a follow-up built on a short story's lead)
# has a true Jaccard similarity of 0.41, copies start at 0.5: the estimate must be tight.
# E[FP] 0.060 with 64 values, 0.003 with 128 (standard error at J=0.45: 0.062 vs 0.044).
# 128 x 4 bytes = 512 bytes per article, inside the 1 KB budget with 16 bands.
NUM_PERM: Final = 128
# LSH over the first BANDS x ROWS values: a pair shares a bucket with probability
# 1-(1-J^2)^16 = 0.990 at J=0.5 (the lowest match), 0.9996 at J=0.7. Different stories
# (J < 0.1) collide with probability < 0.15 and are verified away with the signature.
# 32 bands would add ~300 bytes per article (over budget) for +1% LSH recall at J=0.5.
BANDS: Final = 16
ROWS: Final = 2
# Fixed seed: signatures are stable across runs and processes (the index persists them).
SEED: Final = 20260501
SCHEME: Final = "affine32"  # datasketch 2.0's scheme; explicit, as values carry no trace of it
# Below this many words a text is matched exactly only: a brief is mostly its lead, so a
# follow-up reusing it looks like a copy. At >= 50 words the thresholds hold on their own
# (no false merge at 0, 30 or 50); 80 would cost 1.5% recall for nothing.
MIN_WORDS: Final = 50
# Decision rule (see compare): J >= 0.55, or containment >= 0.8 with J >= 0.5 (copies cut
# by 1-2 paragraphs). Observed P 1.000 R 0.953; E[FP] 0.003, E[R] 0.961. Alternatives:
# J >= 0.5: E[FP] 0.031; floor 0.45: E[FP] 0.056; J >= 0.55 without containment: E[R] 0.953;
# J >= 0.6 alone: E[R] 0.916. The misses are copies cut and reworded by two outlets (J < 0.5).
JACCARD_MATCH: Final = 0.55
CONTAINMENT_MATCH: Final = 0.8
JACCARD_FLOOR: Final = 0.5

_HEADER: Final = 4  # uint32 shingle count before the minhash values
_PERMUTATIONS: dict[int, npt.NDArray[np.uint32]] = {}

Signature = bytes
"""Packed little-endian uint32: the number of distinct shingles, then NUM_PERM minhashes."""


def _permutations(num_perm: int) -> npt.NDArray[np.uint32]:
    perms = _PERMUTATIONS.get(num_perm)
    if perms is None:
        perms = MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME).permutations
        _PERMUTATIONS[num_perm] = perms
    return perms


_MAX_CHARS: Final = 48  # longer tokens (junk, URLs) are hashed on their first 48 chars
_CHAR_MULT: Final = np.random.default_rng(SEED).integers(
    0, 2**63, size=_MAX_CHARS, dtype=np.uint64
) * np.uint64(2) + np.uint64(1)


def _word_hashes(tokens: list[str]) -> npt.NDArray[np.uint64]:
    """Return a 64-bit hash per token, vectorized: sum of code point x odd random multiplier."""
    chars = np.array(tokens, dtype=f"<U{_MAX_CHARS}")
    width = chars.dtype.itemsize // 4
    codes = chars.view(np.uint32).reshape(len(tokens), width).astype(np.uint64)
    hashes: npt.NDArray[np.uint64] = (codes + np.uint64(1)) @ _CHAR_MULT[:width]
    mixed: npt.NDArray[np.uint64] = hashes ^ (hashes >> np.uint64(31))
    return mixed


_MIX: Final = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x85EBCA77C2B2AE63, 0x94D049BB133111EB],
    dtype=np.uint64,
)  # fmt: skip


def shingle_hashes(tokens: list[str], n: int = SHINGLE_N) -> npt.NDArray[np.uint32]:
    """Return the sorted distinct 32-bit hashes of the word n-grams of ``tokens``."""
    if len(tokens) < n:
        return np.empty(0, dtype=np.uint32)
    hashes = _word_hashes(tokens)
    count = len(tokens) - n + 1
    combined = np.zeros(count, dtype=np.uint64)
    for k in range(n):  # position-dependent multipliers: "a b c" != "c b a"
        combined += hashes[k : k + count] * _MIX[k]
    combined ^= combined >> np.uint64(29)
    return np.unique((combined >> np.uint64(32)).astype(np.uint32))


def signature_of(
    text: str, *, n: int = SHINGLE_N, num_perm: int = NUM_PERM, min_words: int = MIN_WORDS
) -> Signature | None:
    """Return the MinHash signature of a text, or None when it is too short to near-match."""
    tokens = words(text)
    if len(tokens) < max(min_words, n):
        return None
    shingles = shingle_hashes(tokens, n)
    sketch = MinHash(
        num_perm=num_perm,
        seed=SEED,
        scheme=SCHEME,
        hashfunc=int,  # inputs are already hashes; datasketch pre-mixes them (fmix32)
        permutations=_permutations(num_perm),
    )
    sketch.update_batch(shingles.tolist())
    values = np.asarray(sketch.hashvalues, dtype="<u4")
    return len(shingles).to_bytes(_HEADER, "little") + values.tobytes()


def _values(sig: Signature) -> npt.NDArray[np.uint32]:
    return np.frombuffer(sig, dtype="<u4", offset=_HEADER)


def shingle_count(sig: Signature) -> int:
    """Return the number of distinct shingles of the text a signature was made from."""
    return int.from_bytes(sig[:_HEADER], "little")


def similarity(sig_a: Signature, sig_b: Signature) -> float:
    """Return the estimated Jaccard similarity of the shingle sets of two signatures."""
    a, b = _values(sig_a), _values(sig_b)
    if len(a) != len(b) or not len(a):
        raise ValueError("signatures of different sizes")
    return float(np.count_nonzero(a == b)) / len(a)


def containment(sig_a: Signature, sig_b: Signature, jaccard: float | None = None) -> float:
    """Return the estimated |A∩B| / min(|A|, |B|) from the Jaccard estimate and set sizes.

    |A∩B| = J (|A| + |B|) / (1 + J); a copy with its last paragraphs cut has a low
    Jaccard similarity to the full text but a containment close to 1.
    """
    j = similarity(sig_a, sig_b) if jaccard is None else jaccard
    size_a, size_b = shingle_count(sig_a), shingle_count(sig_b)
    smaller = min(size_a, size_b)
    if smaller == 0:
        return 0.0
    return min(1.0, j * (size_a + size_b) / (1.0 + j) / smaller)


@dataclass(frozen=True, slots=True)
class Comparison:
    """The estimates behind a near-duplicate decision."""

    jaccard: float
    containment: float
    match: bool


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
    j = similarity(sig_a, sig_b)
    c = containment(sig_a, sig_b, j)
    match = j >= jaccard_match or (c >= containment_match and j >= jaccard_floor)
    return Comparison(j, c, match)


def is_near_duplicate(sig_a: Signature | None, sig_b: Signature | None) -> bool:
    """Return True when two signatures are near-duplicates (None: too short, never)."""
    if sig_a is None or sig_b is None:
        return False
    return compare(sig_a, sig_b).match


_BAND_MULT: Final = np.random.default_rng(SEED + 1).integers(
    0, 2**63, size=16, dtype=np.uint64
) * np.uint64(2) + np.uint64(1)
_BAND_SALT: Final = np.random.default_rng(SEED + 2).integers(0, 2**63, size=256, dtype=np.uint64)


def _fmix64(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def band_keys(sig: Signature, bands: int = BANDS, rows: int = ROWS) -> list[int]:
    """Return the LSH bucket of each band as a signed 64-bit int (an SQLite INTEGER).

    The first ``bands * rows`` minhash values, ``rows`` per band, are combined with odd
    random multipliers and the band's salt (one table holds the buckets of all bands),
    then mixed (MurmurHash3 fmix64). Deterministic across processes.
    """
    if bands > len(_BAND_SALT) or rows > len(_BAND_MULT):
        raise ValueError("too many bands or rows")
    values = _values(sig)
    if len(values) < bands * rows:
        raise ValueError(f"signature has {len(values)} values, fewer than {bands * rows}")
    grid = values[: bands * rows].astype(np.uint64).reshape(bands, rows)
    with np.errstate(over="ignore"):
        mixed = (grid * _BAND_MULT[:rows]).sum(axis=1, dtype=np.uint64)
        mixed = _fmix64(mixed + _BAND_SALT[:bands])
    keys: list[int] = mixed.view(np.int64).tolist()
    return keys
