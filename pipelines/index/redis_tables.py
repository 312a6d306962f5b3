"""The tables of one archive's Redis index: key names, doc slots, and removing a doc.

All keys of one archive start with ``wa:{<namespace>}:`` (the hash of the archive URI, in
a hash tag so they share one cluster slot), so several archives can share one Redis.
``redis_codec.py`` describes what each key holds.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import redis

from pipelines.archive.stores import Store
from pipelines.dedup.fingerprints import Signature, band_keys
from pipelines.index.base import text_hash, url_hash
from pipelines.index.redis_codec import (
    KEYS_PER_HASH,
    META,
    PER_META,
    PER_SIG,
    SIG_AT,
    SIG_BYTES,
    Doc,
    aid_field,
    band_field,
    decode_doc,
    key_value,
    namespace,
    slot,
    table_bits,
)
from pipelines.index.redis_scripts import register_scripts


class RedisTables:
    """Key names and doc slots of one archive in Redis; the index is built on them."""

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
            "a": table_bits(self.capacity),
            "t": table_bits(self.capacity),
            "u": table_bits(2 * self.capacity),
            "b": table_bits(20 * self.capacity),
        }
        self._scripts = register_scripts(self.r)

    def save(self, store: Store, *, rebuild: bool = False) -> None:
        """Nothing to save: every change is in Redis the moment it is made."""

    def close(self) -> None:
        """Close the connection pool."""
        self.r.close()

    # -- key names -------------------------------------------------------------------------

    def _hkey(self, table: str, field: bytes) -> str:
        bits = self._bits[table]
        bucket = zlib.crc32(field) >> (32 - bits) if bits else 0
        return f"{self.prefix}{table}:{bucket}"

    def _hkeys(self, table: str) -> list[str]:
        """Return every bucket key of a table."""
        return [f"{self.prefix}{table}:{bucket}" for bucket in range(1 << self._bits[table])]

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
        fields = [band_field(b) for b in dict.fromkeys(band_keys(signature))]
        return [self._hkey("b", f) for f in fields], fields

    def _url_args(self, urls: Iterable[str]) -> tuple[list[str], list[bytes]]:
        fields = [url_hash(url) for url in dict.fromkeys(urls) if url]
        return [self._hkey("u", f) for f in fields], fields

    # -- reading docs ----------------------------------------------------------------------

    def _docs(self, docs: Sequence[int]) -> list[Doc]:
        """Read docs' slots, keys and pending state (unknown docs are left out)."""
        if not docs:
            return []
        pipe = self.r.pipeline(transaction=False)
        pipe.time()
        pipe.get(self.prefix + "nf")
        for doc in docs:
            meta_key, meta_at, sig_key, sig_at = self._slot_keys(doc)
            pipe.getrange(meta_key, meta_at, meta_at + SIG_AT - 1)
            pipe.getrange(sig_key, sig_at, sig_at + SIG_BYTES - 1)
            pipe.hget(self._keytab(doc), str(doc))
            pipe.hget(self.prefix + "pend", str(doc))
        out = pipe.execute()
        seconds, micros = out[0]
        now = seconds * 1000 + micros // 1000
        floor = int(out[1] or 0)
        found = []
        for i, doc in enumerate(docs):
            meta, sig, keyval, pend = out[2 + 4 * i : 6 + 4 * i]
            decoded = decode_doc(doc, (meta, sig, keyval, pend), now, floor)
            if decoded is not None:
                found.append(decoded)
        return found

    def _doc_of(self, table: str, field: bytes) -> int | None:
        value = self.r.hget(self._hkey(table, field), field)
        return None if value is None else int(value)

    # -- writing and removing a doc --------------------------------------------------------

    def _record(
        self,
        article_id: str,
        key: str,
        fingerprint: str,
        signature: Signature | None,
        *,
        content_sha256: str,
        urls: Iterable[str],
        version: int,
    ) -> None:
        """Index an archived article: a new doc, or the revision of a known one."""
        aid = aid_field(article_id)
        fp = text_hash(fingerprint)
        url_keys, url_fields = self._url_args(urls)
        band_keys_, band_fields = self._band_args(signature)
        now = int(self.r.time()[0])
        self._scripts["record_article"](
            keys=[self._hkey("a", aid), self._hkey("t", fp), *url_keys, *band_keys_],
            args=[
                self.prefix,
                aid,
                fp,
                key_value(article_id, key),
                slot(fingerprint, signature, now),
                bytes.fromhex(content_sha256),
                version,
                len(url_keys),
                *url_fields,
                *band_fields,
            ],
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
        """Remove a doc (``mode``: see lua/drop_doc.lua); True if it was removed."""
        aid = aid_field(article_id)
        fp = fingerprint if isinstance(fingerprint, bytes) else text_hash(fingerprint)
        band_keys_, band_fields = self._band_args(signature)
        return bool(
            self._scripts["drop_doc"](
                keys=[self._hkey("a", aid), self._hkey("t", fp), *band_keys_],
                args=[self.prefix, aid, fp, str(doc), mode, worker, *band_fields],
            )
        )
