"""The exit statuses of every command, and the error that ends a command with one."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75  # another run holds the archive's lock (EX_TEMPFAIL: try again later)


class RunError(Exception):
    """A problem that stops a run before it starts; str() is the one line to print."""

    def __init__(self, message: str, exit_status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def fail(message: str, status: int) -> int:
    """Print a one-line error the way every command does, and return its exit status."""
    print(f"wirearchive: {message}", file=sys.stderr)
    return status
