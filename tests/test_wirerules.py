"""Wire text rules: each pattern dropped, story lines and datelines kept."""

from __future__ import annotations

import pytest

from pipelines.extract.furniture import (
    clean_text,
    is_byline_line,
    is_edge_byline,
    is_furniture,
    is_site_banner,
    is_timestamp_line,
)

STORY_LINES = [
    "WASHINGTON (AP) — The Senate voted on Tuesday to confirm the nominee.",
    "MOSCOW (UrduPoint News / Sputnik - 20th February, 2020) Russia maintains contact.",
    "More than 100 people were killed in the floods, officials said.",
    "Related companies reported higher sales in the third quarter.",
    "Follow the money, investigators told the committee.",
    "By the numbers",
    "Photos",
    "29 November 2018 | 20 January 2019",
    "The vote is scheduled for 10:30 a.m. on Thursday, the clerk said in a statement.",
    "(Graphic: Global assets in 2019 - here)",
    "Power and Performance",
    # A live ticker's entry: a clock time and a year, but a sentence, not a timestamp.
    "7h43 - JO-2024 : les annonces Airbnb en Île-de-France ont doublé en un an",
    # Table rows of timestamped figures.
    "2020-08-01 18:00:00+00 │ 400 │ 24",
    "| 2020-08-01 17:56 | 404 | 0.13 |",
    # A CJK story line that holds a date.
    "2025年1月14日、政府は新しい計画を発表し、専門家の意見を聞いた上で実施すると述べた。",
]


@pytest.mark.parametrize("line", STORY_LINES)
def test_story_lines_are_kept(line: str) -> None:
    assert clean_text(line, "Some headline", ("Jane Doe",), "Example News") == line


TIMESTAMPS = [
    "42 seconds ago",
    "Thu 20th February 2020 | 11:00 PM",
    "Updated 3 hours ago",
    "Updated: Nov. 18, 2019 at 10:15 a.m.",
    "Published 11:02 AM EST Nov 19, 2019",
    "sexta-feira, 22 de outubro de 2010 às 20:13",
    "Zuletzt aktualisiert am 22.10.2010 um 20h13",
    "5 min ago",
    "2025年1月14日 01時28分 (1月14日 01時40分更新)",
    "2024년 4월 24일 10:30 입력",
]


@pytest.mark.parametrize("line", TIMESTAMPS)
def test_timestamp_lines(line: str) -> None:
    assert is_timestamp_line(line)


BYLINES = [
    ("By Jane Doe", ()),
    ("By JANE DOE and John Roe", ()),
    ("By Jane Doe (@janedoe)", ()),
    (
        "Mohammad Ali (@ChaudhryMAli88) 42 seconds ago Thu 20th February 2020 | 11:00 PM",
        ("Mohammad Ali",),
    ),
    ("Jane Doe", ("Jane Doe",)),
    ("Reporting by Rodrigo Campos; Editing by Nick Zieminski", ()),
    ("(Reporting by Greg Roumeliotis; editing by Martin Howell)", ()),
]


@pytest.mark.parametrize(("line", "authors"), BYLINES)
def test_byline_lines(line: str, authors: tuple[str, ...]) -> None:
    assert is_byline_line(line, authors)


FURNITURE = [
    "Advertisement",
    "BREAKING NEWS",
    "Story continues below advertisement",
    "Share on Facebook",
    "Facebook Twitter WhatsApp Email",
    "Like this story? Share it with a friend!",
    "Like this:Like Loading...",
    "Follow her on Twitter @AmyKup or on Facebook.",
    "Get the latest updates right in your inbox. Subscribe to NJ.com’s newsletters.",
    "Sign up for our daily newsletter",
    "Der BR24 Newsletter informiert Sie immer montags bis freitags über das Wichtigste.",
    "Read more: Alibaba poised to launch record-breaking Hong Kong listing",
    "Related: The 15 Weirdest Galaxies in Our Universe",
    "[Related: Salesforce Dreamforce Keynote: AI, Integration]",
    "Also on rt.com Journalists threatened with sedition arrests",
    "You may also like...",
    "More:",
    "Photo: File",
    "(Image: gargantiopa / Getty Images)",
    "Sakib Ali/Hindustan Times/Getty Images",
    "© Reuters",
    "Copyright © 2020 UrduPoint Network. All Rights Reserved.",
    "SOURCE: Al Jazeera News",
    "Filed under: Khawarij |",
    "Tags: 2020 nissan sentra",
    "Amy K. may be reached at ak@example.com.",
    "Comments",
]


@pytest.mark.parametrize("line", FURNITURE)
def test_furniture_lines(line: str) -> None:
    assert is_furniture(line)


def test_long_paragraph_is_never_furniture() -> None:
    line = "Read more: " + "the ministry said the talks would continue next week " * 5
    assert not is_furniture(line)


def test_site_banner() -> None:
    assert is_site_banner("date 2020-02-20 UrduPoint.com", "UrduPoint")
    assert not is_site_banner("UrduPoint reported on Thursday", "UrduPoint")
    assert not is_site_banner("date 2020-02-20 UrduPoint.com", None)


_TEN_NAMES = "Anna Maria Sophie Luise Müller Schmidt Weber Wagner Becker Hoffmann"
_STAMP_WORDS = "Updated on Thursday 20th February 2020 at 11:00 PM GMT last updated at 11:30 PM"


@pytest.mark.parametrize(
    ("line", "is_stamp"),
    [
        # Time words only, up to 14 of them: a timestamp; one more, and it is a story line.
        (" ".join(_STAMP_WORDS.split()[:14]), True),
        (_STAMP_WORDS, False),
    ],
)
def test_a_timestamp_line_has_at_most_14_words(line: str, is_stamp: bool) -> None:
    assert is_timestamp_line(line) is is_stamp


@pytest.mark.parametrize(
    ("line", "is_byline"),
    [
        # An author's name and time words, up to 14 words in all.
        ("Jane Doe " + " ".join(_STAMP_WORDS.split()[:12]), True),
        ("Jane Doe " + " ".join(_STAMP_WORDS.split()[:13]), False),
    ],
)
def test_a_byline_line_has_at_most_14_words(line: str, is_byline: bool) -> None:
    assert is_byline_line(line, ["Jane Doe"]) is is_byline


@pytest.mark.parametrize(("dates", "banner"), [(6, True), (7, True), (8, False)])
def test_a_site_banner_has_at_most_8_words(dates: int, banner: bool) -> None:
    line = "UrduPoint.com " + " ".join(["today"] * dates)
    assert is_site_banner(line, "UrduPoint.com") is banner


def test_clean_text_seed_top() -> None:
    text = "\n".join(
        [
            "date 2020-02-20 UrduPoint.com",
            "Mohammad Ali (@ChaudhryMAli88) 42 seconds ago Thu 20th February 2020 | 11:00 PM",
            "Moscow in Daily Contact With Turkey Over Situation in Idlib - Foreign Ministry",
            "MOSCOW (UrduPoint News / Sputnik - 20th February, 2020) Russia maintains contact.",
            "Share on Facebook",
            "Zakharova did not rule out the possibility of either country sending a delegation.",
        ]
    )
    cleaned = clean_text(
        text,
        "Moscow In Daily Contact With Turkey Over Situation In Idlib - Foreign Ministry",
        ("Mohammad Ali",),
        "UrduPoint",
    )
    assert cleaned.split("\n") == [
        "MOSCOW (UrduPoint News / Sputnik - 20th February, 2020) Russia maintains contact.",
        "Zakharova did not rule out the possibility of either country sending a delegation.",
    ]


STORY = "Der Stadtrat hat am Montag den neuen Haushalt mit großer Mehrheit beschlossen."


@pytest.mark.parametrize(
    ("line", "authors", "byline"),
    [
        ("Von Anna Müller", ("Anna Müller",), True),
        ("Par Jean Dupont et Marie Curie", ("Jean Dupont", "Marie Curie"), True),
        ("Por María García | Madrid", ("María García",), True),
        ("MDR (Engin Haupt, Alisa Sonntag)", ("Engin Haupt", "Alisa Sonntag"), True),
        ("박준석 기자 외 1명", ("박준석",), True),
        ("（文・山田太郎）", ("山田太郎",), True),
        ("记者 张伟 报道", ("张伟",), True),
        ("Автор: Иван Петров", ("Иван Петров",), True),
        ("Anna Müller (@amueller)", ("Anna Müller",), True),
        # At most 3 words beside the names, and 12 units in all.
        ("Von Anna Müller und Team", ("Anna Müller",), True),
        ("Von Anna Müller und dem Team", ("Anna Müller",), False),
        (f"Von {_TEN_NAMES} und Team", (_TEN_NAMES,), False),
        # A sentence about the author is story text.
        (
            "Anna Müller sprach am Montag mit dem Bürgermeister über den Haushalt",
            ("Anna Müller",),
            False,
        ),
        ("山田太郎首相は１３日、記者会見で新しい経済対策を発表した。", ("山田太郎",), False),
        # A line naming somebody else is not the byline.
        ("Von Peter Schmidt", ("Anna Müller",), False),
        ("Von Anna Müller", (), False),
    ],
)
def test_edge_byline(line: str, authors: tuple[str, ...], byline: bool) -> None:
    assert is_edge_byline(line, authors) is byline


@pytest.mark.parametrize(
    ("text", "authors", "kept"),
    [
        (f"Von Anna Müller\n{STORY}", ("Anna Müller",), [STORY]),
        (f"{STORY}\n（山田太郎）", ("山田太郎",), [STORY]),
        (f"{STORY}\nPor María García", ("María García",), [STORY]),
        # Only at the edges: a short line naming the author inside the story stays.
        (f"{STORY}\nVon Anna Müller\n{STORY}", ("Anna Müller",), [STORY, "Von Anna Müller", STORY]),
    ],
)
def test_clean_text_drops_the_byline_at_the_edges(
    text: str, authors: tuple[str, ...], kept: list[str]
) -> None:
    assert clean_text(text, None, authors).split("\n") == kept
