"""The byte layout of the Redis index: fixed-size doc slots, packed ids and keys.

Layout (compactness: ~0.84 KB per article, see tests/test_redisindex.py):

* ``d:<doc // 288>``: a string of 288 fixed 56-byte slots, one per doc: exact fingerprint
  (16 B), content sha256 (32 B), version (u16), indexed_at (u32), has-signature (u8);
  ``s:<doc // 48>``: a string of 48 near-duplicate signatures (340 B each). Blocks are
  created at full size, so no greedy-growth slack. Docs are numbered in the order they
  are indexed, so a signature block holds docs of the same few hours: ``prune_near``
  deletes whole blocks older than the near-duplicate window (``nf``, the near floor, is
  the first doc that still has its signature), and an old article then costs ~0.2 KB.
* ``k:<doc // 128>``: hash doc -> len(article id) + article id (packed) + packed key.
* ``a:<b>`` (article id -> doc), ``t:<b>`` (fingerprint -> doc), ``u:<b>`` (12-byte URL
  hash -> doc[:kind]), ``b:<b>`` (4-byte LSH bucket -> 4-byte doc numbers): hashes
  bucketed by the CRC32 of the field, sized from ``capacity`` so each holds ~64 entries at
  capacity and stays a listpack (``hash-max-listpack-entries`` 128 by default).
* ``pend`` (doc -> worker NUL deadline_ms) and ``pendz`` (doc by deadline): the pending
  claims; a pending doc past its deadline is ignored by lookups, taken over by the next
  claimant and removed by ``sweep``.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass

from pipelines.dedup.fingerprints import BANDS, Signature
from pipelines.index.base import text_hash
from pipelines.index.packing import pack_id, pack_key, unpack_id, unpack_key

SIG_BYTES = 340
SLOT = 396  # the logical slot: meta (55 B) then the signature, stored in two blocks
META = 56
PER_SIG = 48  # 48 x 340 = 16320 bytes: one 16 KiB allocation
PER_META = 6 * PER_SIG  # 288 x 56 = 16128 bytes; a signature block's docs share one
KEYS_PER_HASH = 128
TARGET_ENTRIES = 64
# Offsets in a slot: fingerprint, sha256, version, indexed_at, has-signature, signature.
SHA_AT, VER_AT, TIME_AT, HAS_AT, SIG_AT = 16, 48, 50, 54, 55
BODY = 4 + 4 * BANDS  # signature header: shingle count, LSH buckets
TEXT_ID = 0x80  # in the length byte: the id is stored as text, not packed hex

# The constants the Lua scripts use, by the @NAME@ they are written as.
LUA_CONSTANTS = {
    "PERM": PER_META,
    "PERS": PER_SIG,
    "META": META,
    "SLOT": SLOT,
    "KPH": KEYS_PER_HASH,
    "SHA": SHA_AT,
    "HAS": HAS_AT,
    "AT": TIME_AT,
    "SIG": SIG_AT,
    "SIGB": SIG_BYTES,
    "BODY": BODY,
}


@dataclass(frozen=True)
class Doc:
    """One doc as read back: its article, slot fields and pending state."""

    doc: int
    article_id: str
    key: str
    fingerprint: bytes
    sha: bytes
    version: int
    signature: Signature | None
    state: str  # "c" committed, "p" pending, "x" expired pending, "" gone
    owner: str


def namespace(archive_uri: str) -> str:
    """Return the key namespace of an archive: the first 16 hex chars of its URI's sha256."""
    return hashlib.sha256(archive_uri.encode("utf-8")).hexdigest()[:16]


def table_bits(entries: float) -> int:
    """Return how many CRC32 bits bucket a table expected to hold ``entries`` fields."""
    return max(0, math.ceil(math.log2(max(1.0, entries / TARGET_ENTRIES))))


def aid_field(article_id: str) -> bytes:
    """Return the ``a:`` field of an article id: packed hex, else ``=`` and the text."""
    packed = pack_id(article_id)
    return packed if isinstance(packed, bytes) else b"=" + packed.encode("utf-8")


def key_value(article_id: str, key: str) -> bytes:
    """Return the ``k:`` value of a doc: its article id and archive key, packed."""
    # The length byte says which form the id has: a packed id may start with any byte,
    # "=" included, so its first byte cannot tell.
    packed_id = pack_id(article_id)
    if isinstance(packed_id, bytes):
        head = bytes([len(packed_id)]) + packed_id
    else:
        text = packed_id.encode("utf-8")
        if len(text) >= TEXT_ID:
            raise ValueError(f"article id too long for the Redis index: {article_id!r}")
        head = bytes([TEXT_ID | len(text)]) + text
    packed = pack_key(key, article_id)
    body = packed if isinstance(packed, bytes) else b"\0" + packed.encode("utf-8")
    return head + body


def parse_key_value(value: bytes) -> tuple[str, str]:
    """Return (article id, archive key) from a ``k:`` value."""
    size = value[0] & ~TEXT_ID
    aid = value[1 : 1 + size]
    body = value[1 + size :]
    article_id = aid.decode("utf-8") if value[0] & TEXT_ID else unpack_id(aid)
    key = body[1:].decode("utf-8") if body.startswith(b"\0") else unpack_key(body, article_id)
    return article_id, key


def band_field(bucket: int) -> bytes:
    """Return the ``b:`` field of an LSH bucket."""
    return struct.pack(">i", bucket)


def slot(fingerprint: str, signature: Signature | None, indexed_at: int) -> bytes:
    """Return a new doc's logical slot (sha256 and version are set when it is committed)."""
    head = text_hash(fingerprint).ljust(16, b"\0") + bytes(32) + struct.pack(">HI", 0, indexed_at)
    return (head + signature_part(signature)).ljust(SLOT, b"\0")


def signature_part(signature: Signature | None) -> bytes:
    """Return the has-signature byte and the signature part of a slot."""
    if signature is None or len(signature) != SIG_BYTES:
        return b"\0" + bytes(SIG_BYTES)
    return b"\1" + signature


def decode_doc(
    doc: int,
    parts: tuple[bytes, bytes, bytes | None, bytes | None],
    now_ms: int,
    floor: int,
) -> Doc | None:
    """Return a doc from its (meta, signature, k: value, pend value); None if it is gone."""
    meta, sig_bytes, keyval, pend = parts
    if keyval is None or len(meta) != SIG_AT:
        return None
    signed = meta[HAS_AT] == 1 and doc >= floor and len(sig_bytes) == SIG_BYTES
    article_id, key = parse_key_value(keyval)
    state, owner = "c", ""
    if pend is not None:
        owner_b, _, deadline = pend.partition(b"\0")
        owner = owner_b.decode("utf-8")
        state = "p" if int(deadline) > now_ms else "x"
    version = struct.unpack(">H", meta[VER_AT:TIME_AT])[0]
    signature = sig_bytes if signed else None
    return Doc(
        doc, article_id, key, meta[:16], meta[SHA_AT:VER_AT], version, signature, state, owner
    )
