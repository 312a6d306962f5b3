"""The headers that keep the archive's pages from acting in the app: CSP and friends.

The app's own pages run no script at all. An archived page is served from ``/raw/{id}``
under ``Content-Security-Policy: sandbox`` (no ``allow-*`` token: no scripts, no forms,
an opaque origin without cookies), and ``default-src 'none'`` so that nothing it refers
to is fetched from the live web; only its inline styles and ``data:`` images apply.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
RAW_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
COMMON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
RAW_HEADERS = {"content-security-policy": RAW_POLICY, "x-frame-options": "SAMEORIGIN"}


class SecurityHeaders:
    """ASGI middleware: the app's policy on every response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to each HTTP response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", APP_POLICY.encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                for name, value in COMMON_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
