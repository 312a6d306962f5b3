"""The web app: routes, static files and security headers over one archive reader."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from crawler.serve import api, pages
from crawler.serve.reader import ArchiveReader
from crawler.serve.security import SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"


def build_app(reader: ArchiveReader) -> Starlette:
    """Return the ASGI app serving an archive (read-only: only GET and HEAD are routed)."""
    app = Starlette(
        routes=[
            *api.ROUTES,
            *pages.ROUTES,
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.reader = reader
    return app
