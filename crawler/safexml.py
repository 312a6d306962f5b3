"""Parse untrusted XML (feeds, sitemaps) without expanding entities or fetching anything."""

from __future__ import annotations

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
    errors = [
        f"line {entry.line}: {entry.message}"
        for entry in parser.error_log
        if entry.level >= etree.ErrorLevels.ERROR
    ]
    if root is None:
        errors = errors or ["no XML element found"]
    return XmlDocument(
        root, errors[:5] if len(errors) <= 5 else [*errors[:4], f"and {len(errors) - 4} more"]
    )


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
