"""The bundled demo wire site: three outlets, syndicated wire stories, and their ground truth."""

from crawler.demo.model import DemoArticle, DemoDocument, DemoReject, DemoSource, HardNegative
from crawler.demo.site import DemoSite, start_demo_site

__all__ = [
    "DemoArticle",
    "DemoDocument",
    "DemoReject",
    "DemoSite",
    "DemoSource",
    "HardNegative",
    "start_demo_site",
]
