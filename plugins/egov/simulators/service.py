"""Run the agency simulators as separate, long-lived processes on localhost.

``egov sim up`` starts each simulator in its own session (so it outlives the
command), records its pid, port and bearer token under ``<state>/sim`` and
waits for ``/health``. A second ``up`` reuses a healthy process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from egov import config

FIRST_PORT = 18081
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class SimulatorState:
    name: str
    pid: int
    port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _state_dir() -> Path:
    return config.state_dir() / "sim"


def _state_file(name: str) -> Path:
    return _state_dir() / f"{name}.json"


def read_state(name: str) -> SimulatorState | None:
    try:
        return SimulatorState(**json.loads(_state_file(name).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def healthy(state: SimulatorState) -> bool:
    try:
        return requests.get(f"{state.base_url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False



def _token(name: str) -> str:
    """The bearer token: from the environment, else generated once and kept in the state folder."""
    return os.environ.get(f"EGOV_{name.upper()}_TOKEN") or config.persistent_secret(
        f"{name}_token", lambda: secrets.token_urlsafe(24))


def up(name: str = "onestop") -> SimulatorState:
    state = read_state(name)
    if state and healthy(state):
        return state
    _state_dir().mkdir(parents=True, exist_ok=True)
    port, token = config.free_port(FIRST_PORT), _token(name)
    log_path = _state_dir() / f"{name}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "egov.simulators.service", "serve", name, "--port", str(port)],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, f"EGOV_{name.upper()}_TOKEN": token}, start_new_session=True,
        )
    state = SimulatorState(name, process.pid, port, token)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not healthy(state):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = log_path.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError(f"simulator {name} did not start; log {log_path}:\n" + "\n".join(tail))
        time.sleep(0.2)
    _state_file(name).write_text(json.dumps(asdict(state)))
    return state


def _is_simulator(pid: int) -> bool:
    """True if ``pid`` is still a simulator process (pids are reused once a process is gone)."""
    import psutil

    try:
        return "egov.simulators.service" in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def down(name: str = "onestop") -> bool:
    state = read_state(name)
    if state is None:
        return False
    if _is_simulator(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, signal.SIGTERM)
    _state_file(name).unlink(missing_ok=True)
    return True


def build_app(name: str, token: str, faults=None):
    if name != "onestop":
        raise ValueError(f"unknown simulator {name!r}")
    from egov.simulators.onestop.app import create_app
    from egov.simulators.onestop.generator import build_dataset

    return create_app(build_dataset(), token, faults)


def serve(name: str, host: str = "127.0.0.1", port: int = FIRST_PORT) -> None:
    """Serve one simulator in the foreground (what `up` runs in the background, and containers run)."""
    import uvicorn

    uvicorn.run(build_app(name, _token(name)), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m egov.simulators.service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="serve one simulator in the foreground")
    serve_parser.add_argument("name", choices=["onestop"])
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=FIRST_PORT)
    args = parser.parse_args(argv)
    serve(args.name, args.host, args.port)


if __name__ == "__main__":
    main()
