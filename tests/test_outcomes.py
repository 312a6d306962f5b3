"""Outcomes are counted through one API, under the names the summary reads back."""

from collections.abc import Callable

import pytest

from crawler.downloadermiddlewares.redirect_loop import RedirectLoop
from crawler.failures import EXCEPTION_REASONS, failure_reason
from pipelines import outcomes
from pipelines.outcomes import Counters


class DictStats:
    """The counting half of Scrapy's StatsCollector, over a dict."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (lambda c: c.fetched("ap"), {"pages/fetched": 1, "source/ap/fetched": 1}),
        (lambda c: c.fetched(None), {"pages/fetched": 1}),
        (
            lambda c: c.rejected("ap", "http_404"),
            {"rejected/http_404": 1, "source/ap/rejected": 1},
        ),
        (lambda c: c.rejected(None, "blocked_address"), {"rejected/blocked_address": 1}),
        (lambda c: c.duplicate("ap", "near"), {"dedup/near": 1, "source/ap/duplicates": 1}),
        (lambda c: c.duplicate("ap", "url"), {"dedup/url": 1, "source/ap/duplicates": 1}),
        (lambda c: c.stored("ap"), {"archive/stored": 1, "source/ap/stored": 1}),
        (lambda c: c.unchanged("ap"), {"archive/unchanged": 1, "source/ap/unchanged": 1}),
        (
            lambda c: c.archived("ap", "revised"),
            {"archive/revised": 1, "source/ap/revised": 1},
        ),
        (lambda c: c.spooled("ap"), {"archive/spooled": 1, "source/ap/spooled": 1}),
        (lambda c: c.write_failed(), {"archive/failed": 1}),
        (
            lambda c: c.needless("ap", "skipped"),
            {"incremental/skipped": 1, "source/ap/skipped": 1},
        ),
        (
            lambda c: c.needless("ap", "retry_later"),
            {"incremental/retry_later": 1, "source/ap/retry_later": 1},
        ),
        (lambda c: c.alias(), {"incremental/aliases": 1}),
        (lambda c: c.claimed_elsewhere(), {"incremental/claimed_elsewhere": 1}),
        (lambda c: c.redirected_to_fetched(), {"incremental/redirected_to_fetched": 1}),
        (lambda c: c.discovered("feeds"), {"discovery/feeds": 1}),
        (
            lambda c: c.not_modified("ap"),
            {"discovery/not_modified": 1, "source/ap/not_modified": 1},
        ),
        (lambda c: c.listed("ap"), {"discovery/article_links": 1, "source/ap/links": 1}),
        (lambda c: c.listed(None), {"discovery/article_links": 1}),
        (lambda c: c.out_of_range(), {"backfill/out_of_range": 1}),
        (lambda c: c.sitemap_skipped(), {"backfill/sitemaps_skipped": 1}),
        (
            lambda c: c.discovery_error("ap", "feed"),
            {"errors/feed": 1, "source/ap/discovery_errors": 1},
        ),
        (
            lambda c: c.discovery_failed("ap", "http_500"),
            {"errors/discovery_http_500": 1, "source/ap/discovery_errors": 1},
        ),
        (lambda c: c.error("state_sync"), {"errors/state_sync": 1}),
        (lambda c: c.frontier("given_back", 3), {"frontier/given_back": 3}),
    ],
)
def test_counters_write_the_stat_names(
    count: Callable[[Counters], None], expected: dict[str, int]
) -> None:
    stats = DictStats()
    count(Counters(stats))
    assert stats.values == expected


STATS = {
    "pages/fetched": 5,
    "rejected/http_404": 1,
    "rejected/url_too_long": 1,
    "urllength/request_ignored_count": 2,
    "dedup/near": 2,
    "dedup/url": 1,
    "errors/feed": 1,
    "errors/state_sync": 1,
    "frontier/popped": 4,
    "incremental/claimed_elsewhere": 1,
    "discovery/feeds": 2,
    "source/a/stored": 2,
    "source/a/rejected": 1,
    "source/b/links": 4,
    "errors/start_time": "not a count",  # only integers are counts
}


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (lambda s: outcomes.value(s, outcomes.PAGES_FETCHED), 5),
        (lambda s: outcomes.value(s, outcomes.STORED), 0),
        (outcomes.rejected_counts, {"http_404": 1, "url_too_long": 3}),
        (outcomes.rejected_total, 4),  # as the summary: Scrapy's URL length filter included
        (outcomes.duplicate_counts, {"url": 1, "exact": 0, "near": 2}),
        (outcomes.duplicate_total, 3),
        (outcomes.error_counts, {"feed": 1, "state_sync": 1}),
        (outcomes.discovery_counts, {"feeds": 2}),
        (outcomes.frontier_counts, {"popped": 4, "claimed_elsewhere": 1}),
        (lambda s: outcomes.frontier_counts({}), {}),
        (
            outcomes.per_source,
            {"a": {"stored": 2, "rejected": 1}, "b": {"links": 4}},
        ),
    ],
)
def test_readers(read: Callable[[dict[str, object]], object], expected: object) -> None:
    assert read(STATS) == expected


def test_what_is_counted_is_read_back() -> None:
    stats = DictStats()
    counters = Counters(stats)
    counters.stored("a")
    counters.rejected("a", "paywall")
    counters.duplicate("b", "exact")
    assert outcomes.per_source(stats.values) == {
        "a": {"stored": 1, "rejected": 1},
        "b": {"duplicates": 1},
    }
    assert outcomes.rejected_counts(stats.values) == {"paywall": 1}
    assert outcomes.duplicate_counts(stats.values) == {"url": 0, "exact": 1, "near": 0}


@pytest.mark.parametrize(
    ("reason", "transient", "lasting"),
    [
        ("timeout", True, False),
        ("dns_error", True, False),
        ("http_429", True, False),
        ("http_503", True, False),  # any 5xx
        ("http_404", False, True),
        ("http_410", False, True),
        ("http_403", False, False),
        ("too_short", False, True),
        ("paywall", False, True),
        ("robots_txt", False, False),
        ("out_of_range", False, False),
        ("extractor_crashed", False, False),
    ],
)
def test_reason_kinds(reason: str, transient: bool, lasting: bool) -> None:
    assert outcomes.is_transient(reason) is transient
    assert outcomes.is_lasting(reason) is lasting


def test_no_reason_is_both_transient_and_lasting() -> None:
    assert not outcomes.TRANSIENT_REASONS & outcomes.LASTING_REASONS


def test_every_fetch_failure_reason_is_in_the_table() -> None:
    named = {reason for _, reason in EXCEPTION_REASONS}
    named |= {"too_large", "too_many_redirects", "ignored", "download_error"}
    assert named <= set(outcomes.REASONS)
    assert failure_reason(RedirectLoop("loop")) == "redirect_loop"
