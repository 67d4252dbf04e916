"""Where the project keeps its state and how it reaches PostgreSQL.

Everything the project generates lives under one git-ignored state folder
(``.egov/`` at the project root unless ``EGOV_STATE_DIR`` says otherwise).
The database is the embedded pgserver cluster unless ``EGOV_DATABASE_URL``
points at an external server.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

#: The province's time zone: agencies count their days in it, and so do the DAGs' data intervals.
#: Where a name is wanted (SQL, pendulum, Airflow timetables), it is ``LOCAL_TIMEZONE.key``.
LOCAL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DAGS_DIR = PROJECT_ROOT / "dags"
PLUGINS_DIR = PROJECT_ROOT / "plugins"
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: Schemas of the warehouse database, one per layer.
WAREHOUSE_SCHEMAS = ("raw", "staging", "intermediate", "marts", "reporting", "published", "audit", "lineage")

EXTERNAL_URL_VAR = "EGOV_DATABASE_URL"


def venv_tool(name: str) -> str:
    """A command installed beside this Python (the project's venv), else whatever PATH finds."""
    beside_python = Path(sys.executable).with_name(name)
    return str(beside_python) if beside_python.exists() else name


def free_port(first: int, tries: int = 200) -> int:
    """The first port from ``first`` on that nothing listens on at 127.0.0.1."""
    for port in range(first, first + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free TCP port on 127.0.0.1 in {first}..{first + tries - 1}")


def state_dir() -> Path:
    return Path(os.environ.get("EGOV_STATE_DIR", PROJECT_ROOT / ".egov")).resolve()


def persistent_secret(name: str, make) -> str:
    """A generated secret kept in ``<state>/secrets/<name>``, readable by its owner only."""
    path = state_dir() / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
    return path.read_text().strip()


def warehouse_db_name() -> str:
    return os.environ.get("EGOV_WAREHOUSE_DB", "egov")


def airflow_db_name() -> str:
    return os.environ.get("EGOV_AIRFLOW_DB", "airflow")


@contextmanager
def named_databases(warehouse: str, airflow: str | None = None) -> Iterator[None]:
    """Inside the block, the warehouse (and Airflow metadata) databases on the server are these; as before after."""
    wanted = {"EGOV_WAREHOUSE_DB": warehouse, **({"EGOV_AIRFLOW_DB": airflow} if airflow else {})}
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class PgTarget:
    """Connection parts of one database on the server."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def url(self, driver: str = "postgresql") -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"{driver}://{auth}@{self.host}:{self.port}/{self.dbname}"

    def with_db(self, dbname: str) -> PgTarget:
        return PgTarget(self.host, self.port, self.user, self.password, dbname)

    def libpq_env(self) -> dict[str, str]:
        """The variables dbt's profile and libpq clients read."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }


def parse_pg_url(url: str) -> PgTarget:
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ValueError(f"{EXTERNAL_URL_VAR} must be a postgresql:// URL, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"{EXTERNAL_URL_VAR} needs a host (postgresql://user:password@host:5432/db)")
    dbname = parts.path.lstrip("/") or warehouse_db_name()
    return PgTarget(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=dbname,
    )


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
