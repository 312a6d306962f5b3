"""Name the reason a request ended without a page, for the rejected counters."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError

# Checked in order: the first matching class names the reason.
EXCEPTION_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadTimeoutError, "timeout"),
    (TimeoutError, "timeout"),
    (DownloadCancelledError, "too_large"),
    (CannotResolveHostError, "dns_error"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (ResponseDataLossError, "truncated"),
    (DownloadFailedError, "download_failed"),
    (ConnectionError, "connection_error"),
)


def failure_reason(error: BaseException) -> str:
    """Return the snake_case reason a failed request is counted under."""
    if isinstance(error, HttpError):
        return f"http_{error.response.status}"
    for exception_type, reason in EXCEPTION_REASONS:
        if isinstance(error, exception_type):
            return reason
    if isinstance(error, IgnoreRequest):
        return "ignored"
    return "download_error"
