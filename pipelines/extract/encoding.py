"""Decode fetched HTML bytes to text, the way a browser would pick the charset."""

from __future__ import annotations

import codecs
import re

# Order of evidence (WHATWG "encoding sniffing", simplified): a byte order mark beats the
# HTTP header, which beats a <meta> declaration in the first bytes, which beats guessing.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
META_SNIFF_BYTES = 4096
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)

# Browsers decode these labels as windows-1252: pages that say latin-1 routinely contain
# curly quotes in 0x80-0x9F, which latin-1 would turn into control characters.
_WHATWG_ALIASES = {
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "windows-1252": "cp1252",
    "x-sjis": "shift_jis",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}


def _normalise(label: str) -> str | None:
    """Return a Python codec name for a declared charset label, or None when unknown."""
    label = label.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A document cannot really be UTF-16 if its <meta> was readable as ASCII; browsers
    # treat such declarations as UTF-8. Keep the rule for the header too: it's the same lie.
    if name.startswith("utf-16"):
        return "utf-8"
    return _WHATWG_ALIASES.get(name, name)


def _detect(body: bytes) -> str:
    """Guess the encoding of undeclared bytes: UTF-8 if valid, else a statistical guess."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        from charset_normalizer import from_bytes  # noqa: PLC0415 - optional dependency
    except ImportError:  # pragma: no cover - charset_normalizer ships with trafilatura
        return "cp1252"
    best = from_bytes(body).best()
    if best is None:
        return "cp1252"
    # When several code pages decode the bytes to the same text, take windows-1252, the
    # browsers' fallback for undeclared Western pages, over whichever one ranked first.
    if "cp1252" in best.could_be_from_charset:
        return "cp1252"
    return _normalise(best.encoding) or "cp1252"


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML body; return (text, encoding name). Never raises on bad bytes."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    encoding: str | None = None
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            encoding = _normalise(match.group(1))
    if encoding is None:
        match_b = _META_CHARSET.search(body[:META_SNIFF_BYTES])
        if match_b:
            encoding = _normalise(match_b.group(1).decode("ascii", errors="replace"))
    if encoding is None:
        encoding = _detect(body)
    elif encoding != "utf-8" and _is_utf8(body):
        # A legacy label on bytes that are valid UTF-8 with multi-byte characters is a
        # template's or server's default left in place (a GB2312 <meta> over UTF-8
        # Chinese, Apache's ISO-8859-1 over UTF-8 German): text in a legacy code page
        # almost never forms valid UTF-8 sequences throughout.
        encoding = "utf-8"
    return body.decode(encoding, errors="replace"), encoding


def _is_utf8(body: bytes) -> bool:
    """Tell whether the bytes hold non-ASCII characters and all of it is valid UTF-8."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
