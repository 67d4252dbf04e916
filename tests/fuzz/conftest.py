"""The fuzz suite's report: its seed and its counts per interface kind, printed at the end of every run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from fuzz_checks import TALLIES, summary

    if TALLIES:
        terminalreporter.section("payload fuzz")
        for line in summary():
            terminalreporter.write_line(line)
