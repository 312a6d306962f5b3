"""Open an archive for the web app, catch its search index up, and serve it with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Sequence

import uvicorn

from crawler.serve.app import build_app
from crawler.serve.reader import ArchiveReader
from crawler.sources import Source
from pipelines.archive.stores import Store, StoreError
from pipelines.search import SearchIndex

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# While it serves, the app catches the index up this often: runs keep adding articles (on
# S3, from other machines whose index it never sees). Listing a large archive has a cost,
# so not more often; the environment variable of the same name may change it.
CATCH_UP_INTERVAL_SECONDS = 300.0
CATCH_UP_ENV = "WIREARCHIVE_CATCH_UP_INTERVAL"


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
    stop = threading.Event()
    interval = float(os.environ.get(CATCH_UP_ENV) or CATCH_UP_INTERVAL_SECONDS)
    watcher = threading.Thread(
        target=keep_up, args=(reader, interval, stop), name="catch-up", daemon=True
    )
    watcher.start()
    try:
        uvicorn.Server(config).run()
    finally:
        stop.set()


def keep_up(reader: ArchiveReader, interval: float, stop: threading.Event) -> None:
    """Catch the index up every ``interval`` seconds until ``stop`` is set."""
    while not stop.wait(interval):
        try:
            report = reader.catch_up()
        except StoreError as err:
            # The archive may be briefly unreachable: the pages still answer from the index.
            logger.warning("catching the search index up failed: %s", err)
            continue
        if report.articles or report.copies:
            print(f"search index: {report.describe()}", flush=True)
