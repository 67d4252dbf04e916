"""The environment every Airflow process of the project runs with.

Airflow is configured entirely through ``AIRFLOW__*`` variables and its
connections through ``AIRFLOW_CONN_*`` ones, built here from the project's
state (database, simulator ports and tokens), so nothing depends on clicks in
the UI or on an ``airflow.cfg`` edited by hand.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from egov_demo.simulators import service

from egov.core import config, db
from egov.core.sources import SOURCES, Source

WAREHOUSE_CONN_ID = "egov_warehouse"


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def airflow_home() -> Path:
    return config.state_dir() / "airflow"


def _postgres_connection(target: config.PgTarget) -> str:
    return json.dumps({"conn_type": "postgres", "host": target.host, "port": target.port, "login": target.user,
                       "password": target.password, "schema": target.dbname})


def _source_connection(source: Source, warehouse: config.PgTarget) -> str | None:
    """Where the simulated system behind ``source`` is, as its Airflow connection; None if it is not up."""
    if source.interface == "http":
        state = service.read_state(source.key)
        return state and json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": state.port,
                                     "schema": "http", "password": state.token})
    if source.interface == "sql":
        from egov_demo.simulators.docmgmt import database as docmgmt_database

        return _postgres_connection(docmgmt_database.reader_target(warehouse))
    return json.dumps({"conn_type": "fs", "extra": {"path": str(service.landing_dir(source.key))}})


def connection_env() -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for the warehouse and, from the source registry, every simulated source."""
    warehouse = db.warehouse_target()
    env = {f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": _postgres_connection(warehouse)}
    for source in SOURCES.values():
        connection = _source_connection(source, warehouse)
        if connection:
            env[f"AIRFLOW_CONN_{source.connection_id.upper()}"] = connection
    return env


def airflow_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    project_defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(config.PLUGINS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        # The first retry waits this long, each next one twice as long (the DAGs' exponential backoff).
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "20",
        "AIRFLOW__CORE__FERNET_KEY": config.persistent_secret("fernet_key", _fernet_key),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db.airflow_target().url("postgresql+psycopg2"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": env.get("EGOV_AIRFLOW_PORT", "8080"),
        "AIRFLOW__API_AUTH__JWT_SECRET": config.persistent_secret("jwt_secret", lambda: secrets.token_urlsafe(32)),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }
    # Anything the user already set wins, so any Airflow setting can be changed from the shell.
    env = {**project_defaults, **env}
    env.update({
        "EGOV_STATE_DIR": str(config.state_dir()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(config.PLUGINS_DIR), env.get("PYTHONPATH")])),
        # `airflow standalone` starts its components as `airflow ...` found on PATH.
        "PATH": os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")])),
    })
    return {**connection_env(), **env}
