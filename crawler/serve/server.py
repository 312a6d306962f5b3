"""Open an archive for the web app, catch its search index up, and serve it with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

import uvicorn

from crawler.serve.app import build_app
from crawler.serve.reader import ArchiveReader
from crawler.sources import Source
from pipelines.archive.stores import Store
from pipelines.search import SearchIndex

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def open_reader(store: Store, sources: Sequence[Source] | None = None) -> ArchiveReader:
    """Open an archive's search index and bring it up to date with the archive."""
    reader = ArchiveReader(store, SearchIndex.for_store(store), list(sources) if sources else None)
    report = reader.catch_up()
    print(f"search index {reader.index.path}: {report.describe()}", flush=True)
    return reader


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(reader: ArchiveReader, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the app until interrupted (SIGINT or SIGTERM)."""
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {reader.store.uri} at http://{shown}:{port}/ (Ctrl-C stops)", flush=True)
    if not _loopback(host):
        # The app has no login: anyone who reaches the address reads the whole archive.
        print(f"warning: {host} is not a loopback address; the archive is open to the network")
    config = uvicorn.Config(
        build_app(reader), host=host, port=port, log_level="warning", server_header=False
    )
    uvicorn.Server(config).run()
