"""Publication dates: parsing, the plausible window, and the fallback order."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.archive.keys import article_keys
from pipelines.extract.article import ListedDate, extract_article
from pipelines.extract.dates import (
    Dated,
    choose_published,
    day_first_for,
    first_plausible,
    parse_date,
    plausible,
)
from pipelines.extract.pipeline import build_article
from pipelines.items import Page
from tests.helpers.support import fetched_page

FETCHED = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    [
        ("2020-02-20T23:00:00+05:00", None, "2020-02-20T23:00:00+05:00"),
        ("2020-02-20T18:00:00Z", None, "2020-02-20T18:00:00+00:00"),
        ("2020-02-20 23:00:00", None, "2020-02-20T23:00:00"),
        ("2020-02-20", None, "2020-02-20"),
        ("0001-01-01T00:00:00Z", None, "0001-01-01T00:00:00+00:00"),  # parsed; not plausible
        ("Thu, 20 Feb 2020 23:00:00 +0500", None, "2020-02-20T23:00:00+05:00"),
        # Dates written in other scripts and digits
        ("2024年4月24日 10:30", None, "2024-04-24T10:30:00"),
        ("2025年1月14日 01時28分", None, "2025-01-14T01:28:00"),
        ("2024년 4월 24일", None, "2024-04-24"),
        ("２０２４年４月２４日", None, "2024-04-24"),
        ("٢٠٢٠-٠٢-٢٠", None, "2020-02-20"),
        ("2020/02/20", None, "2020-02-20"),
        # Day/month order: settled by the numbers, else by the language, else unknown
        ("20/02/2020", None, "2020-02-20"),
        ("02/20/2020", None, "2020-02-20"),
        ("20.02.2020 23:00", None, "2020-02-20T23:00:00"),
        ("03/04/2020", None, None),
        ("03/04/2020", True, "2020-04-03"),
        ("03/04/2020", False, "2020-03-04"),
        ("04/04/2020", None, "2020-04-04"),
        # Not dates
        ("", None, None),
        ("yesterday", None, None),
        ("31/31/2020", None, None),
        ("2020-13-45", None, None),
        # The edges of the day/month rule: 12 is a month, 13 is not; equal numbers agree.
        ("13/12/2020", None, "2020-12-13"),
        ("12/13/2020", None, "2020-12-13"),
        ("12/12/2020", None, "2020-12-12"),
        ("03/03/2020", None, "2020-03-03"),
        ("12/05/2020", None, None),  # both can be months
        ("05/12/2020", None, None),
        ("13/13/2020", True, None),
        ("20-02-2020T23:05", None, "2020-02-20T23:05:00"),
        ("2024年1月2日 0:05", None, "2024-01-02T00:05:00"),  # hour 0 is a time, not none
        ("२०२०-०२-२०", None, "2020-02-20"),  # Devanagari digits
        ("   ", None, None),
        ("Feb 2020", None, None),  # letters and a year, but no RFC 2822 date
        ("20 Feb", None, None),  # no year
    ],
)
def test_parse_date(raw: str, day_first: bool | None, expected: str | None) -> None:
    assert parse_date(raw, day_first) == expected


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("0001-01-01T00:00:00+00:00", False),  # CMS placeholder
        ("1970-01-01T00:00:00+00:00", False),  # Unix epoch
        ("1994-12-31", False),
        ("1995-01-01", True),
        ("9999-12-31", False),
        ("2028-11-25", False),  # two years ahead
        ("2026-11-26T09:59:00+00:00", True),  # within a day of the fetch
        ("2026-11-26T10:01:00+00:00", False),
        ("2026-11-26T12:00:00+05:00", True),  # 07:00 UTC: within the day
        ("2026-11-26", True),  # a bare date is midnight UTC
        ("1995-01-01T00:00:00+00:00", True),  # both ends are in the window
        ("1994-12-31T23:59:59+00:00", False),
        ("2026-11-26T10:00:00+00:00", True),
        ("2026-11-26T10:00:01+00:00", False),
    ],
)
def test_plausible_window(raw: str, ok: bool) -> None:
    assert plausible(raw, FETCHED) is ok
    assert plausible(raw, FETCHED.replace(tzinfo=None)) is ok  # a naive fetch time is UTC


def test_the_fetch_time_fallback_is_utc_whatever_the_fetch_zone() -> None:
    fetched = datetime(2026, 11, 25, 15, 0, tzinfo=timezone(timedelta(hours=5)))
    assert choose_published([], fetched) == Dated("2026-11-25T10:00:00+00:00", "fetched")
    naive = datetime(2026, 11, 25, 10, 0)
    assert choose_published([], naive) == Dated("2026-11-25T10:00:00+00:00", "fetched")


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (
            [("jsonld", "2020-02-20T23:00:00+05:00"), ("meta", "2020-02-19")],
            Dated("2020-02-20T23:00:00+05:00", "jsonld"),
        ),
        ([("jsonld", "0001-01-01T00:00:00Z"), ("meta", "2020-02-19")], Dated("2020-02-19", "meta")),
        (
            [("jsonld", "9999-12-31"), ("feed", "2020-02-18T10:00:00+00:00")],
            Dated("2020-02-18T10:00:00+00:00", "feed"),
        ),
        (
            [("meta", "1970-01-01T00:00:00Z"), ("sitemap", "2028-11-25"), ("text", "2020-02-17")],
            Dated("2020-02-17", "text"),
        ),
        ([("jsonld", None), ("meta", "not a date")], Dated("2026-11-25T10:00:00+00:00", "fetched")),
        ([], Dated("2026-11-25T10:00:00+00:00", "fetched")),
    ],
)
def test_choose_published_falls_back_in_order(
    candidates: list[tuple[str, str | None]], expected: Dated
) -> None:
    assert choose_published(candidates, FETCHED) == expected


def test_costly_candidate_is_called_only_when_needed() -> None:
    calls: list[str] = []

    def search() -> tuple[str, str | None]:
        calls.append("text")
        return "text", "2020-02-17"

    assert choose_published([("meta", "2020-02-19"), search], FETCHED).source == "meta"
    assert calls == []
    assert choose_published([("meta", "0001-01-01"), search], FETCHED).source == "text"
    assert calls == ["text"]


def test_first_plausible_skips_placeholders() -> None:
    assert first_plausible(["0001-01-01T00:00:00Z", "2020-02-21"], FETCHED) == "2020-02-21"
    assert first_plausible(["9999-12-31"], FETCHED) is None


@pytest.mark.parametrize(
    ("language", "day_first"), [("en", None), (None, None), ("", None), ("de", True), ("ur", True)]
)
def test_day_first_by_language(language: str | None, day_first: bool | None) -> None:
    assert day_first_for(language) is day_first


BODY = (
    "<p>The council met on Monday and approved the budget for the next year, officials said.</p>"
    "<p>Spending on schools rises by a tenth, and the road repair fund doubles from April.</p>"
    "<p>Opposition members voted against it, saying the plan relied on optimistic forecasts.</p>"
)


def _page(head: str, body: str = BODY) -> str:
    return (
        f"<html lang='en'><head><title>Budget</title>{head}</head>"
        f"<body><article>{body}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("head", "listed", "published", "source"),
    [
        (
            '<script type="application/ld+json">{"@type": "NewsArticle",'
            ' "datePublished": "2020-02-20T23:00:00+05:00"}</script>',
            None,
            "2020-02-20T23:00:00+05:00",
            "jsonld",
        ),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle",'
            ' "datePublished": "0001-01-01T00:00:00Z"}</script>'
            '<meta property="article:published_time" content="2020-02-19T08:00:00Z">',
            None,
            "2020-02-19T08:00:00+00:00",
            "meta",
        ),
        (
            '<meta property="article:published_time" content="9999-12-31T00:00:00Z">',
            ListedDate(datetime(2020, 2, 18, 7, 0, tzinfo=UTC), "feed"),
            "2020-02-18T07:00:00+00:00",
            "feed",
        ),
        (
            "",
            ListedDate(datetime(2020, 2, 18, tzinfo=UTC), "sitemap"),
            "2020-02-18T00:00:00+00:00",
            "sitemap",
        ),
        ("", None, "2026-11-25T10:00:00+00:00", "fetched"),
    ],
)
def test_extract_article_records_where_the_date_came_from(
    head: str, listed: ListedDate | None, published: str, source: str
) -> None:
    extraction = extract_article(
        _page(head), "https://example.com/news/budget", fetched_at=FETCHED, listed=listed
    )
    assert (extraction.published, extraction.published_from) == (published, source)


def test_a_date_in_the_text_is_found_when_the_page_declares_none() -> None:
    body = "<p class='date'>Published 17 February 2020</p>" + BODY
    extraction = extract_article(
        _page("", body), "https://example.com/news/budget", fetched_at=FETCHED
    )
    assert (extraction.published, extraction.published_from) == ("2020-02-17", "text")


def test_a_date_in_a_script_string_is_not_the_publication_date() -> None:
    head = '<script>var config = {"buildDate": "1970-01-01", "expires": "2099-01-01"};</script>'
    extraction = extract_article(_page(head), "https://example.com/news/budget", fetched_at=FETCHED)
    assert extraction.published_from == "fetched"


def _fetched_page(html: str, listed: datetime | None, kind: str | None) -> Page:
    return fetched_page(
        html.encode("utf-8"),
        FETCHED,
        content_type="text/html; charset=utf-8",
        listed_date=listed,
        listed_in="https://example.com/feed.xml",
        listed_kind=kind,
    )


@pytest.mark.parametrize(
    ("kind", "published", "source"),
    [
        ("feed", "2020-02-18T07:00:00+00:00", "feed"),
        ("sitemap", "2020-02-18T07:00:00+00:00", "sitemap"),
        (None, "2026-11-25T10:00:00+00:00", "fetched"),  # a date from an unknown kind of list
    ],
)
def test_placeholder_dated_page_is_filed_under_a_four_digit_year(
    kind: str | None, published: str, source: str
) -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "0001-01-01T00:00:00Z"}</script>'
    )
    page = _fetched_page(_page(head), datetime(2020, 2, 18, 7, 0, tzinfo=UTC), kind)
    article = build_article(page)
    record = article.to_record()
    assert (record["published"], record["published_from"]) == (published, source)
    json_key, raw_key = article_keys(article)
    assert json_key.split("/")[2] == published[:4]
    assert raw_key.split("/")[2] == published[:4]


def test_a_chosen_date_cannot_be_changed_after_the_choice() -> None:
    dated = choose_published([("meta", "2020-02-19")], FETCHED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        dated.source = "fetched"  # type: ignore[misc]
