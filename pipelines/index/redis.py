"""The dedup index in Redis: shared by N crawl workers, with atomic check-and-set.

Same lookups and records as ``state.StateIndex`` (``url``, ``text``, ``near_match``,
``article``, ``record_article``, ``record_urls``, ``validators``/``save_validators``,
``get_meta``/``set_meta``), plus what a single process does not need:

* ``claim_url``/``release_url``: one worker fetches a URL (``SET NX PX``; the claim
  expires when its worker dies);
* ``claim_original``/``commit_original``/``abandon_original``: one Lua script decides
  whether an article is new or a copy of an archived *or pending* one: same article id,
  same exact fingerprint, or a near-copy (``neardup.compare_many`` ported to Lua, over the
  signatures sharing an LSH bucket), and if new reserves its id, fingerprint and near-dup
  signature as *pending* with a deadline. The whole decision is one atomic script, so of
  N racing copies exactly one is ``mine``.

All keys of one archive start with ``wa:{<namespace>}:`` (the hash of the archive URI, in
a hash tag so they share one cluster slot), so several archives can share one Redis.

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
import json
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import redis

from pipelines.dedup.fingerprints import (
    BANDS,
    CONTAINMENT_MATCH,
    JACCARD_FLOOR,
    JACCARD_MATCH,
    Comparison,
    Signature,
    band_keys,
    compare_many,
    signature_of,
)
from pipelines.index.near import NearMatch, _pack_id, _pack_key, _unpack_id, _unpack_key
from pipelines.index.rejections import Rejection
from pipelines.index.sqlite import Known, text_hash, url_hash

SIG_BYTES = 340
SLOT = 396  # the logical slot: meta (55 B) then the signature, stored in two blocks
META = 56
PER_SIG = 48  # 48 x 340 = 16320 bytes: one 16 KiB allocation
PER_META = 6 * PER_SIG  # 288 x 56 = 16128 bytes; a signature block's docs share one
KEYS_PER_HASH = 128
TARGET_ENTRIES = 64
_FP, _SHA, _VER, _AT, _HAS, _SIG = 0, 16, 48, 50, 54, 55
_BODY = 4 + 4 * BANDS  # signature header: shingle count, LSH buckets

ClaimStatus = Literal["mine", "article", "exact", "near"]


def _lua(source: str) -> str:
    """Fill the layout constants into a Lua script."""
    for name, value in (
        ("PERM", PER_META),
        ("PERS", PER_SIG),
        ("META", META),
        ("SLOT", SLOT),
        ("KPH", KEYS_PER_HASH),
        ("SHA", _SHA),
        ("HAS", _HAS),
        ("AT", _AT),
        ("SIG", _SIG),
        ("SIGB", SIG_BYTES),
        ("BODY", _BODY),
    ):
        source = source.replace(f"@{name}@", str(value))
    return source


_LUA_COMMON = """
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function state(doc)
  local p = redis.call('HGET', prefix .. 'pend', doc)
  if not p then return 'c', '' end
  local sep = string.find(p, '\\0', 1, true)
  local owner = string.sub(p, 1, sep - 1)
  if tonumber(string.sub(p, sep + 1)) > now then return 'p', owner end
  return 'x', owner
end
local function block_write(k, per, size, index, offset, data)
  if redis.call('EXISTS', k) == 0 then redis.call('SET', k, string.rep('\\0', per * size)) end
  redis.call('SETRANGE', k, index * size + offset, data)
end
local function near_floor()
  return tonumber(redis.call('GET', prefix .. 'nf') or '0')
end
-- A logical slot (meta, then the signature) written at ``offset``: the meta part goes to
-- the doc's d: block, the signature part to its s: block (unless that block was pruned).
local function slot_write(doc, offset, data)
  local meta = string.sub(data, 1, math.max(0, @SIG@ - offset))
  if #meta > 0 then
    block_write(prefix .. 'd:' .. math.floor(doc / @PERM@), @PERM@, @META@, doc % @PERM@,
      offset, meta)
  end
  local sig = string.sub(data, #meta + 1, @SIG@ + @SIGB@ - offset)
  local blank = sig == string.rep('\\0', #sig)
  local k = prefix .. 's:' .. math.floor(doc / @PERS@)
  if #sig > 0 and doc >= near_floor() and not (blank and redis.call('EXISTS', k) == 0) then
    block_write(k, @PERS@, @SIGB@, doc % @PERS@, offset + #meta - @SIG@, sig)
  end
end
-- The logical slot of a doc; its signature reads as absent once pruned.
local function slot_read(doc)
  local off = (doc % @PERM@) * @META@
  local meta = redis.call('GETRANGE', prefix .. 'd:' .. math.floor(doc / @PERM@), off,
    off + @SIG@ - 1)
  if #meta < @SIG@ then return '' end
  if string.byte(meta, @HAS@ + 1) ~= 1 or doc < near_floor() then
    return string.sub(meta, 1, @HAS@) .. '\\0' .. string.rep('\\0', @SIGB@)
  end
  local soff = (doc % @PERS@) * @SIGB@
  local sig = redis.call('GETRANGE', prefix .. 's:' .. math.floor(doc / @PERS@), soff,
    soff + @SIGB@ - 1)
  if #sig < @SIGB@ then return string.sub(meta, 1, @HAS@) .. '\\0' .. string.rep('\\0', @SIGB@) end
  return meta .. sig
end
local function add_bands(doc, first, count, fields_at)
  for i = 0, count - 1 do
    local key, field = KEYS[first + i], ARGV[fields_at + i]
    local v = redis.call('HGET', key, field) or ''
    redis.call('HSET', key, field, v .. struct.pack('>I4', doc))
  end
end
local function new_doc(aidkey, aid, keyval, slot)
  local doc = redis.call('INCR', prefix .. 'seq')
  redis.call('HSET', aidkey, aid, doc)
  redis.call('HSET', prefix .. 'k:' .. math.floor(doc / @KPH@), doc, keyval)
  slot_write(doc, 0, slot)
  return doc
end
"""

# KEYS: aidkey, fpkey, band keys...; ARGV: prefix, aid, fp, keyval, slot, worker, ttl_ms,
# jaccard_match, containment_match, jaccard_floor, band fields...
_CLAIM = _lua(
    _LUA_COMMON
    + """
local aid, fp, keyval, slot, worker = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local JM, CM, JF = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local function size(sig)
  local a, b, c, d = string.byte(sig, 1, 4)
  return a + b * 256 + c * 65536 + d * 16777216
end
-- neardup.compare_many, the same arithmetic in doubles: Jaccard estimate over 4-bit codes
local function compare(x, y)
  local equal, both, either = 0, 0, 0
  for i = @BODY@ + 1, #x do
    local a, b = string.byte(x, i), string.byte(y, i)
    if a ~= 0 or b ~= 0 then
      local codes = {a % 16, b % 16, math.floor(a / 16), math.floor(b / 16)}
      for k = 1, 3, 2 do
        local p, q = codes[k], codes[k + 1]
        if p ~= 0 and q ~= 0 then
          both = both + 1
          if p == q then equal = equal + 1 end
        end
        if p ~= 0 or q ~= 0 then either = either + 1 end
      end
    end
  end
  local j = ((15 * equal - both) / 14) / math.max(either, 1)
  if j < 0 then j = 0 elseif j > 1 then j = 1 end
  local sa, sb = size(x), size(y)
  local c = 0
  if math.min(sa, sb) > 0 then c = math.min(1, j * (sa + sb) / (1 + j) / math.min(sa, sb)) end
  return j, (j >= JM) or (c >= CM and j >= JF)
end
local deadline = now + tonumber(ARGV[7])
local doc = redis.call('HGET', KEYS[1], aid)
if doc then
  local st, owner = state(doc)
  if st == 'c' then return {'article', doc, 0} end
  if st == 'p' then
    if owner ~= worker then return {'article', doc, 1} end
    redis.call('HSET', prefix .. 'pend', doc, worker .. '\\0' .. deadline)
    redis.call('ZADD', prefix .. 'pendz', deadline, doc)
    return {'mine', doc, 0}
  end
end
local fdoc = redis.call('HGET', KEYS[2], fp)
if fdoc then
  local st = state(fdoc)
  if st == 'c' then return {'exact', fdoc, 0} end
  if st == 'p' then return {'exact', fdoc, 1} end
end
if string.byte(slot, @HAS@ + 1) == 1 then
  local mine = string.sub(slot, @SIG@ + 1, @SIG@ + @SIGB@)
  local seen, best, best_j, best_p = {}, nil, -1, 0
  for i = 3, #KEYS do
    local v = redis.call('HGET', KEYS[i], ARGV[8 + i]) or ''
    for j = 1, #v, 4 do
      local cand = struct.unpack('>I4', v, j)
      if not seen[cand] then
        seen[cand] = true
        local st = state(tostring(cand))
        if st == 'c' or st == 'p' then
          local other = slot_read(cand)
          if #other > @SIG@ and string.byte(other, @HAS@ + 1) == 1 then
            local sim, match = compare(mine, string.sub(other, @SIG@ + 1, @SIG@ + @SIGB@))
            if match and sim > best_j then
              best, best_j, best_p = cand, sim, (st == 'p') and 1 or 0
            end
          end
        end
      end
    end
  end
  if best then return {'near', tostring(best), best_p, string.format('%.17g', best_j)} end
end
doc = new_doc(KEYS[1], aid, keyval, slot)
redis.call('HSET', KEYS[2], fp, doc)
add_bands(doc, 3, #KEYS - 2, 11)
redis.call('HSET', prefix .. 'pend', doc, worker .. '\\0' .. deadline)
redis.call('ZADD', prefix .. 'pendz', deadline, doc)
return {'mine', doc, 0}
"""
)

# KEYS: aidkey, url keys...; ARGV: prefix, aid, doc, sha, version, url fields...
_COMMIT = _lua(
    _LUA_COMMON
    + """
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
local doc = tonumber(ARGV[3])
slot_write(doc, @SHA@, ARGV[4] .. struct.pack('>I2', tonumber(ARGV[5])))
for i = 2, #KEYS do redis.call('HSETNX', KEYS[i], ARGV[4 + i], ARGV[3]) end
redis.call('HDEL', prefix .. 'pend', ARGV[3])
redis.call('ZREM', prefix .. 'pendz', ARGV[3])
return 1
"""
)

# KEYS: aidkey, fpkey, band keys...; ARGV: prefix, aid, fp, doc, mode, worker, band fields...
_DROP = _lua(
    _LUA_COMMON
    + """
local doc = ARGV[4]
local st, owner = state(doc)
if st == 'c' then return 0 end
if ARGV[5] == 'owner' and owner ~= ARGV[6] then return 0 end
if ARGV[5] == 'expired' and st ~= 'x' then return 0 end
if redis.call('HGET', KEYS[1], ARGV[2]) == doc then redis.call('HDEL', KEYS[1], ARGV[2]) end
if redis.call('HGET', KEYS[2], ARGV[3]) == doc then redis.call('HDEL', KEYS[2], ARGV[3]) end
local mine = struct.pack('>I4', tonumber(doc))
for i = 3, #KEYS do
  local v = redis.call('HGET', KEYS[i], ARGV[4 + i])
  if v then
    local kept = {}
    for j = 1, #v, 4 do
      local d = string.sub(v, j, j + 3)
      if d ~= mine then kept[#kept + 1] = d end
    end
    if #kept == 0 then redis.call('HDEL', KEYS[i], ARGV[4 + i])
    else redis.call('HSET', KEYS[i], ARGV[4 + i], table.concat(kept)) end
  end
end
redis.call('HDEL', prefix .. 'k:' .. math.floor(tonumber(doc) / @KPH@), doc)
slot_write(tonumber(doc), 0, string.rep('\\0', @SLOT@))
redis.call('HDEL', prefix .. 'pend', doc)
redis.call('ZREM', prefix .. 'pendz', doc)
return 1
"""
)

# KEYS: aidkey, fpkey, url keys (n), band keys...; ARGV: prefix, aid, fp, keyval, slot,
# sha, version, n, url fields (n), band fields...
_RECORD = _lua(
    _LUA_COMMON
    + """
local n = tonumber(ARGV[8])
local doc = redis.call('HGET', KEYS[1], ARGV[2])
if doc and state(doc) == 'x' then doc = nil end
if doc then
  doc = tonumber(doc)
else
  doc = new_doc(KEYS[1], ARGV[2], ARGV[4], ARGV[5])
  add_bands(doc, 3 + n, #KEYS - 2 - n, 9 + n)
end
slot_write(doc, @SHA@, ARGV[6] .. struct.pack('>I2', tonumber(ARGV[7])))
redis.call('HDEL', prefix .. 'pend', doc)
redis.call('ZREM', prefix .. 'pendz', doc)
redis.call('HSETNX', KEYS[2], ARGV[3], doc)
for i = 1, n do redis.call('HSETNX', KEYS[2 + i], ARGV[8 + i], doc) end
return doc
"""
)

# ARGV: prefix, cutoff (s), max blocks. Plans how far the near floor may rise: past whole
# signature blocks, oldest first, while every doc in the block was indexed before the
# cutoff. Returns {floor, new floor}; RedisIndex.prune_near does the rest.
_PLAN_FLOOR = _lua(
    """
local prefix, cutoff = ARGV[1], tonumber(ARGV[2])
local old = tonumber(redis.call('GET', prefix .. 'nf') or '0')
local floor = old
local seq = tonumber(redis.call('GET', prefix .. 'seq') or '0')
for _ = 1, tonumber(ARGV[3]) do
  local first = floor
  local last = first + @PERS@ - 1
  if last > seq then break end
  local off = (first % @PERM@) * @META@
  local metas = redis.call('GETRANGE', prefix .. 'd:' .. math.floor(first / @PERM@), off,
    off + @PERS@ * @META@ - 1)
  local newest = 0
  for i = 0, math.floor(#metas / @META@) - 1 do
    local at = struct.unpack('>I4', metas, i * @META@ + @AT@ + 1)
    if at > newest then newest = at end
  end
  if newest >= cutoff then break end
  floor = last + 1
end
return {old, floor}
"""
)

# KEYS: nf; ARGV: floor. The floor only rises (two workers may prune at once).
_SET_FLOOR = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""

# KEYS: band keys; ARGV: floor, band fields... Drops docs below the floor from the buckets.
_UNBAND = """
local floor = tonumber(ARGV[1])
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], ARGV[i + 1])
  if v then
    local kept = {}
    for j = 1, #v, 4 do
      if struct.unpack('>I4', v, j) >= floor then kept[#kept + 1] = string.sub(v, j, j + 3) end
    end
    if #kept == 0 then redis.call('HDEL', KEYS[i], ARGV[i + 1])
    elseif #kept * 4 < #v then redis.call('HSET', KEYS[i], ARGV[i + 1], table.concat(kept)) end
  end
end
return #KEYS
"""

_RELEASE_URL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Claim:
    """The outcome of ``claim_original``: ours to write, or the original it duplicates.

    ``status`` is ``"mine"`` (write it, then ``commit_original`` or ``abandon_original``),
    ``"article"`` (this article id is archived, or in flight with another worker when
    ``pending``), or ``"exact"``/``"near"`` (a copy of ``article_id``, archived or pending).
    """

    status: ClaimStatus
    article_id: str
    key: str
    similarity: float = 1.0
    pending: bool = False
    doc: int = 0
    fingerprint: str = ""
    signature: Signature | None = None
    worker: str = ""

    @property
    def mine(self) -> bool:
        """Tell whether the caller holds the claim."""
        return self.status == "mine"


@dataclass(frozen=True)
class _Doc:
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


def _bits(entries: float) -> int:
    return max(0, math.ceil(math.log2(max(1.0, entries / TARGET_ENTRIES))))


def _aid_field(article_id: str) -> bytes:
    packed = _pack_id(article_id)
    return packed if isinstance(packed, bytes) else b"=" + packed.encode("utf-8")


_TEXT_ID = 0x80  # in the length byte: the id is stored as text, not packed hex


def _key_value(article_id: str, key: str) -> bytes:
    # The length byte says which form the id has: a packed id may start with any byte,
    # "=" included, so its first byte cannot tell.
    packed_id = _pack_id(article_id)
    if isinstance(packed_id, bytes):
        head = bytes([len(packed_id)]) + packed_id
    else:
        text = packed_id.encode("utf-8")
        if len(text) >= _TEXT_ID:
            raise ValueError(f"article id too long for the Redis index: {article_id!r}")
        head = bytes([_TEXT_ID | len(text)]) + text
    packed = _pack_key(key, article_id)
    body = packed if isinstance(packed, bytes) else b"\0" + packed.encode("utf-8")
    return head + body


def _parse_key_value(value: bytes) -> tuple[str, str]:
    size = value[0] & ~_TEXT_ID
    aid_field = value[1 : 1 + size]
    body = value[1 + size :]
    article_id = aid_field.decode("utf-8") if value[0] & _TEXT_ID else _unpack_id(aid_field)
    key = body[1:].decode("utf-8") if body.startswith(b"\0") else _unpack_key(body, article_id)
    return article_id, key


def _band_field(bucket: int) -> bytes:
    return struct.pack(">i", bucket)


def _slot(fingerprint: str, signature: Signature | None, indexed_at: int) -> bytes:
    sig = signature if signature is not None and len(signature) == SIG_BYTES else None
    head = text_hash(fingerprint).ljust(16, b"\0") + bytes(32) + struct.pack(">HI", 0, indexed_at)
    body = b"\1" + sig if sig is not None else b"\0" + bytes(SIG_BYTES)
    return (head + body).ljust(SLOT, b"\0")


class RedisIndex:
    """The dedup index of one archive in Redis, shared by every worker of a crawl."""

    def __init__(
        self,
        client: redis.Redis | str,
        archive_uri: str,
        *,
        capacity: int = 1_000_000,
    ) -> None:
        self.r: redis.Redis = redis.Redis.from_url(client) if isinstance(client, str) else client
        self.prefix = f"wa:{{{namespace(archive_uri)}}}:"
        # The bucket counts are fixed by the first worker: all must hash fields alike.
        cfg = self.prefix + "cfg"
        self.r.hsetnx(cfg, "capacity", capacity)
        self.capacity = int(self.r.hget(cfg, "capacity") or capacity)
        self._bits = {
            "a": _bits(self.capacity),
            "t": _bits(self.capacity),
            "u": _bits(2 * self.capacity),
            "b": _bits(20 * self.capacity),
        }
        self._claim = self.r.register_script(_CLAIM)
        self._commit = self.r.register_script(_COMMIT)
        self._drop = self.r.register_script(_DROP)
        self._record = self.r.register_script(_RECORD)
        self._release_url = self.r.register_script(_RELEASE_URL)
        self._plan_floor = self.r.register_script(_PLAN_FLOOR)
        self._set_floor = self.r.register_script(_SET_FLOOR)
        self._unband = self.r.register_script(_UNBAND)

    def close(self) -> None:
        """Close the connection pool."""
        self.r.close()

    # -- key names -------------------------------------------------------------------------

    def _hkey(self, table: str, field: bytes) -> str:
        bits = self._bits[table]
        bucket = zlib.crc32(field) >> (32 - bits) if bits else 0
        return f"{self.prefix}{table}:{bucket}"

    def _slot_keys(self, doc: int) -> tuple[str, int, str, int]:
        """Return the doc's meta block and offset, and its signature block and offset."""
        return (
            f"{self.prefix}d:{doc // PER_META}",
            (doc % PER_META) * META,
            f"{self.prefix}s:{doc // PER_SIG}",
            (doc % PER_SIG) * SIG_BYTES,
        )

    def _keytab(self, doc: int) -> str:
        return f"{self.prefix}k:{doc // KEYS_PER_HASH}"

    def _band_args(self, signature: Signature | None) -> tuple[list[str], list[bytes]]:
        if signature is None or len(signature) != SIG_BYTES:
            return [], []
        fields = [_band_field(b) for b in dict.fromkeys(band_keys(signature))]
        return [self._hkey("b", f) for f in fields], fields

    def _url_args(self, urls: Iterable[str]) -> tuple[list[str], list[bytes]]:
        fields = [url_hash(url) for url in dict.fromkeys(urls) if url]
        return [self._hkey("u", f) for f in fields], fields

    # -- reading docs ----------------------------------------------------------------------

    def _docs(self, docs: Sequence[int]) -> list[_Doc]:
        """Read docs' slots, keys and pending state (unknown docs are left out)."""
        if not docs:
            return []
        pipe = self.r.pipeline(transaction=False)
        pipe.time()
        pipe.get(self.prefix + "nf")
        for doc in docs:
            meta_key, meta_at, sig_key, sig_at = self._slot_keys(doc)
            pipe.getrange(meta_key, meta_at, meta_at + _SIG - 1)
            pipe.getrange(sig_key, sig_at, sig_at + SIG_BYTES - 1)
            pipe.hget(self._keytab(doc), str(doc))
            pipe.hget(self.prefix + "pend", str(doc))
        out = pipe.execute()
        seconds, micros = out[0]
        now = seconds * 1000 + micros // 1000
        floor = int(out[1] or 0)
        found = []
        for i, doc in enumerate(docs):
            meta, sig_bytes, keyval, pend = out[2 + 4 * i : 6 + 4 * i]
            if keyval is None or len(meta) != _SIG:
                continue
            signed = meta[_HAS] == 1 and doc >= floor and len(sig_bytes) == SIG_BYTES
            slot = meta[:_HAS] + (b"\1" + sig_bytes if signed else bytes(1 + SIG_BYTES))
            article_id, key = _parse_key_value(keyval)
            state, owner = "c", ""
            if pend is not None:
                owner_b, _, deadline = pend.partition(b"\0")
                owner = owner_b.decode("utf-8")
                state = "p" if int(deadline) > now else "x"
            version = struct.unpack(">H", slot[_VER:_AT])[0]
            sig = slot[_SIG : _SIG + SIG_BYTES] if slot[_HAS] else None
            found.append(
                _Doc(doc, article_id, key, slot[:16], slot[_SHA:_VER], version, sig, state, owner)
            )
        return found

    def _doc_of(self, table: str, field: bytes) -> int | None:
        value = self.r.hget(self._hkey(table, field), field)
        return None if value is None else int(value)

    # -- lookups (archived articles only, as StateIndex) -----------------------------------

    def url(self, url: str) -> Known | None:
        """Return the article a URL belongs to, if the index knows the URL."""
        field = url_hash(url)
        value = cast("bytes | None", self.r.hget(self._hkey("u", field), field))
        if value is None:
            return None
        if value.startswith(b"="):
            aid, _, kind = value[1:].decode("utf-8").rpartition(":")
            return Known(aid, "", kind)
        doc, _, kind_b = value.partition(b":")
        kind = kind_b.decode("utf-8") or "article"
        found = self._docs([int(doc)])
        if not found:
            return None
        return Known(found[0].article_id, found[0].key, kind)

    def text(self, fingerprint: str) -> Known | None:
        """Return the archived article with this exact-text fingerprint, if any."""
        doc = self._doc_of("t", text_hash(fingerprint))
        found = self._docs([doc]) if doc is not None else []
        if not found or found[0].state != "c":
            return None
        return Known(found[0].article_id, found[0].key, "exact")

    def near_match(self, text: str, *, pending: bool = False) -> NearMatch | None:
        """Return the archived article (or, with ``pending``, in-flight claim) text copies."""
        sig = signature_of(text)
        if sig is None:
            return None
        best = self._near(sig, pending=pending)
        if best is None:
            return None
        return NearMatch(best[0].article_id, best[0].key, best[1].jaccard)

    def _near(
        self, sig: Signature, *, pending: bool, before: int | None = None
    ) -> tuple[_Doc, Comparison] | None:
        keys, fields = self._band_args(sig)
        if not keys:
            return None
        pipe = self.r.pipeline(transaction=False)
        for key, field in zip(keys, fields, strict=True):
            pipe.hget(key, field)
        docs: set[int] = set()
        for value in pipe.execute():
            if value:
                docs.update(struct.unpack(f">{len(value) // 4}I", value))
        if before is not None:
            docs = {d for d in docs if d < before}
        states = {"c", "p"} if pending else {"c"}
        candidates = [
            d for d in self._docs(sorted(docs)) if d.state in states and d.signature is not None
        ]
        best: tuple[_Doc, Comparison] | None = None
        sigs = [d.signature for d in candidates if d.signature is not None]
        for cand, result in zip(candidates, compare_many(sig, sigs), strict=True):
            if result.match and (best is None or result.jaccard > best[1].jaccard):
                best = (cand, result)
        return best

    def article(self, article_id: str) -> tuple[str, str, int] | None:
        """Return (key, content_sha256, versions) of an archived article."""
        doc = self._doc_of("a", _aid_field(article_id))
        found = self._docs([doc]) if doc is not None else []
        if not found or found[0].state != "c":
            return None
        return found[0].key, found[0].sha.hex(), found[0].version

    # -- records (after the archive write succeeded) ---------------------------------------

    def record_article(
        self,
        *,
        article_id: str,
        key: str,
        content_sha256: str,
        urls: Iterable[str],
        fingerprint: str,
        text: str,
        version: int = 1,
        signature: Signature | None = None,
    ) -> None:
        """Index an archived article: its URLs, its exact text, and its near-dup signature.

        ``signature``: the text's, when the caller made it already.
        """
        sig = None if version != 1 else signature or signature_of(text)
        aid = _aid_field(article_id)
        fp = text_hash(fingerprint)
        url_keys, url_fields = self._url_args(urls)
        band_keys_, band_fields = self._band_args(sig)
        now = int(self.r.time()[0])
        self._record(
            keys=[self._hkey("a", aid), self._hkey("t", fp), *url_keys, *band_keys_],
            args=[
                self.prefix,
                aid,
                fp,
                _key_value(article_id, key),
                _slot(fingerprint, sig, now),
                bytes.fromhex(content_sha256),
                version,
                len(url_keys),
                *url_fields,
                *band_fields,
            ],
        )

    def record_urls(self, urls: Iterable[str], article_id: str, kind: str) -> None:
        """Index URLs that lead to an archived article (duplicates, aliases)."""
        doc = self._doc_of("a", _aid_field(article_id))
        suffix = "" if kind == "article" else f":{kind}"
        value = f"={article_id}:{kind}" if doc is None else f"{doc}{suffix}"
        keys, fields = self._url_args(urls)
        pipe = self.r.pipeline(transaction=False)
        for key, field in zip(keys, fields, strict=True):
            pipe.hsetnx(key, field, value)
        pipe.execute()

    # -- the distributed life of an original ----------------------------------------------

    def claim_url(self, url: str, worker: str, ttl: float) -> bool:
        """Claim the fetch of a URL for ``ttl`` seconds; True if it is (now) ours."""
        key = f"{self.prefix}c:{url_hash(url).hex()}"
        if self.r.set(key, worker, nx=True, px=max(1, int(ttl * 1000))):
            return True
        return self.r.get(key) == worker.encode("utf-8")

    def release_url(self, url: str, worker: str) -> bool:
        """Drop a URL claim if it is still ours; True if dropped."""
        key = f"{self.prefix}c:{url_hash(url).hex()}"
        return bool(self._release_url(keys=[key], args=[worker]))

    def claim_original(  # noqa: PLR0917 (the StateIndex-style positional signature)
        self,
        article_id: str,
        key: str,
        fingerprint: str,
        signature: Signature | None,
        worker: str,
        ttl: float,
    ) -> Claim:
        """Atomically decide whether an article is new (``mine``) or a copy of another.

        A claim (``mine``) is pending for ``ttl`` seconds: other workers see it as an
        original, and past the deadline the next claimant takes it over. Near copies are
        are compared inside the same script (``neardup.compare_many`` ported to Lua) with
        the archived and live pending signatures sharing an LSH bucket.
        """
        aid = _aid_field(article_id)
        fp = text_hash(fingerprint)
        band_keys_, band_fields = self._band_args(signature)
        now = int(self.r.time()[0])
        reply = self._claim(
            keys=[self._hkey("a", aid), self._hkey("t", fp), *band_keys_],
            args=[
                self.prefix,
                aid,
                fp,
                _key_value(article_id, key),
                _slot(fingerprint, signature, now),
                worker,
                max(1, int(ttl * 1000)),
                repr(JACCARD_MATCH),
                repr(CONTAINMENT_MATCH),
                repr(JACCARD_FLOOR),
                *band_fields,
            ],
        )
        status = reply[0].decode("ascii")
        doc = int(reply[1])
        if status == "mine":
            return Claim("mine", article_id, key, 1.0, False, doc, fingerprint, signature, worker)
        found = self._docs([doc])
        other_id, other_key = (found[0].article_id, found[0].key) if found else ("", "")
        similarity = float(reply[3]) if len(reply) > 3 else 1.0
        return Claim(status, other_id, other_key, similarity, pending=bool(reply[2]), doc=doc)

    def commit_original(
        self, claim: Claim, *, content_sha256: str, urls: Iterable[str], version: int = 1
    ) -> bool:
        """Make a claim permanent after its archive write succeeded.

        False if the claim was lost (expired and taken over, or swept): then the
        article is recorded afresh, as the object is in the archive.
        """
        if not claim.mine:
            raise ValueError("not our claim")
        aid = _aid_field(claim.article_id)
        url_keys, url_fields = self._url_args(urls)
        done = self._commit(
            keys=[self._hkey("a", aid), *url_keys],
            args=[
                self.prefix,
                aid,
                str(claim.doc),
                bytes.fromhex(content_sha256),
                version,
                *url_fields,
            ],
        )
        if done:
            return True
        self._record_claim(claim, content_sha256, urls, version)
        return False

    def _record_claim(
        self, claim: Claim, content_sha256: str, urls: Iterable[str], version: int
    ) -> None:
        aid = _aid_field(claim.article_id)
        fp = text_hash(claim.fingerprint)
        url_keys, url_fields = self._url_args(urls)
        band_keys_, band_fields = self._band_args(claim.signature)
        now = int(self.r.time()[0])
        self._record(
            keys=[self._hkey("a", aid), self._hkey("t", fp), *url_keys, *band_keys_],
            args=[
                self.prefix,
                aid,
                fp,
                _key_value(claim.article_id, claim.key),
                _slot(claim.fingerprint, claim.signature, now),
                bytes.fromhex(content_sha256),
                version,
                len(url_keys),
                *url_fields,
                *band_fields,
            ],
        )

    def abandon_original(self, claim: Claim) -> bool:
        """Remove our pending claim after a failed write; True if it was still ours."""
        return self._drop_doc(
            claim.doc,
            article_id=claim.article_id,
            fingerprint=claim.fingerprint,
            signature=claim.signature,
            mode="owner",
            worker=claim.worker,
        )

    def _drop_doc(
        self,
        doc: int,
        *,
        article_id: str,
        fingerprint: str | bytes,
        signature: Signature | None,
        mode: str,
        worker: str,
    ) -> bool:
        aid = _aid_field(article_id)
        fp = fingerprint if isinstance(fingerprint, bytes) else text_hash(fingerprint)
        band_keys_, band_fields = self._band_args(signature)
        return bool(
            self._drop(
                keys=[self._hkey("a", aid), self._hkey("t", fp), *band_keys_],
                args=[self.prefix, aid, fp, str(doc), mode, worker, *band_fields],
            )
        )

    def sweep(self, limit: int = 1000) -> int:
        """Remove pending claims past their deadline (their workers died); return how many."""
        seconds, micros = self.r.time()
        now = seconds * 1000 + micros // 1000
        members = cast("list[bytes]", self.r.zrangebyscore(self.prefix + "pendz", 0, now, 0, limit))
        expired = [int(d) for d in members]
        removed = 0
        for doc in self._docs(expired):
            if doc.state == "x":
                removed += self._drop_doc(
                    doc.doc,
                    article_id=doc.article_id,
                    fingerprint=doc.fingerprint,
                    signature=doc.signature,
                    mode="expired",
                    worker="",
                )
        return removed

    def prune_near(self, days: float, *, now: float | None = None, max_blocks: int = 256) -> int:
        """Forget the near-duplicate signatures of docs indexed more than ``days`` ago.

        Docs are numbered in indexing order, so whole signature blocks go, oldest first:
        their docs leave the LSH buckets, the blocks are deleted, then the near floor is
        raised past them (lookups ignore older docs; a signature block that is gone reads
        as no signature, so a prune cut short is finished by the next). At most ``max_blocks``
        blocks a call (256: ~12k docs, about a second), so each run does a share. An old
        article keeps its URL and exact-text entries. Returns the floor.
        """
        seconds = float(self.r.time()[0]) if now is None else now
        cutoff = int(seconds - days * 86400)
        old, floor = (int(v) for v in self._plan_floor(args=[self.prefix, cutoff, max_blocks]))
        for block in range(old // PER_SIG, floor // PER_SIG):
            key = f"{self.prefix}s:{block}"
            data = cast("bytes | None", self.r.get(key)) or b""
            keys: list[str] = []
            fields: list[bytes] = []
            for at in range(0, len(data) - SIG_BYTES + 1, SIG_BYTES):
                band_keys_, band_fields = self._band_args(data[at : at + SIG_BYTES])
                keys += band_keys_
                fields += band_fields
            if keys:
                self._unband(keys=keys, args=[floor, *fields])
            self.r.delete(key)
        if floor > old:
            self._set_floor(keys=[self.prefix + "nf"], args=[floor])
        return floor

    def pending_count(self) -> int:
        """Return how many claims are pending (live or expired, not yet swept)."""
        return int(self.r.hlen(self.prefix + "pend"))

    # -- conditional GET and metadata ------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the (ETag, Last-Modified) last seen for a feed or sitemap URL."""
        value = self.r.hget(self.prefix + "v", url)
        if value is None:
            return None, None
        etag, modified = json.loads(value)
        return etag, modified

    def save_validators(self, entries: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Remember validators; the caller saves them only after a run that lost nothing."""
        pipe = self.r.pipeline(transaction=True)
        for url, etag, modified in entries:
            pipe.hset(self.prefix + "v", url, json.dumps([etag, modified]))
        pipe.execute()

    # -- pages rejected for a lasting reason (see pipelines/index/rejections.py) ---------------

    def rejection(self, url: str) -> Rejection | None:
        """Return what is remembered of a URL's last rejections, if any."""
        value = cast("bytes | None", self.r.hget(self.prefix + "rj", url_hash(url)))
        if value is None:
            return None
        reason, attempts, retry_at = value.decode("utf-8").split(" ")
        return Rejection(reason, int(attempts), float(retry_at))

    def record_rejection(self, url: str, rejection: Rejection) -> None:
        """Remember a URL's rejection until it may be asked for again."""
        value = f"{rejection.reason} {rejection.attempts} {rejection.retry_at:.0f}"
        self.r.hset(self.prefix + "rj", url_hash(url), value)

    def get_meta(self, name: str) -> str | None:
        """Return a metadata value."""
        value = cast("bytes | None", self.r.hget(self.prefix + "m", name))
        return None if value is None else value.decode("utf-8")

    def set_meta(self, name: str, value: str) -> None:
        """Set a metadata value."""
        self.r.hset(self.prefix + "m", name, value)
