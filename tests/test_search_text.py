"""The search index's text rules: CJK characters set apart, user queries as FTS5 queries."""

from __future__ import annotations

import pytest

from pipelines.search.text import (
    HIT_END,
    HIT_START,
    SEPARATOR,
    Segment,
    display_form,
    fts_query,
    indexed_form,
    segments,
)

S = SEPARATOR


@pytest.mark.parametrize(
    ("text", "indexed"),
    [
        ("plain English", "plain English"),
        ("北京", f"{S}北{S}{S}京{S}"),
        ("AP 東京", f"AP {S}東{S}{S}京{S}"),
        ("서울에서", f"{S}서{S}{S}울{S}{S}에{S}{S}서{S}"),
        ("カタカナ", f"{S}カ{S}{S}タ{S}{S}カ{S}{S}ナ{S}"),
        (f"a{HIT_START}b{SEPARATOR}c", "abc"),  # private markers never reach the index
    ],
)
def test_indexed_form_sets_spaceless_characters_apart(text: str, indexed: str) -> None:
    assert indexed_form(text) == indexed


@pytest.mark.parametrize("text", ["Moscow, Nov. 20", "新华社北京11月20日电", "Crème brûlée 東京"])
def test_display_form_gives_the_text_back(text: str) -> None:
    assert display_form(indexed_form(text)) == text


@pytest.mark.parametrize(
    ("words", "query"),
    [
        ("flood", '"flood"'),
        ("flood Mekong", '"flood" AND "Mekong"'),
        ('"black sea"', '"black sea"'),
        ("ship*", '"ship" *'),
        ("flood -Mekong", '("flood") NOT "Mekong"'),
        ("北京", f'"{S}北{S}{S}京{S}"'),
        ('say "hi', '"say" AND "hi"'),
        ('a"b', '"a""b"'),
        ("OR NOT AND", '"OR" AND "NOT" AND "AND"'),
    ],
)
def test_user_words_become_an_fts_query_every_word_must_match(words: str, query: str) -> None:
    assert fts_query(words) == query


@pytest.mark.parametrize("words", ["", "   ", "-- !!", "-flood", "*"])
def test_nothing_searchable_gives_no_query(words: str) -> None:
    assert fts_query(words) is None


def test_segments_mark_hits_and_restore_cjk() -> None:
    marked = f"in {HIT_START}{S}北{S}{S}京{S}{HIT_END} today"
    assert segments(marked) == [
        Segment("in ", False),
        Segment("北京", True),
        Segment(" today", False),
    ]
