"""Bring up the six simulated agency systems, each behind the kind of interface the real one has.

The HTTP APIs (one-stop, CA, portal) run as separate, long-lived processes on
localhost: ``up`` starts each in its own session (so it outlives the command),
records its pid, port and bearer token under ``<state>/sim`` and waits for
``/health``; a second ``up`` reuses a healthy process. The document-management
system is provisioned as its own database on the project's PostgreSQL server,
and the mail system and the department's registers drop their exports into
landing folders (``<state>/landing``, or ``EGOV_LANDING_DIR``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from egov.core import config
from egov.core.sources import SOURCES
from egov.orchestration.airflow_env import postgres_connection, register_connection, unregister_connection

if TYPE_CHECKING:
    from egov_demo.simulators.docmgmt.database import DocMgmtDatabase

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
        register(state)  # again: idempotent, and one left running by an older checkout has no connection yet
        return state
    _state_dir().mkdir(parents=True, exist_ok=True)
    port, token = config.free_port(FIRST_PORT), _token(name)
    log_path = _state_dir() / f"{name}.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "egov_demo.simulators.service", "serve", name, "--port", str(port)],
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
    register(state)
    return state


def register(state: SimulatorState) -> None:
    """Record a running HTTP simulator: for `egov sim status`, and as its source's Airflow connection."""
    _state_dir().mkdir(parents=True, exist_ok=True)
    _state_file(state.name).write_text(json.dumps(asdict(state)))
    register_connection(SOURCES[state.name].connection_id, {
        "conn_type": "http", "host": "127.0.0.1", "port": state.port, "schema": "http", "password": state.token})


def unregister(name: str) -> None:
    _state_file(name).unlink(missing_ok=True)
    unregister_connection(SOURCES[name].connection_id)


def _is_simulator(pid: int) -> bool:
    """True if ``pid`` is still a simulator process (pids are reused once a process is gone)."""
    import psutil

    try:
        return "egov_demo.simulators.service" in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def down(name: str = "onestop") -> bool:
    state = read_state(name)
    if state is None:
        return False
    if _is_simulator(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, signal.SIGTERM)
    unregister(name)
    return True


HTTP_SIMULATORS = ("onestop", "ca", "portal")
#: The simulated history every file drop covers.
DROP_HISTORY = (date(2018, 1, 1), date(2019, 12, 31))


def build_app(name: str, token: str, faults=None):
    """The FastAPI app of HTTP simulator ``name`` over its default dataset."""
    if name not in HTTP_SIMULATORS:
        raise ValueError(f"unknown HTTP simulator {name!r}; known: {', '.join(HTTP_SIMULATORS)}")
    app_module = importlib.import_module(f"egov_demo.simulators.{name}.app")
    generator = importlib.import_module(f"egov_demo.simulators.{name}.generator")
    return app_module.create_app(generator.build_dataset(), token, faults)


def landing_dir(source_key: str) -> Path:
    root = Path(os.environ.get("EGOV_LANDING_DIR") or config.state_dir() / "landing")
    return root / source_key


def drop_files(first: date = DROP_HISTORY[0], last: date = DROP_HISTORY[1]) -> dict[str, int]:
    """Write the mail system's daily CSV exports and the registers' monthly workbooks; idempotent."""
    from egov_demo.simulators.mail import dropbox
    from egov_demo.simulators.mail import generator as mail
    from egov_demo.simulators.registers import generator as registers
    from egov_demo.simulators.registers import workbook

    folders = {key: landing_dir(key) for key in ("mail", "registers")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    mail_files = dropbox.write_range(mail.build_dataset(), folders["mail"], first, last)
    register_files = workbook.write_range(registers.build_dataset(), folders["registers"], first, last)
    for key, folder in folders.items():
        register_connection(SOURCES[key].connection_id, {"conn_type": "fs", "extra": {"path": str(folder)}})
    return {"mail": len(mail_files), "registers": len(register_files)}


def up_docmgmt(server: config.PgTarget | None = None) -> DocMgmtDatabase:
    """The document-management system's database, provisioned and registered as its source's connection."""
    # Imported here: its generator needs pandas, which `egov sim status` and every other command loading this
    # module would otherwise pay a fifth of a second for.
    from egov_demo.simulators.docmgmt import database

    provisioned = database.provision(server)
    register_connection(SOURCES["docmgmt"].connection_id, postgres_connection(provisioned.reader_target()))
    return provisioned


def up_all() -> dict[str, str]:
    """Every simulated system, ready to be extracted: where each one is."""
    where = {name: up(name).base_url for name in HTTP_SIMULATORS}
    reader = up_docmgmt().reader_target()
    where["docmgmt"] = config.redact(reader.url())
    drop_files()
    where.update({key: str(landing_dir(key)) for key in ("mail", "registers")})
    return where


def serve(name: str, host: str = "127.0.0.1", port: int = FIRST_PORT) -> None:
    """Serve one simulator in the foreground (what `up` runs in the background, and containers run)."""
    import uvicorn

    uvicorn.run(build_app(name, _token(name)), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m egov_demo.simulators.service")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="serve one simulator in the foreground")
    serve_parser.add_argument("name", choices=HTTP_SIMULATORS)
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=FIRST_PORT)
    args = parser.parse_args(argv)
    serve(args.name, args.host, args.port)


if __name__ == "__main__":
    main()
