"""Log lines that name an item by its URL and never print it whole (bodies hold anything)."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure

ITEM_FIELDS = ("source", "url")  # what a log line says about an item


def item_label(item: Any) -> str:
    """Return a short name for an item: its class, source and URL, never its body."""
    fields = {name: getattr(item, name, None) for name in ITEM_FIELDS}
    named = " ".join(f"{name}={value}" for name, value in fields.items() if value is not None)
    return f"<{type(item).__name__} {named}>".replace(" >", ">")


class QuietLogFormatter(LogFormatter):
    """Scrapy's log formatter with every item replaced by its label (LOG_FORMATTER)."""

    def scraped(
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        """Log a scraped item by its label."""
        return super().scraped(item_label(item), response, spider)

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        """Log a dropped item by its label: a page's body may hold secrets (/proc, .env)."""
        return super().dropped(item_label(item), exception, response, spider)

    def item_error(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        """Log an item that failed in a pipeline by its label."""
        return super().item_error(item_label(item), exception, response, spider)
