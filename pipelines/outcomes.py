"""Every outcome a run counts: the stat names, the reasons, the counter API and its readers.

Components count through ``Counters`` (never ``stats.inc_value`` with a name of their own);
the run summary and the progress line read the counts back through the readers below.
The names are a contract: the run summary JSON and its tests are built from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# -- the stat names ------------------------------------------------------------------------

PAGES_FETCHED = "pages/fetched"
ARTICLE_LINKS = "discovery/article_links"
DISCOVERY = "discovery/"  # feeds, sitemaps, listings, not_modified, filtered, over_limit...
OUT_OF_RANGE = "backfill/out_of_range"
SITEMAPS_SKIPPED = "backfill/sitemaps_skipped"
REJECTED = "rejected/"  # + reason
DUPLICATES = "dedup/"  # + kind
DUPLICATE_KINDS = ("url", "exact", "near")
ARCHIVE = "archive/"  # + stored, unchanged, revised, spooled, failed
STORED = "archive/stored"
UNCHANGED = "archive/unchanged"
REVISED = "archive/revised"
SPOOLED = "archive/spooled"
WRITE_FAILED = "archive/failed"
LOCK_LOST_REFUSED = "archive/refused_lock_lost"  # not written: the run lock was lost
INCREMENTAL = "incremental/"  # + skipped, retry_later
SKIPPED = "incremental/skipped"
RETRY_LATER = "incremental/retry_later"
ALIASES = "incremental/aliases"
CLAIMED_ELSEWHERE = "incremental/claimed_elsewhere"
REDIRECTED_TO_FETCHED = "incremental/redirected_to_fetched"
ERRORS = "errors/"  # + feed, sitemap, listing, discovery_<reason>, state_sync...
STATE_SYNC = "state_sync"
FRONTIER_UNREACHABLE = "frontier_unreachable"
FRONTIER = "frontier/"  # + queued, popped, deferred, given_back, requeued, helper...
SOURCE = "source/"  # + name/outcome
# History backfills (backfill --from ccnews|wayback).
HISTORY = "history/"  # + the names below
HISTORY_FILES_LISTED = "history/files_listed"  # CC-NEWS files whose name-stamp is in range
HISTORY_FILES_DONE_BEFORE = "history/files_done_before"  # finished by an earlier run: skipped
HISTORY_FILES_CLAIMED_ELSEWHERE = "history/files_claimed_elsewhere"  # another worker scans it
HISTORY_FILES_SCANNED = "history/files_scanned"  # read to the end, every kept record settled
HISTORY_FILES_FAILED = "history/files_failed"  # unreadable or cut off: scanned again next run
HISTORY_BYTES = "history/bytes_scanned"  # compressed bytes of WARC read
HISTORY_RECORDS = "history/records_scanned"  # response records looked at
HISTORY_NAMELESS = "history/records_without_uri"  # unreadable headers: whose, unknown
HISTORY_OUT_OF_RANGE = "history/records_out_of_range"  # the source's, captured out of range
HISTORY_LISTING_FAILED = "history_listing"  # an error: the archive's listing could not be read
HISTORY_CAPTURES = "history/captures"  # records (CC-NEWS) or captures (CDX) sent to the pipeline

BAD_SCHEME = "bad_scheme"  # the reason a non-http(s) URL is dropped under
PROXY_REFUSED = "proxy_refused"  # the reason a request through an unallowed proxy is dropped

# Scrapy's own counters that the summary and the progress line read.
RETRIES = "retry/count"
URL_TOO_LONG_FILTERED = "urllength/request_ignored_count"
DUPEFILTER_FILTERED = "dupefilter/filtered"

# -- the reasons a page is rejected --------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """A rejection reason and how a later run treats the page."""

    name: str
    meaning: str
    transient: bool = False  # may pass on its own: fetch again next run, feed read whole
    lasting: bool = False  # says something about the page: asked again after a back-off


REASONS: dict[str, Reason] = {
    reason.name: reason
    for reason in (
        # Fetching (crawler/failures.py names them from the exception).
        Reason("timeout", "the download timed out", transient=True),
        Reason("dns_error", "the host name did not resolve", transient=True),
        Reason("connection_refused", "the server refused the connection", transient=True),
        Reason("connection_error", "the connection failed", transient=True),
        Reason("truncated", "the response was cut short", transient=True),
        Reason("download_failed", "the download failed", transient=True),
        Reason("download_error", "the download failed for another reason", transient=True),
        Reason("http_408", "the server timed out the request", transient=True),
        Reason("http_429", "the server asked us to slow down", transient=True),
        Reason("http_404", "no such page", lasting=True),
        Reason("http_410", "the page is gone", lasting=True),
        Reason("too_large", "the body is over DOWNLOAD_MAXSIZE", lasting=True),
        Reason("url_too_long", "the URL is over URLLENGTH_LIMIT", lasting=True),
        Reason("redirect_loop", "a redirect back into its own chain"),
        Reason("too_many_redirects", "more than REDIRECT_MAX_TIMES redirects"),
        Reason("robots_txt", "robots.txt forbids it"),
        Reason("blocked_address", "the host is a non-public address"),
        Reason("bad_scheme", "not an http(s) URL (file:, ftp:, data:...): never requested"),
        Reason("proxy_refused", "a proxy was configured but not allowed (WIREARCHIVE_ALLOW_PROXY)"),
        Reason("ignored", "a middleware dropped the request"),
        # Extraction (pipelines/extract/).
        Reason("not_html", "not an HTML page", lasting=True),
        Reason("no_body", "no article text found", lasting=True),
        Reason("too_short", "the text is too short for an article", lasting=True),
        Reason("error_page", "an error page served with 200", lasting=True),
        Reason("paywall", "a paywalled teaser", lasting=True),
        Reason("video_only", "a video page without a story", lasting=True),
        Reason("not_article", "a page that is not an article", lasting=True),
        Reason("wrong_language", "not in the source's language", lasting=True),
        Reason("out_of_range", "published outside the backfill range"),
        Reason("extractor_crashed", "the extraction worker died"),
        # History records skipped before the pipeline (a record's status is http_NNN).
        Reason("record_truncated", "a history record cut short (WARC-Truncated, or the file ends)"),
        Reason("record_unreadable", "a history record whose bytes are not an HTTP response"),
    )
}
TRANSIENT_REASONS = frozenset(name for name, reason in REASONS.items() if reason.transient)
LASTING_REASONS = frozenset(name for name, reason in REASONS.items() if reason.lasting)


def http_reason(status: int) -> str:
    """Return the reason a page answered with an error status is counted under."""
    return f"http_{status}"


def is_transient(reason: str) -> bool:
    """Tell whether a failure reason may go away on its own (5xx, timeouts, network)."""
    return reason in TRANSIENT_REASONS or reason.startswith("http_5")


def is_lasting(reason: str) -> bool:
    """Tell whether a rejection reason is worth remembering, to ask again only later."""
    return reason in LASTING_REASONS


# -- counting --------------------------------------------------------------------------------


class Stats(Protocol):
    """The part of Scrapy's StatsCollector that counting needs."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to a stat."""


class Counters:
    """Count a run's outcomes in Scrapy's stats, each under its name above."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def _inc(self, key: str, count: int = 1) -> None:
        self.stats.inc_value(key, count)

    def _source(self, source: str | None, outcome: str) -> None:
        if source:
            self._inc(f"{SOURCE}{source}/{outcome}")

    # Pages and their fates.
    def fetched(self, source: str | None) -> None:
        """Count an article page that came back from its server."""
        self._inc(PAGES_FETCHED)
        self._source(source, "fetched")

    def rejected(self, source: str | None, reason: str) -> None:
        """Count a page that holds no article to archive, under its reason."""
        self._inc(REJECTED + reason)
        self._source(source, "rejected")

    def duplicate(self, source: str | None, kind: str) -> None:
        """Count a page recorded as a ``url``, ``exact`` or ``near`` duplicate."""
        self._inc(DUPLICATES + kind)
        self._source(source, "duplicates")

    def archived(self, source: str | None, outcome: str) -> None:
        """Count an article written: ``stored``, ``revised``, or ``unchanged`` (already there)."""
        self._inc(ARCHIVE + outcome)
        self._source(source, outcome)

    def stored(self, source: str | None) -> None:
        """Count a new article archived."""
        self.archived(source, "stored")

    def unchanged(self, source: str | None) -> None:
        """Count a re-fetched article whose text is already archived."""
        self.archived(source, "unchanged")

    def spooled(self, source: str | None) -> None:
        """Count a page kept in the local spool while the archive is unavailable."""
        self.archived(source, "spooled")

    def refused_lock_lost(self) -> None:
        """Count a write refused because the run lost its lock (the page is not done)."""
        self._inc(LOCK_LOST_REFUSED)

    def write_failed(self) -> None:
        """Count an archive write that neither succeeded nor was spooled."""
        self._inc(WRITE_FAILED)

    # Requests not made.
    def needless(self, source: str | None, why: str) -> None:
        """Count a listed URL not requested: ``skipped`` (known) or ``retry_later``."""
        self._inc(INCREMENTAL + why)
        self._source(source, why)

    def alias(self) -> None:
        """Count a URL whose canonical form another request of this run asked for."""
        self._inc(ALIASES)

    def claimed_elsewhere(self) -> None:
        """Count a URL another worker is fetching (distributed mode)."""
        self._inc(CLAIMED_ELSEWHERE)

    def redirected_to_fetched(self) -> None:
        """Count a redirect to a page this run fetched already."""
        self._inc(REDIRECTED_TO_FETCHED)

    # Discovery.
    def discovered(self, kind: str, count: int = 1) -> None:
        """Count a discovery event: ``feeds``, ``sitemaps``, ``listings``, ``filtered``..."""
        self._inc(DISCOVERY + kind, count)

    def not_modified(self, source: str | None) -> None:
        """Count a discovery document that answered 304 Not Modified."""
        self.discovered("not_modified")
        self._source(source, "not_modified")

    def listed(self, source: str | None) -> None:
        """Count an article link taken from a discovery document (or a --urls list)."""
        self._inc(ARTICLE_LINKS)
        self._source(source, "links")

    def out_of_range(self) -> None:
        """Count a listed link dated outside a backfill's range."""
        self._inc(OUT_OF_RANGE)

    def sitemap_skipped(self) -> None:
        """Count a child sitemap whose period is outside a backfill's range."""
        self._inc(SITEMAPS_SKIPPED)

    def discovery_error(self, source: str | None, kind: str) -> None:
        """Count a problem in a ``feed``, ``sitemap`` or ``listing`` document."""
        self.error(kind)
        self._source(source, "discovery_errors")

    def discovery_failed(self, source: str | None, reason: str) -> None:
        """Count a discovery document that could not be fetched, under its reason."""
        self.error(f"discovery_{reason}")
        self._source(source, "discovery_errors")

    # History backfills.
    def history(self, name: str, count: int = 1) -> None:
        """Count a history backfill event (one of the HISTORY_* names)."""
        self._inc(name, count)

    # Errors and the shared frontier.
    def error(self, name: str) -> None:
        """Count an error of the run itself (the summary lists them)."""
        self._inc(ERRORS + name)

    def frontier(self, event: str, count: int = 1) -> None:
        """Count a shared-frontier event: ``queued``, ``popped``, ``given_back``..."""
        self._inc(FRONTIER + event, count)


# -- reading -----------------------------------------------------------------------------


def value(stats: Mapping[str, Any], key: str) -> int:
    """Return one counter (0 when never counted)."""
    return int(stats.get(key, 0))


def prefixed(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    """Return the counters under ``prefix``, by the rest of their name, sorted."""
    return {
        key[len(prefix) :]: int(count)
        for key, count in sorted(stats.items())
        if key.startswith(prefix) and isinstance(count, int)
    }


def rejected_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Return the rejected pages by reason, Scrapy's URL length filter included."""
    rejected = prefixed(stats, REJECTED)
    # Scrapy's URL length filter drops over-long URLs before any middleware of ours sees them.
    too_long = value(stats, URL_TOO_LONG_FILTERED)
    if too_long:
        rejected["url_too_long"] = rejected.get("url_too_long", 0) + too_long
    return dict(sorted(rejected.items()))


def rejected_total(stats: Mapping[str, Any]) -> int:
    """Return how many pages were rejected: the sum of ``rejected_counts``, as the summary."""
    return sum(rejected_counts(stats).values())


def duplicate_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Return the duplicates by kind: ``url``, ``exact`` and ``near``, zeros included."""
    return {kind: value(stats, DUPLICATES + kind) for kind in DUPLICATE_KINDS}


def duplicate_total(stats: Mapping[str, Any]) -> int:
    """Return how many duplicates were recorded, of any kind."""
    return sum(prefixed(stats, DUPLICATES).values())


def error_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Return the run's errors by name."""
    return prefixed(stats, ERRORS)


def discovery_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Return the discovery counters by name."""
    return prefixed(stats, DISCOVERY)


def frontier_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Return the shared-frontier counters, claims lost to other workers included."""
    frontier = prefixed(stats, FRONTIER)
    claimed = value(stats, CLAIMED_ELSEWHERE)
    if claimed:
        frontier["claimed_elsewhere"] = claimed
    return frontier


def history_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Return a history backfill's counters by name (files, records, bytes)."""
    return prefixed(stats, HISTORY)


def per_source(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Return each source's counters by outcome."""
    table: dict[str, dict[str, int]] = {}
    for rest, count in prefixed(stats, SOURCE).items():
        name, _, outcome = rest.partition("/")
        table.setdefault(name, {})[outcome] = count
    return table
