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

# A signal the spider sends when an article request ends without a page, with
# ``request`` and ``transient`` (a passing failure, worth fetching again later).
article_failed = object()


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL the same request already went through."""


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
        return f"http_{error.response.status}"
    for exception_type, reason in EXCEPTION_REASONS:
        if isinstance(error, exception_type):
            return reason
    if isinstance(error, IgnoreRequest):
        return _ignored_reason(error)
    return "download_error"


# Reasons a later run may see differently; a page that failed so must be retried, so the
# feed that listed it is fetched in full again next time (no conditional GET).
TRANSIENT_REASONS = frozenset(
    {"timeout", "dns_error", "connection_refused", "connection_error", "truncated"}
    | {"download_failed", "download_error", "http_408", "http_429"}
)


def is_transient(reason: str) -> bool:
    """Tell whether a failure reason may go away on its own (5xx, timeouts, network)."""
    return reason in TRANSIENT_REASONS or reason.startswith("http_5")
