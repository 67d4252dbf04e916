"""What every command of the ``egov`` command line shares: one clear line for a failure, and output."""

from __future__ import annotations


class CommandError(RuntimeError):
    """A failure to report to the user in one clear line, without a traceback (exit code 2)."""


def say(message: str = "") -> None:
    """A line of output, flushed at once: long runs show their progress as it happens."""
    print(message, flush=True)
