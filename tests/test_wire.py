"""Wire datelines and bylines: find the place and the normalised agency."""

from __future__ import annotations

import pytest

from pipelines.extract.wire import Dateline, agency_from_byline, clean_authors, find_dateline

DATELINES = [
    ("WASHINGTON (AP) — The Senate voted", "WASHINGTON", "AP"),
    ("COLUMBIA, S.C. (AP) — Voters in South Carolina", "COLUMBIA, S.C.", "AP"),
    ("LONDON (Reuters) - British retail sales", "LONDON", "Reuters"),
    ("NEW YORK (REUTERS) - Oil prices fell", "NEW YORK", "Reuters"),
    (
        "MOSCOW (UrduPoint News / Sputnik - 20th February, 2020) Russia maintains",
        "MOSCOW",
        "Sputnik",
    ),
    ("ISLAMABAD, Feb 20 (APP): Prime Minister said", "ISLAMABAD", "APP"),
    ("PARIS, March 3 (AFP) - France said", "PARIS", "AFP"),
    ("BEIJING, Feb. 20 (Xinhua) -- China reported", "BEIJING", "Xinhua"),
    ("NEW DELHI (PTI) The government on Monday", "NEW DELHI", "PTI"),
    ("TOKYO (Kyodo) Japan's economy", "TOKYO", "Kyodo"),
    ("BERLIN (dpa) - Germany's", "BERLIN", "dpa"),
    ("KYIV, Ukraine (AP) — Russian forces", "KYIV, Ukraine", "AP"),
    ("HAYWARD, Calif. (AP) — The Latest", "HAYWARD, Calif.", "AP"),
    ("ANKARA (Anadolu Agency) - Turkey", "ANKARA", "Anadolu"),
    ("ROME (ANSA) - Italy", "ROME", "ANSA"),
    ("SEOUL, Nov. 20 (Yonhap) -- South Korea", "SEOUL", "Yonhap"),
    ("MADRID (Agence France-Presse) - Spain", "MADRID", "AFP"),
    ("GAZA CITY (Palestine Chronicle) - Residents", "GAZA CITY", "Palestine Chronicle"),
    # A photo caption may come first: the dateline is on a later line of the window.
    ("Photo: File\nTEHRAN (IRNA) – Iran's foreign minister", "TEHRAN", "IRNA"),
    # Weaker forms, first line only: a credit without its place, a place without a credit.
    ("(Reuters) — The New York State Attorney General", None, "Reuters"),
    ("VIENNA — The house where Adolf Hitler was born", "VIENNA", None),
    ("BUFFALO, N.Y. — Hours before the game", "BUFFALO, N.Y.", None),
    # Not datelines.
    # An acronym subject followed by a lower-case aside is prose, not a credit.
    ("NASA (the agency) said on Monday", None, None),
    ("The (AP) is a news agency", None, None),
    ("Officials (Reuters) said nothing", None, None),
    ("BREAKING — Markets fall", None, None),
    ("UPDATE -- corrected figures", None, None),
    ("Russia maintains daily contact with Turkey.", None, None),
    ("", None, None),
    # A dateline past the window is not the story's dateline.
    ("x " * 200 + "\nLONDON (Reuters) - late", None, None),
]


@pytest.mark.parametrize(("text", "place", "agency"), DATELINES)
def test_find_dateline(text: str, place: str | None, agency: str | None) -> None:
    assert find_dateline(text) == Dateline(place, agency)


BYLINES = [
    (["Associated Press"], "AP"),
    (["The Associated Press"], "AP"),
    (["By Reuters Staff"], "Reuters"),
    (["Associated Press Auto Writer"], "AP"),  # a two-word agency and a beat word
    (["REUTERS"], "Reuters"),
    (["Tom Krisher", "AP Auto Writer"], "AP"),
    (["Associated Press Writer"], "AP"),
    (["AFP"], "AFP"),
    (["Mohammad Ali"], None),
    (["Staff Writer"], None),
    ([], None),
]


@pytest.mark.parametrize(("authors", "agency"), BYLINES)
def test_agency_from_byline(authors: list[str], agency: str | None) -> None:
    assert agency_from_byline(authors) == agency


# Every form the issue lists, and one dateline per agency the archive must recognise.
ISSUE_FORMS = [
    ("WASHINGTON (AP) — The House", "WASHINGTON", "AP"),
    ("NEW YORK (Reuters) - Stocks rose", "NEW YORK", "Reuters"),
    ("HAYWARD, Calif. (AP) — A fire", "HAYWARD, Calif.", "AP"),
    (
        "MOSCOW (UrduPoint News / Sputnik - 20th February, 2020) Russia maintains",
        "MOSCOW",
        "Sputnik",
    ),
    ("ISLAMABAD, Feb 20 (APP): The cabinet", "ISLAMABAD", "APP"),
    ("BEIJING, Feb. 20 (Xinhua) -- China's", "BEIJING", "Xinhua"),
    ("PARIS (AFP) - France's", "PARIS", "AFP"),
    ("(Bloomberg) -- Oil rose", None, "Bloomberg"),
    ("(Reuters) — The New York State", None, "Reuters"),
    ("WASHINGTON (UPI) -- The Senate", "WASHINGTON", "UPI"),
    ("NEW YORK (Bloomberg) -- Stocks", "NEW YORK", "Bloomberg"),
    ("FRANKFURT (dpa) - German exports", "FRANKFURT", "dpa"),
    ("NEW DELHI (ANI): Prime Minister", "NEW DELHI", "ANI"),
    ("MUMBAI, Nov 20 (PTI) Shares", "MUMBAI", "PTI"),
    ("NEW DELHI, Nov 20 (IANS) The Supreme Court", "NEW DELHI", "IANS"),
    ("ISTANBUL (AA) - Turkish", "ISTANBUL", "Anadolu"),
    ("MOSCOW, November 20 (TASS) - Russia", "MOSCOW", "TASS"),
    ("TOKYO, Nov. 20 (Kyodo) -- Japan", "TOKYO", "Kyodo"),
    ("SEOUL, Nov. 20 (Yonhap) -- North Korea", "SEOUL", "Yonhap"),
    ("MADRID (EFE).- El Gobierno", "MADRID", "EFE"),
    ("ROME, Nov 20 (ANSA) - Italy", "ROME", "ANSA"),
    ("MOSCOW (Sputnik) - Russia", "MOSCOW", "Sputnik"),
    ("BEIJING (Xinhua News Agency) - China", "BEIJING", "Xinhua"),
    ("LAHORE, Nov 20 (Associated Press of Pakistan): Punjab", "LAHORE", "APP"),
]


@pytest.mark.parametrize(("text", "place", "agency"), ISSUE_FORMS)
def test_issue_dateline_forms(text: str, place: str | None, agency: str | None) -> None:
    assert find_dateline(text) == Dateline(place, agency)


AUTHORS = [
    (["Mohammad Ali (@ChaudhryMAli88)"], ("Mohammad Ali",), None),
    (["By Jane Doe"], ("Jane Doe",), None),
    (["Tom Krisher", "AP Auto Writer"], ("Tom Krisher",), "AP"),
    (["By Tom Krisher, AP Auto Writer"], ("Tom Krisher",), "AP"),
    (["Jane Doe and John Roe"], ("Jane Doe", "John Roe"), None),
    (["Jane Doe; Agence France-Presse"], ("Jane Doe",), "AFP"),
    (["Agence France-Presse; Jane Doe"], ("Jane Doe",), "AFP"),
    (["Staff Writer; Jane Doe"], ("Jane Doe",), None),
    (["Jane Doe 42 seconds ago"], ("Jane Doe",), None),
    (["Jane Doe, Nov 20, 2019"], ("Jane Doe",), None),
    (["Reuters Staff"], (), "Reuters"),
    (["The Associated Press"], (), "AP"),
    (["Staff Writer"], (), None),
    ([], (), None),
]


@pytest.mark.parametrize(("raw", "names", "agency"), AUTHORS)
def test_clean_authors(raw: list[str], names: tuple[str, ...], agency: str | None) -> None:
    assert clean_authors(raw) == (names, agency)


# Datelines as each agency prints them in its own language (house styles: Xinhua's "电",
# Kyodo's and Jiji's 【place共同】, Yonhap's (place=연합뉴스), RIA's and TASS's, dpa's, EFE's
# ".-", ANSA's credit-first form, the Indian agencies' Title-case places).
LOCAL_FORMS = [
    ("新华社北京4月24日电 题：促进航天技术更好惠及人民", "北京", "Xinhua"),
    ("新华社上海4月24日电（记者 张三）上海市", "上海", "Xinhua"),
    ("中新社北京4月24日电 中国国家航天局", "北京", "CNS"),
    ("【ワシントン共同】バイデン米大統領は", "ワシントン", "Kyodo"),
    ("【北京時事】中国外務省の報道官は", "北京", "Jiji"),
    ("(서울=연합뉴스) 김지헌 기자 = 정부는", "서울", "Yonhap"),
    ("(연합뉴스) 정부는 24일", None, "Yonhap"),
    ("МОСКВА, 20 фев - РИА Новости. Россия поддерживает", "МОСКВА", "Sputnik"),
    ("МОСКВА, 20 февраля. /ТАСС/. Президент России", "МОСКВА", "TASS"),
    ("(ТАСС) Президент России заявил", None, "TASS"),
    ("Berlin (dpa) - Die Bundesregierung", "Berlin", "dpa"),
    ("Frankfurt/Main (dpa) - Der Dax", "Frankfurt/Main", "dpa"),
    ("PARIS (AFP) - Le gouvernement", "PARIS", "AFP"),
    ("Paris, 3 mars (AFP) - Le gouvernement", "Paris", "AFP"),
    ("Madrid, 15 abr (EFE).- El Gobierno", "Madrid", "EFE"),
    ("(ANSA) - ROMA, 24 APR - Il governo", "ROMA", "ANSA"),
    ("BEIJING, April 24 (Xinhua) -- China", "BEIJING", "Xinhua"),
    ("New Delhi, Apr 24 (PTI) The government", "New Delhi", "PTI"),
    ("Kolkata, Apr 24 (UNI) The state", "Kolkata", "UNI"),
    ("ISLAMABAD, Apr 24 (APP): The cabinet", "ISLAMABAD", "APP"),
    ("HANOI, Vietnam (AP) — Vietnam's", "HANOI, Vietnam", "AP"),
    # A known agency's credit closing the story, when nothing opens it.
    ("Il governo ha approvato il decreto.\nLo ha detto il ministro. (ANSA).", None, "ANSA"),
    ("政府は24日、発表した。\n首相は述べた。（共同）", None, "Kyodo"),
    # Not datelines.
    ("Die Bundesregierung (dpa) hat am Montag", None, None),
    ("新华社记者走访了", None, None),
    ("Officials (Reuters) said nothing", None, None),
    ("Berlin (Bernd) - ein Name, kein Kürzel", None, None),
    ("Die Rede endete. (Applaus)", None, None),
    # The agencies' own forms trust only a known agency's credit.
    ("(서울=한겨레) 정부는 24일 발표했다.", None, None),
    ("Madrid, 15 abr (Foo Bar).- El gobierno", None, None),
    ("(Foo Bar) - ROMA, 24 APR - Il governo", None, None),
    # An unknown credit in the English form counts only on a line shaped like a dateline.
    ("WASHINGTON (Capitol Staff) the senator said on Tuesday", None, None),
    ("WASHINGTON (Capitol Staff) The senator said", None, None),
    ("WASHINGTON (Capitol Staff) — the senator said", "WASHINGTON", "Capitol Staff"),
    # Of slash-separated unknown credits, the last is the origin (the first republished it).
    ("KARACHI (Daily Star / Wire Desk) - The government said", "KARACHI", "Wire Desk"),
    # A dateline after a short line (a photo credit), or after a line that looks like one.
    ("Photo: Getty Images\nWASHINGTON (AP) — The senator said", "WASHINGTON", "AP"),
    ("Photo: Getty Images\nWASHINGTON (Capitol Staff) — he said", "WASHINGTON", "Capitol Staff"),
    ("Foto: Imago\nBerlin (dpa) - Die Regierung hat", "Berlin", "dpa"),
    ("Foto: Imago\nParis (Le Monde) - x\nBerlin (dpa) - Die Regierung", "Berlin", "dpa"),
]


@pytest.mark.parametrize(("text", "place", "agency"), LOCAL_FORMS)
def test_datelines_in_the_agencies_own_languages(
    text: str, place: str | None, agency: str | None
) -> None:
    assert find_dateline(text) == Dateline(place, agency)


@pytest.mark.parametrize(("filler", "found"), [(284, True), (285, False)])
def test_a_dateline_must_close_within_the_first_300_characters(filler: int, found: bool) -> None:
    # After a first line of `filler` characters and its newline, "WASHINGTON (AP)" closes
    # its credit at character 299 (inside the window) or 300 (outside).
    first = ("photo by a staff member of the paper " * 10)[:filler]
    text = f"{first}\nWASHINGTON (AP) — The senator said on Tuesday that the bill would pass."
    expected = Dateline("WASHINGTON", "AP") if found else Dateline(None, None)
    assert find_dateline(text) == expected
