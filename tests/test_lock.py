"""The archive run lock, on a local folder and on a real S3 server (SeaweedFS)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.archive.local_store import LocalStore
from pipelines.archive.lock import (
    CLAIM_PREFIX,
    LOCK_KEY,
    UNREADABLE_HOLDER,
    LockHeld,
    LockInfo,
    LockLost,
    RunLock,
    _pid_dead,
    machine_identity,
    process_started,
)
from pipelines.archive.s3_store import S3Store
from pipelines.archive.stores import Store

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8
LEASE = 60.0
START = 1_800_000_000.0
MARGIN = 0.1 * LEASE  # the last tenth of a lease is left to successors
HELPER_TIMEOUT = 10


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Return an empty store of each backend."""
    if request.param == "local":
        return LocalStore(tmp_path / "archive")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store(f"s3://{bucket}/archive")


def read_lock(store: Store) -> LockInfo:
    info = LockInfo.decode(store.get(LOCK_KEY))
    assert info is not None
    return info


def dead_pid() -> int:
    """Return the pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_acquire_and_release(store: Store) -> None:
    lock = RunLock(store, "run-a", lease_seconds=LEASE, clock=Clock())
    with lock:
        info = read_lock(store)
        assert info.run_id == "run-a"
        assert info.pid == os.getpid()
        assert info.token == lock.token
        assert info.acquired_at == "2027-01-15T08:00:00.000Z"
        assert info.expires_at == "2027-01-15T08:01:00.000Z"
        assert lock.renew_interval == LEASE / 3
    assert not store.exists(LOCK_KEY)
    # Free again: another run can take it.
    with RunLock(store, "run-b"):
        assert read_lock(store).run_id == "run-b"


def test_second_acquire_raises_lock_held(store: Store) -> None:
    clock = Clock()
    with RunLock(store, "run-a", lease_seconds=LEASE, clock=clock) as first:
        clock.now += 30
        with pytest.raises(LockHeld) as caught:
            RunLock(store, "run-b", lease_seconds=LEASE, clock=clock).acquire()
        err = caught.value
        assert err.holder == f"run run-a, pid {os.getpid()} on host {first.host}"
        assert err.since == "2027-01-15T08:00:00.000Z"
        assert err.expires == "2027-01-15T08:01:00.000Z"
        message = str(err)
        assert "\n" not in message
        assert message == (
            f"archive {store.uri} is locked by {err.holder} since {err.since} "
            f"(lease until {err.expires}); wait for it to finish, or remove "
            f"{first.location} if that run is gone"
        )
        assert "run-a" in message
        assert read_lock(store).run_id == "run-a"


def test_lock_location_names_the_object(store: Store) -> None:
    location = RunLock(store, "r").location
    if isinstance(store, LocalStore):
        assert location == str(store.root / "_state" / "lock.json")
    else:
        assert location == f"{store.uri}/_state/lock.json"


def test_expired_lease_is_taken_over(store: Store) -> None:
    clock = Clock()
    old = RunLock(store, "run-old", lease_seconds=LEASE, clock=clock)
    old.acquire()
    clock.now += LEASE - 1
    with pytest.raises(LockHeld):
        RunLock(store, "run-new", lease_seconds=LEASE, clock=clock).acquire()
    clock.now += 1
    new = RunLock(store, "run-new", lease_seconds=LEASE, clock=clock)
    new.acquire()
    assert read_lock(store).run_id == "run-new"
    # The old holder finds out and cannot disturb the new one.
    with pytest.raises(LockLost):
        old.renew()
    old.release()
    assert read_lock(store).token == new.token
    assert list(store.keys(CLAIM_PREFIX)) == []
    new.release()
    assert not store.exists(LOCK_KEY)


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(store: Store) -> None:
    """After a run that could not delete its lock (store down at its end) or a kill -9."""
    clock = Clock()
    gone = RunLock(store, "run-gone", lease_seconds=LEASE, clock=clock)
    gone.pid = dead_pid()
    gone.acquire()
    assert read_lock(store).machine == machine_identity() is not None
    successor = RunLock(store, "run-next", lease_seconds=LEASE, clock=clock)
    successor.acquire()
    assert read_lock(store).run_id == "run-next"


def test_a_reused_pid_does_not_keep_a_dead_holder_alive(store: Store) -> None:
    clock = Clock()
    gone = RunLock(store, "run-gone", lease_seconds=LEASE, clock=clock)
    gone.pid = os.getppid()  # alive now, but the lock says it started at another time
    gone.acquire()
    info = read_lock(store)
    started = process_started(os.getppid())
    assert info.started == started is not None
    store.put(
        LOCK_KEY,
        dataclasses.replace(info, started=started + 1).encode(),
        overwrite=True,
    )
    RunLock(store, "run-next", lease_seconds=LEASE, clock=clock).acquire()
    assert read_lock(store).run_id == "run-next"


@pytest.mark.parametrize(
    "machine",
    [
        "another-boot-id/pid:[1]",
        "00000000-0000-0000-0000-000000000000/pid:[1]",  # sorts before any machine here
        "~/pid:[1]",  # and after
    ],
)
def test_a_holder_on_another_machine_is_judged_by_its_lease_only(
    store: Store, machine: str
) -> None:
    clock = Clock()
    elsewhere = RunLock(store, "run-elsewhere", lease_seconds=LEASE, clock=clock)
    elsewhere.pid = dead_pid()  # dead here, but that pid means nothing on another machine
    elsewhere.machine = machine
    elsewhere.acquire()
    with pytest.raises(LockHeld, match="run-elsewhere"):
        RunLock(store, "run-next", lease_seconds=LEASE, clock=clock).acquire()
    clock.now += LEASE
    RunLock(store, "run-next", lease_seconds=LEASE, clock=clock).acquire()
    assert read_lock(store).run_id == "run-next"


def test_an_older_lock_without_machine_is_trusted_by_pid_on_local_only(store: Store) -> None:
    clock = Clock()
    gone = RunLock(store, "run-gone", lease_seconds=LEASE, clock=clock)
    gone.pid = dead_pid()
    gone.machine = None
    gone.acquire()
    successor = RunLock(store, "run-next", lease_seconds=LEASE, clock=clock)
    if isinstance(store, LocalStore):
        successor.acquire()
        assert read_lock(store).run_id == "run-next"
    else:
        # An S3 archive is shared between hosts that may share a hostname.
        with pytest.raises(LockHeld, match="run-gone"):
            successor.acquire()


def test_live_pid_on_local_is_not_taken_over(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    holder = RunLock(store, "run-live", lease_seconds=LEASE)
    holder.pid = os.getppid()  # alive, and not this process
    holder.acquire()
    with pytest.raises(LockHeld, match="run-live"):
        RunLock(store, "run-next", lease_seconds=LEASE).acquire()


def test_release_by_non_holder_keeps_the_lock(store: Store) -> None:
    holder = RunLock(store, "run-a", lease_seconds=LEASE)
    holder.acquire()
    other = RunLock(store, "run-b", lease_seconds=LEASE)
    other.release()
    assert read_lock(store).token == holder.token
    with pytest.raises(LockHeld):
        other.acquire()
    other.release()
    assert read_lock(store).token == holder.token
    holder.release()
    assert not store.exists(LOCK_KEY)


def test_renew_extends_the_lease(store: Store) -> None:
    clock = Clock()
    lock = RunLock(store, "run-a", lease_seconds=LEASE, clock=clock)
    lock.acquire()
    before = read_lock(store)
    clock.now += lock.renew_interval
    lock.renew()
    after = read_lock(store)
    assert after.acquired_at == before.acquired_at
    assert after.expires_at == "2027-01-15T08:01:20.000Z"
    assert after.token == lock.token
    # The renewed lease keeps successors out past the first expiry.
    clock.now = START + LEASE + 5
    with pytest.raises(LockHeld, match=r"lease until 2027-01-15T08:01:20\.000Z"):
        RunLock(store, "run-b", lease_seconds=LEASE, clock=clock).acquire()


def test_a_late_release_leaves_a_lock_a_successor_is_taking_over(store: Store) -> None:
    # The lease has run out and a successor has won the takeover claim but not yet replaced
    # the lock: the old holder's release must not delete it under the successor's feet.
    clock = Clock()
    lock = RunLock(store, "run-a", lease_seconds=LEASE, clock=clock)
    lock.acquire()
    stale = read_lock(store)
    clock.now += LEASE
    claim = f"{CLAIM_PREFIX}{stale.token}.0.json"
    body = {"run_id": "run-b", "token": "b", "at": "2027-01-15T08:01:00.000Z"}
    assert store.put(claim, json.dumps(body).encode())
    lock.release()
    assert read_lock(store) == stale
    assert store.exists(claim)  # the successor's claim is the successor's to drop


def test_renew_after_the_lease_ran_out_raises_lock_lost(store: Store) -> None:
    clock = Clock()
    lock = RunLock(store, "run-a", lease_seconds=LEASE, clock=clock)
    lock.acquire()
    clock.now += LEASE
    with pytest.raises(LockLost, match="ran out"):
        lock.renew()
    # Its own late release still cleans up when nobody took over.
    lock.release()
    assert not store.exists(LOCK_KEY)


@pytest.mark.parametrize(
    ("left", "renewed"),
    [
        (MARGIN + 1.0, True),  # just outside the margin: renewed
        (MARGIN - 1.0, False),  # inside it, lease not yet out: a successor may
        (1.0, False),  # be taking over, so overwriting could clobber its lock
    ],
)
def test_renew_near_the_end_of_the_lease_gives_up_inside_the_margin(
    store: Store, left: float, renewed: bool
) -> None:
    clock = Clock()
    lock = RunLock(store, "run-a", lease_seconds=LEASE, clock=clock)
    lock.acquire()
    clock.now += LEASE - left
    if renewed:
        lock.renew()
        assert expires_at(store) == clock.now + LEASE
    else:
        with pytest.raises(LockLost, match="ran out"):
            lock.renew()
        assert expires_at(store) == START + LEASE  # left alone


def expires_at(store: Store) -> float:
    """Return the lease end the lock object holds, as epoch seconds."""
    return datetime.fromisoformat(read_lock(store).expires_at).timestamp()


def test_renew_of_a_removed_lock_raises_lock_lost(store: Store) -> None:
    lock = RunLock(store, "run-a", lease_seconds=LEASE)
    lock.acquire()
    store.delete(LOCK_KEY)
    with pytest.raises(LockLost, match="gone"):
        lock.renew()


def test_renew_of_a_lock_overwritten_with_garbage_raises_lock_lost(store: Store) -> None:
    lock = RunLock(store, "run-a", lease_seconds=LEASE)
    lock.acquire()
    store.put(LOCK_KEY, b"{not json", overwrite=True)
    with pytest.raises(LockLost) as caught:
        lock.renew()
    assert str(caught.value).endswith(f"is now held by {UNREADABLE_HOLDER}")


def test_unreadable_lock_is_reported_as_held(store: Store) -> None:
    store.put(LOCK_KEY, b"{not json")
    clock = Clock(START + 10 * LEASE)
    with pytest.raises(LockHeld) as caught:
        RunLock(store, "run-a", lease_seconds=LEASE, clock=clock).acquire()
    assert caught.value.holder == UNREADABLE_HOLDER
    assert UNREADABLE_HOLDER in str(caught.value)
    assert store.get(LOCK_KEY) == b"{not json"


def race(locks: list[RunLock]) -> tuple[list[RunLock], list[BaseException]]:
    """Acquire every lock from its own thread at once; return the winners and the errors."""
    barrier = threading.Barrier(len(locks))
    winners: list[RunLock] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def attempt(lock: RunLock) -> None:
        barrier.wait()
        try:
            lock.acquire()
        except BaseException as err:
            with guard:
                errors.append(err)
        else:
            with guard:
                winners.append(lock)

    threads = [threading.Thread(target=attempt, args=(lock,)) for lock in locks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return winners, errors


def test_concurrent_acquire_has_one_winner(store: Store) -> None:
    locks = [RunLock(store, f"run-{i}", lease_seconds=LEASE) for i in range(THREADS)]
    winners, errors = race(locks)
    assert len(winners) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(err, LockHeld) for err in errors)
    assert read_lock(store).token == winners[0].token


def test_successors_racing_a_stale_lock_have_one_winner(store: Store) -> None:
    RunLock(store, "run-stale", lease_seconds=LEASE, clock=Clock()).acquire()
    later = Clock(START + 2 * LEASE)
    locks = [RunLock(store, f"run-{i}", lease_seconds=LEASE, clock=later) for i in range(THREADS)]
    winners, errors = race(locks)
    assert len(winners) == 1, errors
    assert all(isinstance(err, LockHeld) for err in errors)
    assert all("run-stale" not in str(err) for err in errors)
    assert read_lock(store).token == winners[0].token
    assert list(store.keys(CLAIM_PREFIX)) == []


class PausingStore:
    """A store that runs a callback right after its first read of the lock object."""

    def __init__(self, inner: Store, callback: object) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.callback = callback
        self.fired = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def get(self, key: str) -> bytes:
        data = self.inner.get(key)
        if key == LOCK_KEY and not self.fired:
            self.fired = True
            assert callable(self.callback)
            self.callback()
        return data


def test_slow_successor_does_not_delete_the_fast_ones_lock(store: Store) -> None:
    RunLock(store, "run-stale", lease_seconds=LEASE, clock=Clock()).acquire()
    later = Clock(START + 2 * LEASE)
    fast = RunLock(store, "run-fast", lease_seconds=LEASE, clock=later)
    # The slow successor has read the stale lock when the fast one takes over completely.
    slow_store = PausingStore(store, fast.acquire)
    slow = RunLock(slow_store, "run-slow", lease_seconds=LEASE, clock=later)  # type: ignore[arg-type]
    with pytest.raises(LockHeld, match="run-fast"):
        slow.acquire()
    assert slow_store.fired
    assert read_lock(store).token == fast.token


def test_takeover_waits_for_a_fresh_claim_but_not_an_abandoned_one(store: Store) -> None:
    stale = RunLock(store, "run-stale", lease_seconds=LEASE, clock=Clock())
    stale.acquire()
    later = Clock(START + 3 * LEASE)
    claim = f"{CLAIM_PREFIX}{stale.token}.0.json"
    fresh = {"run_id": "run-other", "token": "x", "at": "2027-01-15T08:03:00.000Z"}
    store.put(claim, json.dumps(fresh).encode())
    # Another successor is mid-takeover: stand back.
    with pytest.raises(LockHeld, match="run-stale"):
        RunLock(store, "run-a", lease_seconds=LEASE, clock=later).acquire()
    # That successor crashed a lease ago: the next claim number is free to take.
    later.now += LEASE
    RunLock(store, "run-a", lease_seconds=LEASE, clock=later).acquire()
    assert read_lock(store).run_id == "run-a"
    assert list(store.keys(CLAIM_PREFIX)) == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"{}", b'{"at": 5}'])
def test_an_unreadable_takeover_claim_is_abandoned(tmp_path: Path, body: bytes) -> None:
    store = LocalStore(tmp_path / "archive")
    stale = RunLock(store, "run-stale", lease_seconds=LEASE, clock=Clock())
    stale.acquire()
    store.put(f"{CLAIM_PREFIX}{stale.token}.0.json", body)
    RunLock(store, "run-a", lease_seconds=LEASE, clock=Clock(START + 3 * LEASE)).acquire()
    assert read_lock(store).run_id == "run-a"
    assert list(store.keys(CLAIM_PREFIX)) == []


HELPER = """
import sys, time
from pipelines.archive.lock import RunLock
from pipelines.archive.local_store import LocalStore
lock = RunLock(LocalStore(sys.argv[1]), "run-helper")
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def helper(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate OS process that holds the lock on tmp_path/archive until killed."""
    script = tmp_path / "hold_lock.py"
    script.write_text(textwrap.dedent(HELPER))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "archive")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=HELPER_TIMEOUT)


def test_two_processes_and_a_killed_holder(tmp_path: Path, helper: subprocess.Popen[str]) -> None:
    assert helper.stdout is not None
    line = helper.stdout.readline()
    assert line.strip() == "locked", helper.stderr.read() if helper.stderr else ""
    store = LocalStore(tmp_path / "archive")
    with pytest.raises(LockHeld, match=rf"run run-helper, pid {helper.pid} "):
        RunLock(store, "run-main").acquire()
    helper.kill()  # SIGKILL: no release, the lock object stays behind
    helper.wait(timeout=HELPER_TIMEOUT)
    assert read_lock(store).pid == helper.pid
    with RunLock(store, "run-main"):
        assert read_lock(store).run_id == "run-main"
    assert not store.exists(LOCK_KEY)


@pytest.mark.parametrize(("lease", "accepted"), [(0.5, True), (1, True), (0, False), (-5, False)])
def test_a_lease_must_be_positive(tmp_path: Path, lease: float, accepted: bool) -> None:
    store = LocalStore(tmp_path / "archive")
    if accepted:
        assert RunLock(store, "run-a", lease_seconds=lease).lease_seconds == lease
    else:
        with pytest.raises(ValueError, match=f"lease_seconds must be positive, not {lease}"):
            RunLock(store, "run-a", lease_seconds=lease)


def _started_by_proc(pid: int) -> int:
    """A process's start time read another way: the fields after the last ") " of its stat."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    match = re.fullmatch(r"(\d+) \((.*)\) (.*)", stat.strip(), re.DOTALL)
    assert match is not None
    return int(match.group(3).split()[19])


@pytest.mark.parametrize("name", ["s", "sl", "sle", "slee", "sl) (p", "a b c (d"])
def test_process_started_reads_any_command_name(tmp_path: Path, name: str) -> None:
    # The command name sets where the fields start: names of several lengths and with
    # parentheses and spaces move the last ")" across byte boundaries.
    program = tmp_path / name
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", program)
    child = subprocess.Popen([str(program), "30"])
    try:
        assert process_started(child.pid) == _started_by_proc(child.pid)
    finally:
        child.kill()
        child.wait()


def test_a_process_that_does_not_exist_has_no_start_time() -> None:
    assert process_started(2**22 + 1) is None  # above the kernel's largest pid


def test_asking_whether_a_process_lives_does_not_signal_it() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert not _pid_dead(child.pid)
        time.sleep(0.2)
        assert child.poll() is None  # still running: no signal was sent
    finally:
        child.kill()
        child.wait()
    assert _pid_dead(child.pid)  # reaped: no such process
