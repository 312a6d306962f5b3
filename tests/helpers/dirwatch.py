"""Tell which folders a piece of code opened, from the kernel's own inotify events.

Tests run as root, so an unreadable folder proves nothing (root reads it anyway) and a
timing bound is flaky: the kernel reporting each opened folder is a check that holds for
any user. Linux only, as the archive's lock and temp files are.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IN_OPEN = 0x00000020
EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)


@contextmanager
def opened_folders(folders: list[Path]) -> Iterator[set[Path]]:
    """Yield a set that, after the block, holds those of ``folders`` opened within it."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    try:
        watched: dict[int, Path] = {}
        for folder in folders:
            wd = libc.inotify_add_watch(fd, os.fsencode(folder), IN_OPEN)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
            watched[wd] = folder
        opened: set[Path] = set()
        yield opened
        opened.update(watched[wd] for wd in _events(fd) if wd in watched)
    finally:
        os.close(fd)


def _events(fd: int) -> Iterator[int]:
    """Yield the watch of each queued event (the opened folder itself: no name follows)."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        offset = 0
        while offset < len(data):
            wd, _mask, _cookie, length = EVENT_HEADER.unpack_from(data, offset)
            yield wd
            offset += EVENT_HEADER.size + length
