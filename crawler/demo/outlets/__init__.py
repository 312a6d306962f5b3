"""The demo site's outlets, one module each: URLs, page templates, furniture and discovery."""

from crawler.demo.outlets.lahoreledger import LahoreLedger
from crawler.demo.outlets.metroobserver import MetroObserver
from crawler.demo.outlets.outlet import Outlet, OutletBuild, Placement
from crawler.demo.outlets.wiredaily import WireDaily

OUTLETS: tuple[type[Outlet], ...] = (WireDaily, LahoreLedger, MetroObserver)

__all__ = [
    "OUTLETS",
    "LahoreLedger",
    "MetroObserver",
    "Outlet",
    "OutletBuild",
    "Placement",
    "WireDaily",
]
