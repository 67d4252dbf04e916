"""The environment every Airflow process of the project runs with.

Airflow is configured entirely through ``AIRFLOW__*`` variables and its
connections through ``AIRFLOW_CONN_*`` ones, built here from the project's
state (the database and the registered source systems), so nothing depends on clicks in
the UI or on an ``airflow.cfg`` edited by hand.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from egov.core import config, db
from egov.core.sources import SOURCES

#: One Airflow connection to the warehouse per job, each signing in as that job's role (egov.core.roles).
WAREHOUSE_CONN_IDS = {key: f"egov_warehouse_{key}" for key in ("loader", "dbt", "gate", "publisher")}


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def airflow_home() -> Path:
    return config.state_dir() / "airflow"


def postgres_connection(target: config.PgTarget) -> dict:
    """An Airflow connection (as the JSON of an ``AIRFLOW_CONN_*`` variable) to the database of ``target``."""
    return {"conn_type": "postgres", "host": target.host, "port": target.port, "login": target.user,
            "password": target.password, "schema": target.dbname}


def connections_dir() -> Path:
    """Where the systems the sources are read from are registered, one Airflow connection per file."""
    return config.state_dir() / "connections"


def register_connection(connection_id: str, connection: dict) -> None:
    """Record how to reach a source system, for every Airflow process started from now on.

    Whoever brings a system up registers it (the simulators of ``egov_demo`` do); a deployment can
    instead set ``AIRFLOW_CONN_<ID>`` itself, as docker-compose.yml does.
    """
    connections_dir().mkdir(parents=True, exist_ok=True)
    path = connections_dir() / f"{connection_id}.json"
    path.touch(mode=0o600)  # it holds the system's password or token
    path.write_text(json.dumps(connection))


def unregister_connection(connection_id: str) -> None:
    (connections_dir() / f"{connection_id}.json").unlink(missing_ok=True)


def connection_env() -> dict[str, str]:
    """``AIRFLOW_CONN_*`` for the warehouse (one per job) and every registered source system of the registry."""
    env = {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(postgres_connection(db.job_target(job)))
           for job, conn_id in WAREHOUSE_CONN_IDS.items()}
    for source in SOURCES.values():
        registered = connections_dir() / f"{source.connection_id}.json"
        if registered.exists():
            env[f"AIRFLOW_CONN_{source.connection_id.upper()}"] = registered.read_text()
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
