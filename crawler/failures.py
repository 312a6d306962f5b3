"""Name the reason a request ended without a page (pipelines/outcomes.py lists them)."""

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

from crawler.downloadermiddlewares.redirect_loop import RedirectLoop
from pipelines.outcomes import http_reason

# A signal the spider sends when an article request ends without a page, with
# ``request`` and ``transient`` (a passing failure, worth fetching again later).
article_failed = object()


# Checked in order: the first matching class names the reason.
EXCEPTION_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadTimeoutError, "timeout"),
    (TimeoutError, "timeout"),
    (RedirectLoop, "redirect_loop"),
    (DownloadCancelledError, "too_large"),
    (CannotResolveHostError, "dns_error"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (ResponseDataLossError, "truncated"),
    (DownloadFailedError, "download_failed"),
    (ConnectionError, "connection_error"),
)


def _ignored_reason(error: IgnoreRequest) -> str:
    """Name the reason behind Scrapy's own IgnoreRequest, which it only says in words."""
    cause = error.__cause__
    message = str(error)
    # HttpCompressionMiddleware: a content-coding bomb (or a page that inflates past
    # DOWNLOAD_MAXSIZE) is the same outcome as a body that streams past it.
    if type(cause).__name__ == "_DecompressionMaxSizeExceeded" or (
        "DOWNLOAD_MAXSIZE" in message and "decompression" in message
    ):
        return "too_large"
    if message == "max redirections reached":  # RedirectMiddleware, REDIRECT_MAX_TIMES
        return "too_many_redirects"
    return "ignored"


def failure_reason(error: BaseException) -> str:
    """Return the snake_case reason a failed request is counted under."""
    if isinstance(error, HttpError):
        return http_reason(error.response.status)
    for exception_type, reason in EXCEPTION_REASONS:
        if isinstance(error, exception_type):
            return reason
    if isinstance(error, IgnoreRequest):
        return _ignored_reason(error)
    return "download_error"
