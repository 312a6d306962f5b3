"""Backfill rules: which sitemaps fall in a ``--since/--until`` range (see DateRange).

A pure function, so the spider stays thin: the period a date-named sitemap file covers
(``sitemap-2019-11.xml``, ``/sitemaps/2019/11/05.xml``, ``news-20191105.xml``), so a
sitemap whose whole period is out of range is skipped without being fetched.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from urllib.parse import urlsplit

# Year, then month, then an optional day, separated by -, _, / or nothing, in the last
# path segments: "sitemap-2019-11.xml", "2019/11/05.xml", "news_20191105.xml.gz".
_PERIOD = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d\d)[-_/]?(?P<month>0[1-9]|1[0-2])"
    r"(?:[-_/]?(?P<day>0[1-9]|[12]\d|3[01]))?(?!\d)"
)


def sitemap_period(url: str) -> tuple[date, date] | None:
    """Return the days a date-named sitemap covers, or None when its name gives no date."""
    path = urlsplit(url).path
    tail = "/".join(path.rsplit("/", 3)[-3:])
    matches = list(_PERIOD.finditer(tail))
    if not matches:
        return None
    found = matches[-1]
    year, month = int(found["year"]), int(found["month"])
    if found["day"]:
        try:
            day = date(year, month, int(found["day"]))
        except ValueError:
            return None
        return day, day
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, last)
