"""Article extraction: the seed page, charset decoding, rejections, and the dev set."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import lxml.html
import pytest

from pipelines.extract.article import (
    EXTRACTOR_NAME,
    EXTRACTOR_VERSION,
    MIN_UNITS,
    Extraction,
    ExtractionRejected,
    check_language,
    check_page,
    extract_article,
)
from pipelines.extract.encoding import decode_html
from pipelines.extract.evaluation import load_dataset
from pipelines.extract.scoring import benchmark_f1, shingle_f1
from tests.helpers.support import DEV_SET, FIXTURES, MULTILINGUAL_SET, SEEDS

# Per labelled set: the benchmark F1 (of mean P and R) reached, less a hair, overall and per
# language group with enough pages to mean something. A rule fitted to one set that costs
# another fails here. Reached with extractor +wa5: see pipelines/extract/body.py.
SET_FLOORS = {
    "extraction-dev": {"all": 0.970, "en": 0.970},  # reached 0.975
    "extraction-multilingual": {  # reached 0.964: en 0.958, de 0.963, other Latin 0.970, CJK 0.980
        "all": 0.959,
        "en": 0.953,
        "de": 0.958,
        "other Latin": 0.965,
        "CJK": 0.975,
    },
}
# "other scripts" has 3 pages: one page's noise, not a floor.
SET_SECONDS = 60

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


def _seed_story() -> str:
    """The story of the seed file: the lines after the repeated headline, one a paragraph."""
    lines = [
        line.strip()
        for line in (SEEDS / "wire-article-urdupoint-sputnik.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    return "\n".join(lines[lines.index(next(x for x in lines if x.startswith("MOSCOW ("))) :])


def test_seed_text_is_exactly_the_story(seed: Extraction) -> None:
    assert seed.text == _seed_story()


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
    assert seed.published == "2020-02-20T23:00:00+05:00"
    assert seed.modified is None
    assert seed.language == "en"
    assert seed.sitename == "UrduPoint"
    assert seed.canonical_url == SEED_URL


def test_extractor_identity() -> None:
    assert EXTRACTOR_NAME == "trafilatura"
    assert EXTRACTOR_VERSION.endswith("+wa5")


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
        (
            _page(
                "<p>The council met on Monday.</p>"
                "<div class='paywall'><p>Subscribe to continue reading.</p></div>"
            ),
            "paywall",
        ),
        (_page("<p>The council met on Monday and adjourned until next week.</p>"), "too_short"),
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
    assert MIN_UNITS <= len(bulletin.split()) < 40
    extraction = extract_article(_page(f"<p>{bulletin}</p>"), "https://example.com/a")
    assert extraction.text == bulletin
    assert (extraction.wire_dateline, extraction.wire_agency) == ("WASHINGTON", "AP")


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f"])
def test_a_stray_control_character_costs_nothing_after_it(control: str) -> None:
    """libxml2 ends a document at a NUL: a stray one must not cut the story short."""
    bulletin = (
        "WASHINGTON (AP) — The Senate has confirmed the president's nominee to lead the "
        "Federal Reserve, giving her a second four-year term at the head of the central bank "
        "as it weighs further interest rate cuts, officials said."
    )
    extraction = extract_article(
        _page(f"<p>A stray{control} byte.</p><p>{bulletin}</p>"), "https://example.com/a"
    )
    assert bulletin in extraction.text
    assert control not in extraction.text


@pytest.mark.parametrize("folder", [DEV_SET, MULTILINGUAL_SET], ids=lambda f: f.name)
def test_labelled_set_regression(folder: Path) -> None:
    pages = load_dataset(folder)
    started = time.perf_counter()
    scores: dict[str, list[tuple[float, float, float]]] = {}
    for page in pages:
        extraction = extract_article(page.html, page.url)  # a rejection fails the test
        score = shingle_f1(extraction.text, page.truth)
        scores.setdefault("all", []).append(score)
        scores.setdefault(page.group, []).append(score)
    assert time.perf_counter() - started < SET_SECONDS
    reached = {group: benchmark_f1(rows)[2] for group, rows in scores.items()}
    floors = SET_FLOORS[folder.name]
    assert {g: round(reached[g], 3) for g in floors if reached[g] < floors[g]} == {}


def test_decode_html_detects_other_code_pages() -> None:
    polish = "Zażółć gęślą jaźń, powiedział minister. " * 10
    text, encoding = decode_html(polish.encode("cp1250"), None)
    assert (text, encoding) == (polish, "cp1250")


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("error-page", "error_page"),
        ("paywall-stub", "paywall"),
        ("video-only", "video_only"),
        ("section-front", "not_article"),
    ],
)
def test_non_article_pages_are_rejected(fixture: str, reason: str) -> None:
    html = (FIXTURES / "pages" / f"{fixture}.html").read_text(encoding="utf-8")
    with pytest.raises(ExtractionRejected) as caught:
        extract_article(html, f"https://example.com/{fixture}")
    assert caught.value.reason == reason


def test_tag_page_text_made_of_link_texts_is_not_an_article() -> None:
    html = (FIXTURES / "pages" / "section-front.html").read_text(encoding="utf-8")
    tree = lxml.html.document_fromstring(html)
    links = [a.text_content() for a in tree.iter("a") if len(a.text_content().split()) > 3]
    with pytest.raises(ExtractionRejected) as caught:
        check_page(tree, "World", "\n".join(links[:8]) + "\nA short intro line for the page.")
    assert caught.value.reason == "not_article"


def test_paywalled_page_showing_its_lead_is_kept() -> None:
    lead = " ".join(["The central bank is weighing a further cut in rates, officials said."] * 6)
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle",'
        ' "isAccessibleForFree": false}</script></head>'
        f"<body><article><h1>Headline</h1><p>{lead}</p></article></body></html>"
    )
    assert extract_article(html, "https://example.com/a").text == lead


def test_wrong_language_is_rejected(seed: Extraction) -> None:
    check_language(seed.language, "en")
    check_language(seed.language, None)
    with pytest.raises(ExtractionRejected) as caught:
        check_language(seed.language, "ur")
    assert caught.value.reason == "wrong_language"


def test_page_served_whole_is_kept_whatever_its_metadata_says() -> None:
    # A short story served in full: `isAccessibleForFree: false` (and a paywalled part that
    # is not on the page) is metadata, not evidence that the body was withheld.
    story = (
        "FRANKFURT (Reuters) - The central bank kept interest rates unchanged on Thursday, "
        "as expected, and said it would decide its next move meeting by meeting, with "
        "inflation close to its target."
    )
    assert MIN_UNITS <= len(story.split()) < 60
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle",'
        ' "isAccessibleForFree": "False", "hasPart": {"@type": "WebPageElement",'
        ' "isAccessibleForFree": "False", "cssSelector": ".paywall"}}</script></head>'
        f"<body><article><h1>Rates unchanged</h1><p>{story}</p></article></body></html>"
    )
    assert extract_article(html, "https://example.com/a").text == story


JAPANESE_STORY = (
    "気象庁によると、１３日午後９時１９分ごろ、宮崎県で震度５弱の地震があった。"
    "震源地は日向灘で、震源の深さは約３６キロ。地震の規模はマグニチュード６・６と推定される。"
    "高知県と宮崎県で津波を観測した。"
)


def test_a_story_in_a_script_without_spaces_is_long_enough() -> None:
    # Three words by whitespace, ~90 characters: counted in characters, it is a story.
    assert len(JAPANESE_STORY.split()) < MIN_UNITS < len(JAPANESE_STORY)
    html = f"<html lang='ja'><body><article><p>{JAPANESE_STORY}</p></article></body></html>"
    extraction = extract_article(html, "https://example.jp/a")
    assert extraction.text == JAPANESE_STORY
    assert extraction.language == "ja"


def test_script_overrides_a_template_language() -> None:
    html = f"<html lang='en'><body><article><p>{JAPANESE_STORY}</p></article></body></html>"
    assert extract_article(html, "https://example.jp/a").language == "ja"


def test_control_characters_in_a_page_do_not_lose_its_text() -> None:
    # libxml2 keeps an ESC in the tree; trafilatura then built no text: no_body for a story.
    story = "".join(
        f"<p>The council approved the budget for the {n}th district after a long debate "
        "over road repairs, school meals and the cost of the new harbour wall. \x1b</p>"
        for n in range(1, 9)
    )
    html = f"<html><head><title>Budget</title></head><body><article>{story}</article></body></html>"
    text = extract_article(html, "https://ex.com/budget").text
    assert "harbour wall" in text and "\x1b" not in text


def test_a_complementary_landmark_is_not_the_story() -> None:
    story = " ".join(
        f"Paragraph {n}: the council met on Monday and agreed the budget for next year."
        for n in range(6)
    )
    factbox = "Facts about the council: it has 41 members, elected every four years, in 9 wards."
    html = (
        "<html><body><article><h1>Budget agreed</h1>"
        f"<p>{story}</p><div role='complementary'><h2>Facts</h2><p>{factbox}</p></div>"
        f"<p>{story}</p></article></body></html>"
    )
    text = extract_article(html, "https://example.com/a").text
    assert story in text
    assert "41 members" not in text


@pytest.mark.parametrize("page_id", ["fundus-de-ZDF_2025_11_07", "fundus-ru-Kommersant_2025_05_14"])
def test_a_caption_is_not_the_story(page_id: str) -> None:
    # Real pages whose <figcaption> lines (a photo's caption and credit, a pull quote's
    # speaker) trafilatura kept in the story.
    page = next(p for p in load_dataset(MULTILINGUAL_SET) if p.page_id == page_id)
    tree = lxml.html.document_fromstring(page.html)
    captions = {
        " ".join(piece.split())
        for caption in tree.iter("figcaption")
        for piece in [caption.text_content(), *caption.itertext()]
    }
    lines = set(extract_article(page.html, page.url).text.split("\n"))
    assert captions and not captions & lines
