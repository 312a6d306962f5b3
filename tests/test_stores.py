"""Stores: the same behaviour from the local folder and from a real S3 server (SeaweedFS)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.archive.local_store import TEMP_PREFIX, TEMP_SUFFIX, LocalStore
from pipelines.archive.s3_store import S3Store
from pipelines.archive.stores import (
    InvalidKey,
    KeyNotFound,
    Store,
    StoreError,
    StoreUnavailable,
    open_store,
    validate_key,
)

THREADS = 8
UNREACHABLE_SECONDS = 15


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Return an empty store of each backend."""
    if request.param == "local":
        return LocalStore(tmp_path / "archive")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(f"s3://{bucket}/archive/root")


def test_put_get_round_trip(store: Store) -> None:
    assert store.put("articles/ap/2024/01/02/x.json", b'{"a": 1}', content_type="application/json")
    assert store.get("articles/ap/2024/01/02/x.json") == b'{"a": 1}'


def test_put_without_overwrite_keeps_first(store: Store) -> None:
    assert store.put("runs/r.json", b"first") is True
    assert store.put("runs/r.json", b"second") is False
    assert store.get("runs/r.json") == b"first"


def test_put_with_overwrite_replaces(store: Store) -> None:
    store.put("runs/r.json", b"first")
    assert store.put("runs/r.json", b"second", overwrite=True) is True
    assert store.get("runs/r.json") == b"second"


def test_exists_and_delete(store: Store) -> None:
    assert not store.exists("a/b.txt")
    store.put("a/b.txt", b"x")
    assert store.exists("a/b.txt")
    store.delete("a/b.txt")
    assert not store.exists("a/b.txt")
    store.delete("a/b.txt")  # deleting a missing key is not an error


def test_get_missing_raises_key_not_found(store: Store) -> None:
    with pytest.raises(KeyNotFound):
        store.get("nope/missing.json")


def test_keys_lists_exactly_the_keys_under_prefix(store: Store) -> None:
    for key in ["articles/ap/1.json", "articles/ap/2.json", "articles/rt/3.json", "runs/r.json"]:
        store.put(key, b"x")
    assert sorted(store.keys("articles/ap/")) == ["articles/ap/1.json", "articles/ap/2.json"]
    assert sorted(store.keys()) == [
        "articles/ap/1.json",
        "articles/ap/2.json",
        "articles/rt/3.json",
        "runs/r.json",
    ]
    assert list(store.keys("nothing/")) == []
    # A prefix may end inside a folder's or a file's name.
    assert sorted(store.keys("articles/a")) == ["articles/ap/1.json", "articles/ap/2.json"]
    assert list(store.keys("articles/ap/1")) == ["articles/ap/1.json"]
    assert list(store.keys("runs/r.json/")) == []
    assert list(store.keys("../")) == []


def test_invalid_key_is_refused_by_every_method(store: Store) -> None:
    with pytest.raises(InvalidKey):
        store.put("../escape", b"x")
    with pytest.raises(InvalidKey):
        store.get("/abs")


def test_concurrent_create_has_one_winner(store: Store) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        won = store.put("race/key.json", f"writer {n}".encode())
        with lock:
            results.append(won)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert store.get("race/key.json").startswith(b"writer ")


def test_check_passes_on_a_usable_store_and_fails_on_an_unusable_one(
    store: Store, tmp_path: Path
) -> None:
    store.check()  # usable: no error, and the store still works after it
    assert store.put("after-check.txt", b"ok")
    broken: Store
    if isinstance(store, LocalStore):
        (tmp_path / "a-file").write_bytes(b"not a folder")
        broken = LocalStore(tmp_path / "a-file" / "archive")
    else:
        broken = S3Store("s3://no-such-bucket-for-check/archive")
    with pytest.raises(StoreError):
        broken.check()


@pytest.mark.parametrize(
    "key",
    ["a", "runs/x.json", "articles/ap/2024/01/02/abc.json", "a.b/c-d_e", ".hidden/x"],
)
def test_validate_key_accepts(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "/abs", "a//b", "a/", "./a", "a/./b", "../a", "a/../b", "a\\b", "a\x00b", ".", ".."],
)
def test_validate_key_refuses(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def test_invalid_key_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_key("../x")


@pytest.mark.parametrize(
    ("uri", "kind", "root"),
    [
        ("/srv/archive", LocalStore, "/srv/archive"),
        ("./rel/archive", LocalStore, str(Path.cwd() / "rel/archive")),
        ("file:///srv/archive", LocalStore, "/srv/archive"),
        ("~/archive", LocalStore, str(Path.home() / "archive")),
    ],
)
def test_open_store_local_schemes(uri: str, kind: type, root: str) -> None:
    store = open_store(uri)
    assert isinstance(store, kind)
    assert os.path.normpath(store.uri) == os.path.normpath(root)


def test_open_store_s3_scheme() -> None:
    store = open_store("s3://bucket/some/prefix/")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("bucket", "some/prefix")


def test_open_store_unknown_scheme_names_it() -> None:
    with pytest.raises(StoreError, match="ftp"):
        open_store("ftp://x/y")


def test_local_keys_skip_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("runs/r.json", b"x")
    (tmp_path / "runs" / f"{TEMP_PREFIX}r.json.abc{TEMP_SUFFIX}").write_bytes(b"partial")
    assert list(store.keys()) == ["runs/r.json"]


def test_local_keys_walk_only_the_folder_of_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)
    for key in ["articles/ap/2026/1.json", "_state/backfill/ap/m1.json", "runs/r.json"]:
        store.put(key, b"x")
    walked: list[str] = []
    walk = os.walk

    def recording_walk(top: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        walked.append(Path(top).relative_to(tmp_path).as_posix())
        return walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", recording_walk)
    # Not the whole archive (its articles): listing a source's marks stays as cheap as they are.
    assert list(store.keys("_state/backfill/ap/m")) == ["_state/backfill/ap/m1.json"]
    assert walked == ["_state/backfill/ap"]


@pytest.mark.parametrize(("overwrite", "target"), [(True, "replace"), (False, "link")])
def test_local_failed_put_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overwrite: bool, target: str
) -> None:
    store = LocalStore(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, target, fail)
    with pytest.raises(StoreError, match="disk full"):
        store.put("runs/r.json", b"data", overwrite=overwrite)
    assert list((tmp_path / "runs").iterdir()) == []


def test_local_check_refuses_unwritable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(StoreUnavailable, match="not writable"):
        LocalStore(blocker / "archive").check()


def test_local_path_points_at_the_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("a/b.json", b"x")
    path = store.local_path("a/b.json")
    assert path == tmp_path / "a" / "b.json"
    assert path.read_bytes() == b"x"


def test_s3_local_path_is_none() -> None:
    assert S3Store("s3://b/p").local_path("a/b.json") is None


def test_s3_unreachable_endpoint_fails_fast_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "very-secret-value-123"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        open_store("s3://nobucket-xyz/p").check()
    assert time.monotonic() - started < UNREACHABLE_SECONDS
    message = str(caught.value)
    assert secret not in message
    assert "nobucket-xyz" in message
    assert "AWS_ENDPOINT_URL_S3" in message


def test_s3_missing_bucket_is_unavailable(s3_env: dict[str, str]) -> None:
    store = open_store("s3://missing-bucket-xyz/p")
    with pytest.raises(StoreUnavailable, match="missing-bucket-xyz"):
        store.check()
    # Not put: SeaweedFS creates a missing bucket on PUT for an admin identity.
    with pytest.raises(StoreUnavailable, match="missing-bucket-xyz") as caught:
        store.get("a.json")
    assert s3_env["AWS_SECRET_ACCESS_KEY"] not in str(caught.value)


def test_s3_wrong_credentials_are_unavailable(
    s3_env: dict[str, str], s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-456")
    with pytest.raises(StoreUnavailable) as caught:
        S3Store(f"s3://{s3_bucket}/p").put("a.json", b"x")
    assert "wrong-secret-456" not in str(caught.value)


def test_s3_store_keys_are_relative_to_prefix(s3_bucket: str) -> None:
    outer = S3Store(f"s3://{s3_bucket}")
    inner = S3Store(f"s3://{s3_bucket}/root")
    inner.put("a/b.json", b"x")
    outer.put("elsewhere.json", b"y")
    assert list(inner.keys()) == ["a/b.json"]
    assert sorted(outer.keys()) == ["elsewhere.json", "root/a/b.json"]


def test_files_go_up_and_down_streamed(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    # Over the multipart threshold on S3: the object goes up in parts and comes back whole.
    source.write_bytes(os.urandom(1024) * (17 * 1024))
    store.upload_file("_state/base/x.sqlite3", source)
    target = tmp_path / "back.bin"
    store.download_file("_state/base/x.sqlite3", target)
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(KeyNotFound):
        store.download_file("_state/base/missing.sqlite3", tmp_path / "none.bin")


def test_put_tagged_replaces_only_the_version_it_read(store: Store) -> None:
    first = store.put_tagged("_state/manifest.json", b"one", expect=None)
    assert first is not None
    assert store.put_tagged("_state/manifest.json", b"again", expect=None) is None
    data, tag = store.get_tagged("_state/manifest.json")
    assert (data, tag) == (b"one", first)
    second = store.put_tagged("_state/manifest.json", b"two", expect=tag)
    assert second is not None
    assert second != first
    # A writer holding the old version's tag loses: the store keeps the newer object.
    assert store.put_tagged("_state/manifest.json", b"stale", expect=first) is None
    assert store.get("_state/manifest.json") == b"two"
    assert store.put_tagged("_state/other.json", b"x", expect=first) is None
    assert not store.exists("_state/other.json")
