"""The project's PostgreSQL: an embedded pgserver cluster, or an external server.

The embedded cluster uses the PostgreSQL binaries shipped in the ``pgserver``
wheel, but is driven directly with ``initdb``/``pg_ctl`` rather than through
``pgserver.get_server``: that helper listens on a Unix socket only and stops
the server when the Python process that started it exits, while every tool
here (Airflow, dbt, Great Expectations, psql) wants one long-lived server on
127.0.0.1 that survives between commands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import secrets
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from egov.core import config, grants, roles
from egov.core.sources import SOURCES
from egov.core.warehouse import ensure_ddl, ensure_raw_table

SERVER_USER = "postgres"
FIRST_PORT = 54329
START_TIMEOUT_S = 60

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database could not be started, reached or prepared."""


@dataclass(frozen=True)
class ServerStatus:
    mode: str  # "embedded" or "external"
    running: bool
    url: str
    pid: int | None = None
    data_dir: Path | None = None


def _pg_bin(name: str) -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise DatabaseError("the pgserver package is not installed: run `make install`")
    return Path(spec.origin).parent / "pginstall" / "bin" / name


class EmbeddedServer:
    """A project-local cluster under ``<state>/pg``, listening on 127.0.0.1."""

    def __init__(self, root: Path | None = None):
        self.root = root or config.state_dir() / "pg"
        self.data_dir = self.root / "data"
        self.port_file = self.root / "port"
        self.log_file = self.data_dir / "server.log"

    # PostgreSQL refuses to run as root; pgserver's convention is a system user of its own.
    @property
    def _os_user(self) -> str | None:
        return "pgserver" if os.geteuid() == 0 else None

    def _run(self, program: str, *args: str, timeout: float = START_TIMEOUT_S) -> str:
        cmd = [str(_pg_bin(program)), *args]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, user=self._os_user, cwd="/", check=False
        )
        if proc.returncode != 0:
            raise DatabaseError(
                f"{program} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                + self._log_tail()
            )
        return proc.stdout

    def _log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
            return "\n--- server log (" + str(self.log_file) + ") ---\n" + "\n".join(tail)
        return ""

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def target(self, dbname: str) -> config.PgTarget:
        if self.port is None:
            raise DatabaseError("the embedded server has never been started: run `egov db up`")
        return config.PgTarget("127.0.0.1", self.port, SERVER_USER, superuser_password(), dbname)

    def pid(self) -> int | None:
        """The postmaster's pid if it is alive, read from postmaster.pid."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by the pgserver user
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None and self.port is not None and _accepts(self.port)

    def _prepare_permissions(self) -> None:
        if self._os_user is None:
            return
        import pwd

        with warnings.catch_warnings():  # pgserver's import warns about XDG_RUNTIME_DIR, which we never use
            warnings.simplefilter("ignore")
            from pgserver.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        ensure_user_exists(self._os_user)
        bin_dir = _pg_bin("postgres").parent
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o055)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
        entry = pwd.getpwnam(self._os_user)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    def _init_cluster(self) -> None:
        # initdb reads the superuser's password from a file (never from its command line, which `ps` shows).
        pwfile = self.root / ".initdb-password"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(superuser_password() + "\n")
        if self._os_user is not None:
            import pwd

            entry = pwd.getpwnam(self._os_user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data_dir), "--auth=scram-sha-256", f"--pwfile={pwfile}",
                      "--encoding=UTF8", "--locale=C.UTF-8", "-U", SERVER_USER)
        finally:
            pwfile.unlink(missing_ok=True)

    def _require_passwords(self) -> None:
        """A cluster made by an earlier version trusted every local connection: give the superuser its
        password (as a SCRAM verifier) and make every ``trust`` line of pg_hba.conf ask for one."""
        hba = self.data_dir / "pg_hba.conf"
        lines = hba.read_text().splitlines(keepends=True)
        if not any(_is_trust_line(line) for line in lines):
            return
        target = self.target("postgres")
        with psycopg.connect(dataclasses.replace(target, password="").url(), autocommit=True) as conn:
            verifier = grants.scram_verifier(conn, SERVER_USER, target.password)
            conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(SERVER_USER),
                                                                    sql.Literal(verifier)))
        hba.write_text("".join(line.replace("trust", "scram-sha-256") if _is_trust_line(line) else line
                               for line in lines))
        self._run("pg_ctl", "-D", str(self.data_dir), "reload")

    def _write_settings(self, port: int) -> None:
        # An include file of our own keeps postgresql.conf as initdb wrote it.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            # No Unix socket: clone paths can exceed the 107-byte socket path limit.
            "unix_socket_directories": "''",
            "max_connections": "200",
            "shared_buffers": "'256MB'",
            "work_mem": "'32MB'",
            "maintenance_work_mem": "'256MB'",
            "timezone": "'UTC'",
            "log_min_messages": "warning",
        }
        conf = self.data_dir / "egov.conf"
        conf.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        main_conf = self.data_dir / "postgresql.conf"
        text = main_conf.read_text()
        if "include_if_exists = 'egov.conf'" not in text:
            main_conf.write_text(text + "\ninclude_if_exists = 'egov.conf'\n")
        self.port_file.write_text(f"{port}\n")

    def up(self) -> ServerStatus:
        """Start the server if it is not running; reuse it if it is."""
        if self.is_running():
            self._require_passwords()
            return self.status()
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        self._prepare_permissions()
        if not (self.data_dir / "PG_VERSION").exists():
            self._init_cluster()
        port = config.free_port(self.port or FIRST_PORT)  # the port it had, unless taken meanwhile
        self._write_settings(port)
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
                  "-t", str(START_TIMEOUT_S), "start")
        self._require_passwords()
        _wait_ready(self.target("postgres"))
        return self.status()

    def down(self) -> bool:
        """Stop the server cleanly (fast shutdown); False if it was not running."""
        if self.pid() is None:
            return False
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        return True

    def restart(self, mode: str = "fast") -> None:
        """Restart the running server on its port. Mode ``immediate`` is a crash: the restart replays the WAL."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-m", mode, "-w",
                  "-t", str(START_TIMEOUT_S), "restart")
        _wait_ready(self.target("postgres"))

    def status(self) -> ServerStatus:
        running = self.is_running()
        url = config.redact(self.target(config.warehouse_db_name()).url()) if self.port else ""
        return ServerStatus("embedded", running, url, self.pid(), self.data_dir)


def superuser_password() -> str:
    """The embedded server's superuser secret: generated once, kept 0600 in the state folder, never printed.
    Only ``egov db up`` (and the demo's provisioning of simulated systems) signs in with it."""
    return config.persistent_secret("postgres_password", lambda: secrets.token_urlsafe(32))


def _is_trust_line(line: str) -> bool:
    words = line.split("#", 1)[0].split()
    return bool(words) and words[-1] == "trust"


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0




def _wait_ready(target: config.PgTarget, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(target.url(), connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise DatabaseError(f"PostgreSQL did not accept connections: {exc}") from exc
            time.sleep(0.3)


def external_url() -> str | None:
    return os.environ.get(config.EXTERNAL_URL_VAR) or None


def admin_target() -> config.PgTarget:
    """The administrator's way into the warehouse database: the external URL, or the embedded superuser.

    Only ``egov db up`` (the bootstrap) and the demo's provisioning of simulated systems sign in with it;
    every job, command and consumer signs in as its own role (:func:`job_target`).
    """
    url = external_url()
    if url:
        return config.parse_pg_url(url)
    return EmbeddedServer().target(config.warehouse_db_name())


def job_target(key: str) -> config.PgTarget:
    """How the login role ``key`` of ``egov.core.roles`` (loader, dbt, gate, publisher, bi, auditor) signs in to
    the warehouse; ``airflow`` signs in to the Airflow metadata database."""
    role = roles.login(key)
    admin = admin_target()
    dbname = config.airflow_db_name() if role is roles.AIRFLOW else admin.dbname
    return config.PgTarget(admin.host, admin.port, role.name, role.password(), dbname)


def airflow_target() -> config.PgTarget:
    """The Airflow metadata database, on the same server as the warehouse, as its owner ``egov_airflow``."""
    return job_target(roles.AIRFLOW.key)


def up() -> ServerStatus:
    """Make the server reachable and the databases and schemas exist."""
    if external_url():
        status = ServerStatus("external", True, config.redact(admin_target().url()))
    else:
        status = EmbeddedServer().up()
    bootstrap()
    return status


def down() -> bool:
    if external_url():
        raise DatabaseError(f"{config.EXTERNAL_URL_VAR} is set: the external server is not ours to stop")
    return EmbeddedServer().down()


def status() -> ServerStatus:
    if external_url():
        target = admin_target()
        try:
            _wait_ready(target, timeout_s=2)
            running = True
        except DatabaseError:
            running = False
        return ServerStatus("external", running, config.redact(target.url()))
    return EmbeddedServer().status()


def ensure_database(server: config.PgTarget, dbname: str) -> None:
    """Create ``dbname`` unless it exists; a role that may not create databases needs them made first."""
    try:
        psycopg.connect(server.with_db(dbname).url(), connect_timeout=10).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise DatabaseError(f"cannot reach {config.redact(server.with_db(dbname).url())}: {exc}") from exc
    try:
        with psycopg.connect(server.with_db("postgres").url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise DatabaseError(f"database {dbname!r} does not exist and could not be created ({exc}); "
                            "create it, or give the role CREATEDB") from exc


def bootstrap() -> None:
    """Bring the server to the declared state (idempotent): databases, roles, schemas, tables, owners, grants."""
    admin = admin_target()
    ensure_database(admin, admin.dbname)
    ensure_database(admin, config.airflow_db_name())
    with psycopg.connect(admin.url(), autocommit=True) as conn:
        grants.ensure_server_roles(conn)
        for schema in config.WAREHOUSE_SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        grants.transfer_ownership(conn)
        with _acting_as(conn, roles.OWNER):
            ensure_ddl(conn)
            for source in SOURCES.values():
                for entity in source.entities:
                    ensure_raw_table(conn, source.raw_table(entity))
        # Last, so that the grants cover every table made above.
        grants.ensure_grants(conn)
        grants.warn_where_roles_can_create(conn)
    _hand_airflow_its_database(admin.with_db(config.airflow_db_name()))


@contextlib.contextmanager
def _acting_as(conn: psycopg.Connection, role: str):
    """Objects made inside the block belong to ``role``; if the administrator may not act as it, to itself,
    with a warning (a hosted server's owner that is not a member of the owner role)."""
    try:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning("%s may not act as %s (%s): the tables it creates stay its own, and it can change them; "
                    "an administrator must run: grant %s to %s", conn.info.user, role, grants.reason(exc),
                    role, conn.info.user)
        yield
        return
    try:
        yield
    finally:
        conn.execute("reset role")


def _hand_airflow_its_database(target: config.PgTarget) -> None:
    """Airflow migrates its own schema as ``egov_airflow``, the owner of its database; nobody else connects."""
    owner = sql.Identifier(roles.AIRFLOW.name)
    database = sql.Identifier(target.dbname)
    with psycopg.connect(target.url(), autocommit=True) as conn:
        statements = [sql.SQL("alter database {} owner to {}").format(database, owner),
                      sql.SQL("revoke all on database {} from public").format(database)]
        # Tables an earlier version made as the administrator.
        statements += [sql.SQL("alter {} {} owner to {}").format(sql.SQL(kind), sql.SQL(name), owner)
                       for kind, name in conn.execute(
                           "select case c.relkind when 'S' then 'sequence' when 'v' then 'view' else 'table' end, "
                           "c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                           "where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'S') "
                           "and c.relowner <> %s::regrole "
                           "and not (c.relkind = 'S' and exists (select from pg_depend d where d.objid = c.oid "
                           "and d.deptype in ('a', 'i')))", (roles.AIRFLOW.name,)).fetchall()]
        try:
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege as exc:
            log.warning("%s may not hand database %s to %s (%s); an administrator must run: %s", conn.info.user,
                        target.dbname, roles.AIRFLOW.name, grants.reason(exc),
                        "; ".join(statement.as_string(conn) for statement in statements))


def connect(target: config.PgTarget, **kwargs) -> psycopg.Connection:
    return psycopg.connect(target.url(), **kwargs)
