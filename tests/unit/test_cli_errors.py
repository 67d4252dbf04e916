"""Bad input and an unreachable warehouse give one clear line and exit 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def egov(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "egov.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, check=False)


@pytest.mark.parametrize("args", [
    ("figures", "--period", "2019Q1"),
    ("trace", "2019Q1"),
    ("audit-pack", "2019Q1"),
    ("report", "2019Q1"),
])
def test_an_unreachable_warehouse_is_one_line_naming_what_to_do(args):
    done = egov(*args, EGOV_DATABASE_URL=f"postgresql://nobody:secret@127.0.0.1:{free_port()}/egov")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("egov: cannot reach the warehouse") and "egov db up" in done.stderr
    assert "secret" not in done.stderr


@pytest.mark.parametrize("args, message", [
    (("trace", "2019Q5"), "period must look like 2019Q1"),
    (("audit-pack",), "give the period to pack"),
    (("waive", "--source", "fax", "--day", "2019-03-01", "--reason", "x"), "unknown source 'fax'"),
    (("waive", "--source", "mail", "--day", "2019-03-02", "--to", "2019-03-01", "--reason", "x"), "is before"),
])
def test_bad_arguments_are_refused_before_anything_runs(args, message):
    done = egov(*args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
