"""Serve the demo wire site until interrupted: ``python -m crawler.demo``, to browse it."""

from __future__ import annotations

import threading

from crawler.demo.site import start_demo_site


def main() -> None:
    """Start the outlets, print their addresses and a matching sources.yaml, and wait."""
    site = start_demo_site()
    try:
        for name, server in site.servers.items():
            print(f"{name:<14} {server.base_url}/")
        print(site.sources_yaml())
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    main()
