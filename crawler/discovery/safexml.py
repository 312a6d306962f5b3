"""Parse untrusted XML (feeds, sitemaps) without expanding entities or fetching anything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

# A feed is hostile until proven otherwise: no entity expansion (billion laughs), no DTD,
# no network (XXE), and recover mode so a truncated or sloppy document still yields its
# parseable part instead of nothing.
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "huge_tree": False,
    "recover": True,
    "remove_comments": True,
    "remove_pis": True,
}


@dataclass
class XmlDocument:
    """The root of a parsed document (None when nothing was parseable) and its errors."""

    root: Any
    errors: list[str] = field(default_factory=list)


def parse_xml(body: bytes) -> XmlDocument:
    """Parse untrusted XML; report well-formedness errors instead of raising."""
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    if not body.strip():
        return XmlDocument(None, ["empty document"])
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as err:
        return XmlDocument(None, [f"not XML: {err}"])
    errors = _errors(parser.error_log)
    if root is None:
        errors = errors or ["no XML element found"]
    return XmlDocument(root, errors)


def _errors(error_log: Any) -> list[str]:
    """Return a parser's errors as at most five readable lines."""
    errors = [
        f"line {entry.line}: {entry.message}"
        for entry in error_log
        if entry.level >= etree.ErrorLevels.ERROR
    ]
    return errors[:5] if len(errors) <= 5 else [*errors[:4], f"and {len(errors) - 4} more"]


STREAM_CHUNK = 64 * 1024


@dataclass
class XmlStream:
    """A document read piece by piece: its root's local name once known, and its errors."""

    root_name: str | None = None
    errors: list[str] = field(default_factory=list)


def iter_entries(body: bytes, stream: XmlStream) -> Iterator[Any]:
    """Yield each complete child of the root element, then discard it (bounded memory).

    The same hostile-input options as ``parse_xml``; the tree never holds more than the
    entry being read, so a 50,000-URL sitemap costs what one ``<url>`` costs. The caller
    must be done with an entry before asking for the next. ``stream`` receives the root's
    local name as soon as it is read, and the errors once the document is exhausted.
    """
    if not body.strip():
        stream.errors.append("empty document")
        return
    parser = etree.XMLPullParser(events=("start", "end"), **_PARSER_OPTIONS)
    depth = 0
    complete = False
    try:
        for offset in range(0, len(body) + 1, STREAM_CHUNK):
            if offset < len(body):
                parser.feed(body[offset : offset + STREAM_CHUNK])
            else:
                parser.close()
            for event, element in parser.read_events():
                if event == "start":
                    depth += 1
                    if depth == 1:
                        stream.root_name = local_name(element) or str(element.tag)
                    continue
                depth -= 1
                complete = depth == 0 and offset < len(body)
                if depth != 1:
                    continue
                yield element
                # Drop what was read: this entry's content and the entries before it.
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as err:
        stream.errors.append(f"not XML: {err}")
        return
    stream.errors.extend(_errors(parser.error_log))
    if stream.root_name is not None and not complete:
        stream.errors.append(f"truncated: the document ends inside <{stream.root_name}>")
    if stream.root_name is None and not stream.errors:
        stream.errors.append("no XML element found")


def local_name(element: Any) -> str:
    """Return an element's tag without its namespace, lower-cased ('' for entities etc.)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def children(element: Any, name: str) -> list[Any]:
    """Return the direct children whose local name is ``name``, in any namespace."""
    return [child for child in element if local_name(child) == name]


def child_text(element: Any, *names: str) -> str | None:
    """Return the stripped text of the first direct child named one of ``names``."""
    for name in names:
        for child in children(element, name):
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


def parse_date(value: str | None) -> datetime | None:
    """Parse a feed or sitemap date (ISO 8601 / W3C, or RFC 822) into an aware UTC datetime."""
    if not value:
        return None
    text = value.strip()
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:  # the contract: a date without a zone is UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
