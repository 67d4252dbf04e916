"""Test set-up: an isolated state folder, its own PostgreSQL databases and an in-process simulator.

Tests never touch what `make run` built: they use the state folder ``.egov/test`` (its own
embedded cluster) or, with EGOV_DATABASE_URL set, the databases ``egov_test`` and
``airflow_test`` on that server.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from egov.core import config as egov_config

TEST_STATE = egov_config.PROJECT_ROOT / ".egov" / "test"


_started_server = False


def pytest_configure(config: pytest.Config) -> None:
    """Point everything at the test state before Airflow is first imported, and start the server."""
    global _started_server
    from egov.core import db
    from egov.orchestration.airflow_env import airflow_env

    os.environ.setdefault("EGOV_STATE_DIR", str(TEST_STATE))
    if db.external_url():
        os.environ.setdefault("EGOV_WAREHOUSE_DB", "egov_test")
        os.environ.setdefault("EGOV_AIRFLOW_DB", "airflow_test")
    else:
        _started_server = not db.EmbeddedServer().is_running()
    db.up()
    # A simulator registration left by an interrupted session would point Airflow at a dead port.
    for stale in [*(egov_config.state_dir() / "sim").glob("*.json"),
                  *(egov_config.state_dir() / "connections").glob("*.json")]:
        stale.unlink()
    os.environ.update(airflow_env())


def pytest_unconfigure(config: pytest.Config) -> None:
    from egov.core import db

    if _started_server:
        db.down()


@pytest.fixture(scope="session")
def database():
    from egov.core import db

    return db.admin_target()


@pytest.fixture(scope="session")
def dataset():
    from egov_demo.simulators.onestop.generator import build_dataset

    return build_dataset()


class SimulatorThread:
    """An HTTP simulator served by uvicorn in a thread, with faults the tests can switch on."""

    def __init__(self, name: str, dataset, token: str = "test-token"):
        import importlib

        app_module = importlib.import_module(f"egov_demo.simulators.{name}.app")
        generator = importlib.import_module(f"egov_demo.simulators.{name}.generator")
        self.name, self.token, self.dataset = name, token, dataset
        self.faults = generator.Faults()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.app = app_module.create_app(dataset, token, self.faults)
        self._new_server()

    def _new_server(self) -> None:
        import uvicorn

        server_config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(server_config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimulatorThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"test simulator {self.name} did not start")
            time.sleep(0.05)
        return self

    def reset_faults(self) -> None:
        self.faults.__init__()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def restart(self) -> None:
        """Serve again on the same port after :meth:`stop` (the system is back after an outage)."""
        self._new_server()
        self.start()


def _refresh_connections() -> None:
    """Airflow's connections as the test state folder now registers them (a simulated system just came up)."""
    from egov.orchestration.airflow_env import connection_env

    os.environ.update(connection_env())


def _registered(sim: SimulatorThread):
    """Serve ``sim`` registered in the test state folder, so Airflow's connection points at it."""
    from egov_demo.simulators import service

    service.register(service.SimulatorState(sim.name, os.getpid(), sim.port, sim.token))
    assert service.healthy(service.read_state(sim.name))
    _refresh_connections()
    try:
        yield sim
    finally:
        sim.stop()
        service.unregister(sim.name)


@pytest.fixture(scope="session")
def simulator(dataset):
    """The one-stop simulator."""
    yield from _registered(SimulatorThread("onestop", dataset).start())


@pytest.fixture(scope="session")
def ca_dataset():
    from egov_demo.simulators.ca.generator import build_dataset

    return build_dataset()


@pytest.fixture(scope="session")
def ca_simulator(ca_dataset):
    yield from _registered(SimulatorThread("ca", ca_dataset).start())


@pytest.fixture(scope="session")
def portal_dataset():
    from egov_demo.simulators.portal.generator import build_dataset

    return build_dataset()


@pytest.fixture(scope="session")
def portal_simulator(portal_dataset):
    yield from _registered(SimulatorThread("portal", portal_dataset).start())


@pytest.fixture(scope="session")
def docmgmt(database):
    """The document-management system's database, provisioned on the test server."""
    from egov_demo.simulators import service

    provisioned = service.up_docmgmt(database)
    _refresh_connections()
    return provisioned


@pytest.fixture(scope="session")
def landing():
    """The test state's landing folders, filled with the mail and register exports of the simulated history."""
    from egov_demo.simulators import service

    service.drop_files()
    _refresh_connections()
    return {key: service.landing_dir(key) for key in ("mail", "registers")}


@pytest.fixture(scope="session")
def all_sources(simulator, ca_simulator, portal_simulator, docmgmt, landing):
    """Every simulated system up, as `make run` has them."""
    return {"onestop": simulator, "ca": ca_simulator, "portal": portal_simulator, "docmgmt": docmgmt,
            "landing": landing}


@pytest.fixture(scope="session")
def loaded_q1(all_sources):
    """Q1/2019 of every system loaded through the real extract DAGs, as `make run` loads it."""
    from egov.core.periods import parse_period
    from egov.core.sources import SOURCES
    from egov.orchestration.runner import migrate, run_dag

    migrate()
    q1 = parse_period("2019Q1")
    for key, source in SOURCES.items():
        outcome = run_dag(f"egov_extract_{key}", q1.end.isoformat(),
                          {"window_start": str(source.full_load_start(q1.start)), "window_end": str(q1.end)})
        assert outcome.succeeded, outcome.summary()
    return all_sources
