"""Compact forms of article ids and archive keys, shared by the SQLite and Redis indexes.

A lowercase hex article id is stored as bytes (half the size); an archive key
``articles/{path}/{article id}{suffix}`` as the bytes ``{path}`` (suffix ``.json``) or
``{path}\\0{suffix}``. Anything else is kept verbatim, as text, so both decode losslessly.
"""

from __future__ import annotations

KEY_PREFIX = "articles/"
KEY_SUFFIX = ".json"


def pack_id(article_id: str) -> str | bytes:
    """Return a lowercase hex id as bytes (article ids are 20 hex chars), anything else as is."""
    try:
        packed = bytes.fromhex(article_id)
    except ValueError:
        return article_id
    return packed if packed.hex() == article_id else article_id


def unpack_id(stored: str | bytes) -> str:
    """Return the article id that ``pack_id`` stored."""
    return stored.hex() if isinstance(stored, bytes) else stored


def pack_key(key: str, article_id: str) -> str | bytes:
    """Return ``articles/{path}/{article_id}{suffix}`` as ``{path}[\\0{suffix}]``, else as is."""
    if not article_id or not key.startswith(KEY_PREFIX) or "\0" in key:
        return key
    path, found, suffix = key[len(KEY_PREFIX) :].rpartition(f"/{article_id}")
    if not found:
        return key
    return (path if suffix == KEY_SUFFIX else f"{path}\0{suffix}").encode("utf-8")


def unpack_key(stored: str | bytes, article_id: str) -> str:
    """Return the archive key that ``pack_key`` stored for ``article_id``."""
    if isinstance(stored, str):
        return stored
    path, found, suffix = stored.decode("utf-8").partition("\0")
    return f"{KEY_PREFIX}{path}/{article_id}{suffix if found else KEY_SUFFIX}"
