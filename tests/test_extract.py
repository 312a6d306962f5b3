"""Article extraction: the seed page, charset decoding, rejections, and the dev set."""

from __future__ import annotations

import codecs
import gzip
import json
import statistics
import time

import pytest

from pipelines.encoding import decode_html
from pipelines.extract import (
    EXTRACTOR_NAME,
    EXTRACTOR_VERSION,
    MIN_WORDS,
    Extraction,
    ExtractionRejected,
    extract_article,
)
from pipelines.scoring import shingle_f1
from tests.support import DEV_SET, FIXTURES

SEED_URL = (
    "https://www.urdupoint.com/en/world/moscow-in-daily-contact-with-turkey-over-situ-837521.html"
)
HEADLINE = "Moscow In Daily Contact With Turkey Over Situation In Idlib - Foreign Ministry"
DATELINE = "MOSCOW (UrduPoint News / Sputnik - 20th February, 2020)"


@pytest.fixture(scope="module")
def seed() -> Extraction:
    html = (FIXTURES / "pages" / "urdupoint-sputnik.html").read_bytes()
    text, encoding = decode_html(html, "text/html")
    assert encoding == "utf-8"
    return extract_article(text, SEED_URL)


def test_seed_keeps_headline_as_title_and_story_with_dateline(seed: Extraction) -> None:
    assert seed.title == HEADLINE
    assert seed.text.startswith(DATELINE)
    assert seed.text.rstrip().endswith("despite facing obstacles from the north.")


def test_seed_text_drops_page_furniture(seed: Extraction) -> None:
    lowered = seed.text.lower()
    for junk in (
        "seconds ago",
        "urdupoint.com",
        "cookies",
        "share on facebook",
        "related news",
        "11:00 pm",
        "@chaudhrymali88",
        "copyright",
    ):
        assert junk not in lowered
    assert HEADLINE.lower() not in lowered


def test_seed_metadata(seed: Extraction) -> None:
    assert seed.wire_agency == "Sputnik"
    assert seed.wire_dateline == "MOSCOW"
    assert seed.authors == ("Mohammad Ali",)
    assert seed.published is not None
    assert seed.published.startswith("2020-02-20")
    assert seed.language == "en"
    assert seed.sitename == "UrduPoint"
    assert seed.canonical_url == SEED_URL


def test_extractor_identity() -> None:
    assert EXTRACTOR_NAME == "trafilatura"
    assert EXTRACTOR_VERSION.endswith("+wa1")


STORY = "“Prices rose,” the minister said — café owners agree."
DECODE_CASES = [
    ("utf-8, no header", STORY.encode("utf-8"), None, "utf-8"),
    ("cp1252 bytes, no charset anywhere", STORY.encode("cp1252") * 20, None, "cp1252"),
    ("charset in the header", STORY.encode("cp1252"), "text/html; charset=windows-1252", "cp1252"),
    (
        "header wins over meta",
        b'<meta charset="utf-8">' + STORY.encode("cp1252"),
        "text/html; charset=cp1252",
        "cp1252",
    ),
    ("meta charset", b'<meta charset="windows-1252">' + STORY.encode("cp1252"), None, "cp1252"),
    (
        "meta http-equiv",
        b'<meta http-equiv="Content-Type" content="text/html; charset=Windows-1252">'
        + STORY.encode("cp1252"),
        "text/html",
        "cp1252",
    ),
    (
        "utf-8 BOM beats the header",
        codecs.BOM_UTF8 + STORY.encode("utf-8"),
        "text/html; charset=iso-8859-1",
        "utf-8",
    ),
    (
        "latin-1 header means windows-1252",
        STORY.encode("cp1252"),
        "text/html; charset=ISO-8859-1",
        "cp1252",
    ),
    (
        "unknown charset falls through to detection",
        STORY.encode("utf-8"),
        "text/html; charset=x-no-such-thing",
        "utf-8",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [case[1:] for case in DECODE_CASES],
    ids=[c[0] for c in DECODE_CASES],
)
def test_decode_html(body: bytes, content_type: str | None, encoding: str) -> None:
    text, found = decode_html(body, content_type)
    assert found == encoding
    assert STORY in text


def test_decode_html_never_raises_on_bad_bytes() -> None:
    text, encoding = decode_html(b"ok \xff\xfe\x80 ok", "text/html; charset=utf-8")
    assert encoding == "utf-8"
    assert text.startswith("ok ") and "\ufffd" in text


def _page(body: str) -> str:
    return (
        f"<html><head><title>Headline</title></head><body><article>{body}</article></body></html>"
    )


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("", "no_body"),
        ("   \n", "no_body"),
        ("<html><head><title>x</title></head><body></body></html>", "no_body"),
        (_page("<p>Subscribe to continue reading this story today.</p>"), "too_short"),
    ],
)
def test_rejections(html: str, reason: str) -> None:
    with pytest.raises(ExtractionRejected) as caught:
        extract_article(html, "https://example.com/a")
    assert caught.value.reason == reason


def test_short_wire_bulletin_is_kept() -> None:
    bulletin = (
        "WASHINGTON (AP) — The Senate has confirmed the president's nominee to lead the "
        "Federal Reserve, giving her a second four-year term at the head of the central bank "
        "as it weighs further interest rate cuts."
    )
    assert MIN_WORDS <= len(bulletin.split()) < 40
    extraction = extract_article(_page(f"<p>{bulletin}</p>"), "https://example.com/a")
    assert extraction.text == bulletin
    assert (extraction.wire_dateline, extraction.wire_agency) == ("WASHINGTON", "AP")


def test_dev_set_regression() -> None:
    truth = json.loads((DEV_SET / "ground-truth.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    scores = []
    for page_id, item in truth.items():
        body = gzip.decompress((DEV_SET / "html" / f"{page_id}.html.gz").read_bytes())
        html, _ = decode_html(body, None)
        extraction = extract_article(html, item["url"])  # a rejection fails the test
        scores.append(shingle_f1(extraction.text, item["articleBody"])[2])
    assert len(scores) == 65
    assert statistics.fmean(scores) >= 0.90
    assert time.perf_counter() - started < 20


def test_decode_html_detects_other_code_pages() -> None:
    polish = "Zażółć gęślą jaźń, powiedział minister. " * 10
    text, encoding = decode_html(polish.encode("cp1250"), None)
    assert (text, encoding) == (polish, "cp1250")
