"""Paywall and error-page gates: structural evidence in every language, never phrases."""

from __future__ import annotations

import json

import lxml.html
import pytest

from pipelines.extract.article import ExtractionRejected, extract_article
from pipelines.extract.gates import (
    Access,
    declared_access,
    is_paywall_stub,
    paywall_notice,
)
from pipelines.extract.metadata import ld_blocks
from pipelines.extract.scripts import count_units

GERMAN = (
    "Die Stadtverwaltung hat am Montag neue Pläne für den Ausbau der Straßenbahn vorgestellt. "
    "Die Linie soll bis 2030 in den Norden der Stadt verlängert werden, sagte der Bürgermeister."
)
JAPANESE = (
    "気象庁によると、１３日午後９時１９分ごろ、宮崎県で震度５弱の地震があった。"
    "震源地は日向灘で、震源の深さは約３６キロ。"
)
SPANISH = (
    "El Gobierno aprobó este martes un nuevo plan de vivienda que prevé construir miles de "
    "pisos de alquiler asequible en las principales ciudades del país durante los próximos "
    "cinco años, según anunció la ministra en rueda de prensa."
)
FRENCH = (
    "Le conseil municipal a voté mardi soir un budget en hausse pour les écoles de la ville, "
    "après un long débat sur le financement des cantines scolaires."
)
RUSSIAN = (
    "Правительство утвердило новый план строительства дорог в регионах страны, "
    "сообщила пресс-служба кабинета министров в понедельник вечером после заседания."
)
ENGLISH = (
    "FRANKFURT (Reuters) - The central bank kept interest rates unchanged on Thursday, as "
    "expected, and said it would decide its next move meeting by meeting, with inflation "
    "close to its target. Subscribe to continue reading our coverage of the markets."
)


def _page(
    story: str,
    *,
    lang: str,
    ld: dict[str, object] | None = None,
    after: str = "",
    head: str = "",
    title: str = "Schlagzeile",
) -> str:
    script = (
        f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
        if ld is not None
        else ""
    )
    return (
        f"<html lang='{lang}'><head><title>{title}</title>{script}{head}</head><body><article>"
        f"<h1>{title}</h1><p>{story}</p>{after}</article></body></html>"
    )


def _not_free(**more: object) -> dict[str, object]:
    return {"@type": "NewsArticle", "isAccessibleForFree": "False", **more}


PART = {
    "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".x-locked"}
}


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        # German teaser; the part JSON-LD names as not free is on the page with its notice.
        (
            _page(
                GERMAN[:90],
                lang="de",
                ld=_not_free(**PART),
                after="<div class='x-locked'><p>Jetzt weiterlesen mit dem Abo.</p></div>",
            ),
            "paywall",
        ),
        # Japanese teaser; the notice sits in an element named for the paywall.
        (
            _page(
                JAPANESE,
                lang="ja",
                ld=_not_free(),
                after="<div class='article-paywall'><p>この記事は会員限定です。</p></div>",
            ),
            "paywall",
        ),
        # Spanish: not free, and a tenth of the declared word count served.
        (_page(SPANISH, lang="es", ld=_not_free(wordCount="900")), "paywall"),
        # Russian: not free, and the JSON-LD articleBody is ten times the served text.
        (_page(RUSSIAN, lang="ru", ld=_not_free(articleBody=RUSSIAN * 10)), "paywall"),
        # French stub without JSON-LD: a paywall notice in markup, a few lines served.
        (
            _page(FRENCH, lang="fr", after="<div id='paywall'><p>Réservé aux abonnés.</p></div>"),
            "paywall",
        ),
        # English words about subscribing are no evidence: too short, but no paywall.
        (_page("Subscribe to continue reading this story today.", lang="en"), "too_short"),
    ],
    ids=["de-part", "ja-markup", "es-wordcount", "ru-articlebody", "fr-stub", "en-phrase"],
)
def test_paywall_stubs_are_told_by_structure(html: str, reason: str) -> None:
    with pytest.raises(ExtractionRejected) as caught:
        extract_article(html, "https://example.com/a")
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("html", "story"),
    [
        # Served in full: 100% of the declared length, whatever isAccessibleForFree says,
        # even with a notice on the page.
        (
            _page(
                SPANISH,
                lang="es",
                ld=_not_free(wordCount=str(len(SPANISH.split()))),
                after="<div class='paywall'><p>Suscríbete para seguir leyendo.</p></div>",
            ),
            SPANISH,
        ),
        # Not free in metadata, no notice, no declared length: the page shows what it has.
        (_page(GERMAN, lang="de", ld=_not_free(**PART)), GERMAN),
        # The story inside a container whose class names the paywall is no notice.
        (
            f"<html lang='ja'><head><title>地震</title></head><body><article>"
            f"<div class='paywall-free body'><p>{JAPANESE}</p></div></article></body></html>",
            JAPANESE,
        ),
        # An English story that mentions subscribing, with no paywall structure.
        (_page(ENGLISH, lang="en"), ENGLISH),
        # A free brief whose markup mentions a locked, longer story: that one is not this.
        (
            _page(
                SPANISH,
                lang="es",
                ld={"@type": "NewsArticle", "relatedLink": _not_free(wordCount="900")},
            ),
            SPANISH,
        ),
    ],
    ids=["es-served-whole", "de-no-notice", "ja-wrapping-class", "en-phrase-only", "es-related"],
)
def test_stories_served_whole_are_kept(html: str, story: str) -> None:
    assert extract_article(html, "https://example.com/a").text.startswith(story)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (_page(GERMAN, lang="de", title="Fehler 404 – Seite nicht gefunden"), "error_page"),
        (_page(SPANISH, lang="es", title="Error 404: página no encontrada"), "error_page"),
        (_page(FRENCH, lang="fr", title="Page introuvable (410)"), "error_page"),
        (
            _page(
                JAPANESE * 2,
                lang="ja",
                title="ページが見つかりません",
                head="<meta name='robots' content='noindex, follow'>",
            ),
            "error_page",
        ),
    ],
    ids=["de-404", "es-404", "fr-410", "ja-noindex"],
)
def test_soft_error_pages_are_told_by_structure(html: str, reason: str) -> None:
    with pytest.raises(ExtractionRejected) as caught:
        extract_article(html, "https://example.com/a")
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "html",
    [
        # A number in a headline is not a status when the page declares an article.
        _page(
            GERMAN, lang="de", title="Landkreis meldet 404 neue Fälle", ld={"@type": "NewsArticle"}
        ),
        _page(
            SPANISH,
            lang="es",
            title="410 días de espera",
            head="<meta property='og:type' content='article'>",
        ),
        # A noindex article (a syndicated copy) that declares itself an article.
        _page(
            FRENCH,
            lang="fr",
            head="<meta name='robots' content='noindex'>"
            "<meta property='og:type' content='article'>",
        ),
        # Numbers that only contain 404 are no status.
        _page(ENGLISH, lang="en", title="Shares fall 4.04% as rates hold; 14041 jobs cut"),
    ],
    ids=["de-404-cases", "es-410-days", "fr-noindex-article", "en-digits"],
)
def test_articles_with_status_like_numbers_are_kept(html: str) -> None:
    assert count_units(extract_article(html, "https://example.com/a").text) >= 25


def _blocks(ld: object) -> list[object]:
    tree = lxml.html.document_fromstring(
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
        "<body><p>x</p></body></html>"
    )
    return ld_blocks(tree)


LOCKED = {"@type": "NewsArticle", "isAccessibleForFree": False, "wordCount": 900}


@pytest.mark.parametrize(
    ("ld", "access"),
    [
        ({"@type": "NewsArticle"}, Access(False, (), None)),
        ({"isAccessibleForFree": False}, Access(True, (), None)),
        ({"isAccessibleForFree": "false"}, Access(True, (), None)),
        ({"isAccessibleForFree": "True", "wordCount": 450}, Access(False, (), 450)),
        ({"isAccessibleForFree": True, "wordCount": " 300 "}, Access(False, (), 300)),
        ({"wordCount": "n/a", "articleBody": "one two three"}, Access(False, (), 3)),
        (
            {"hasPart": [{"isAccessibleForFree": "False", "cssSelector": ".a, #b"}]},
            Access(True, (".a", " #b"), None),
        ),
        ({"hasPart": {"isAccessibleForFree": False}}, Access(True, (), None)),
        # Numbers a page writes that are no count: superscript two, a fraction, a bool.
        ({"wordCount": "²"}, Access(False, (), None)),
        ({"wordCount": "½"}, Access(False, (), None)),
        ({"wordCount": True}, Access(False, (), None)),
        # The page's own article, however the markup nests it.
        ({"@graph": [{"@type": "WebPage"}, LOCKED]}, Access(True, (), 900)),
        ({"@type": "WebPage", "mainEntity": LOCKED}, Access(True, (), 900)),
        ([{"@type": "Organization"}, LOCKED], Access(True, (), 900)),
        # A locked story the page only links to says nothing about this one.
        ({"@type": "NewsArticle", "wordCount": 120, "relatedLink": LOCKED}, Access(False, (), 120)),
        (
            {"@type": "NewsArticle", "isPartOf": {"@type": "WebPage", **LOCKED}},
            Access(False, (), None),
        ),
        # Declared on the page, not on an article: still the page's own.
        ({"@type": "WebPage", "isAccessibleForFree": "false"}, Access(True, (), None)),
    ],
)
def test_declared_access(ld: object, access: Access) -> None:
    assert declared_access(_blocks(ld)) == access


@pytest.mark.parametrize(
    ("markup", "selectors", "notice"),
    [
        ("<div class='locked'><p>Nur für Abonnenten</p></div>", (".locked",), True),
        ("<div id='locked'><p>会員限定</p></div>", ("#locked",), True),
        ("<section class='locked'><p>Solo suscriptores</p></section>", ("section.locked",), True),
        ("<div class='locked'></div>", (".locked",), False),  # an empty placeholder
        ("<div class='locked'><p>x</p></div>", ("div > .locked",), False),  # not a simple one
        ("<div class='PayWall-box'><p>Abonnez-vous</p></div>", (), True),
        ("<div class='notice'><p>Abonnez-vous</p></div>", (), False),
    ],
)
def test_paywall_notice(markup: str, selectors: tuple[str, ...], notice: bool) -> None:
    tree = lxml.html.document_fromstring(f"<html><body><p>{FRENCH}</p>{markup}</body></html>")
    assert paywall_notice(tree, FRENCH, selectors) is notice


def test_share_of_declared_length_decides() -> None:
    tree = lxml.html.document_fromstring("<html><body><p>x</p></body></html>")
    words = len(SPANISH.split())
    assert is_paywall_stub(tree, SPANISH, Access(True, (), words * 3))  # a third served
    assert not is_paywall_stub(tree, SPANISH, Access(True, (), int(words * 1.2)))  # most of it
    assert not is_paywall_stub(tree, SPANISH, Access(False, (), words * 3))  # free: no stub
