"""The archive index: lookups, and its copy in an S3 archive that fresh machines start from."""

from __future__ import annotations

from pathlib import Path

from pipelines.archive.stores import open_store
from pipelines.dedup.fingerprints import exact_fingerprint
from pipelines.index.sqlite import StateIndex, open_state
from pipelines.index.state_cache import STATE_KEY
from pipelines.index.sync import sync_state

TEXT = " ".join(f"word{n} of the story" for n in range(80))


def record(index: StateIndex, article_id: str, text: str = TEXT) -> None:
    index.record_article(
        article_id=article_id,
        key=f"articles/wire/2026/11/25/{article_id}.json",
        content_sha256="0" * 64,
        urls=[f"https://example.org/{article_id}", f"https://example.org/{article_id}?utm=x"],
        fingerprint=exact_fingerprint(text),
        text=text,
    )


def test_lookups_by_url_text_and_near_copy(tmp_path: Path) -> None:
    index = StateIndex(tmp_path / "index.sqlite3")
    record(index, "a" * 20)
    assert index.url("https://example.org/" + "a" * 20).article_id == "a" * 20  # type: ignore[union-attr]
    assert index.url("https://example.org/other") is None
    assert index.text(exact_fingerprint(TEXT.upper())).article_id == "a" * 20  # type: ignore[union-attr]
    near = index.near_match(TEXT.replace("word3 ", "term3 ") + " An extra closing line.")
    assert near is not None
    assert near.article_id == "a" * 20
    index.save_validators([("https://example.org/feed", '"v1"', None)])
    assert index.validators("https://example.org/feed") == ('"v1"', None)
    index.close()
    reopened = StateIndex(tmp_path / "index.sqlite3")
    assert len(reopened) == 1


def test_a_local_archive_keeps_its_index_inside(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "archive"))
    index = open_state(store, cache=tmp_path / "cache")
    assert index.path == tmp_path / "archive" / STATE_KEY
    index.close()


def test_s3_index_follows_the_archive_to_a_fresh_machine(s3_bucket: str, tmp_path: Path) -> None:
    store = open_store(f"s3://{s3_bucket}/wire")
    first = open_state(store, cache=tmp_path / "one")
    record(first, "b" * 20)
    sync_state(first, store)
    first.close()
    fresh = open_state(store, cache=tmp_path / "two")
    assert fresh.article("b" * 20) is not None
    record(fresh, "c" * 20)
    sync_state(fresh, store)
    fresh.close()
    # The first machine's cache is now older than the archive's copy: it is replaced.
    again = open_state(store, cache=tmp_path / "one")
    assert again.article("c" * 20) is not None
    # A run whose upload failed leaves its cache newer than the archive: the cache is kept.
    record(again, "d" * 20)
    again.close()
    kept = open_state(store, cache=tmp_path / "one")
    assert kept.article("d" * 20) is not None
    kept.close()


def test_a_cache_of_an_emptied_archive_is_dropped(s3_bucket: str, tmp_path: Path) -> None:
    store = open_store(f"s3://{s3_bucket}/wire")
    index = open_state(store, cache=tmp_path / "cache")
    record(index, "e" * 20)
    sync_state(index, store)
    index.close()
    for key in list(store.keys("")):
        store.delete(key)
    # The archive was emptied: the cached index would claim pages that are gone.
    after = open_state(store, cache=tmp_path / "cache")
    assert len(after) == 0
    after.close()
