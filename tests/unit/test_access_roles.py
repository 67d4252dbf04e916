"""The consumer roles: the BI reader reads marts, reporting and published; the auditor also audit; neither writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid

import psycopg
import pytest
from psycopg import sql

from egov import cli
from egov.core import config, db, warehouse

READABLE = {
    "bi": ("marts", "reporting", "published"),
    "auditor": ("marts", "reporting", "published", "audit", "lineage"),
}
WRITES = {
    "insert": "insert into {} (id) values (2)",
    "update": "update {} set id = 3",
    "delete": "delete from {}",
    "truncate": "truncate {}",
}
PROBE = f"access_probe_{uuid.uuid4().hex[:8]}"


def _superuser(target: config.PgTarget) -> bool:
    with psycopg.connect(target.url()) as conn:
        return conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]


def _as_role(key: str, target: config.PgTarget | None = None) -> psycopg.Connection:
    role = db.role_target(key)
    if target is not None:
        role = config.PgTarget(target.host, target.port, role.user, role.password, target.dbname)
    return psycopg.connect(role.url(), autocommit=True)


@pytest.fixture(scope="module")
def probes(database):
    """A one-row table in every schema, created by the owner after the bootstrap, so default privileges apply."""
    db.bootstrap()
    schemas = (*config.WAREHOUSE_SCHEMAS, "public")
    tables = {schema: sql.Identifier(schema, PROBE) for schema in schemas}
    with psycopg.connect(database.url(), autocommit=True) as conn:
        for table in tables.values():
            conn.execute(sql.SQL("create table {} (id integer)").format(table))
            conn.execute(sql.SQL("insert into {} values (1)").format(table))
        conn.execute(sql.SQL("create view {} as select id from {}").format(
            sql.Identifier("reporting", f"{PROBE}_view"), tables["marts"]))
    yield tables
    with psycopg.connect(database.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop view {}").format(sql.Identifier("reporting", f"{PROBE}_view")))
        for table in tables.values():
            conn.execute(sql.SQL("drop table {}").format(table))


@pytest.mark.parametrize("key", list(READABLE))
def test_roles_read_their_schemas_including_tables_and_views_made_after_the_bootstrap(key, probes):
    with _as_role(key) as conn:
        assert conn.execute("select current_user").fetchone()[0] == warehouse.ACCESS_ROLES[key].name
        for schema in READABLE[key]:
            assert conn.execute(sql.SQL("select id from {}").format(probes[schema])).fetchall() == [(1,)]
        assert conn.execute(sql.SQL("select id from {}").format(
            sql.Identifier("reporting", f"{PROBE}_view"))).fetchall() == [(1,)]
        # Made by the bootstrap itself, before the grants.
        conn.execute("select count(*) from published.current_figures").fetchone()


@pytest.mark.parametrize(("key", "schema"), [
    (key, schema) for key in READABLE for schema in (*config.WAREHOUSE_SCHEMAS, "public")
    if schema not in READABLE[key]
])
def test_roles_cannot_read_other_schemas(key, schema, probes):
    with _as_role(key) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("select id from {}").format(probes[schema]))


def test_bi_reader_cannot_read_the_audit_trail(probes):
    with _as_role("bi") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select count(*) from audit.load_batches")


def test_auditor_reads_the_audit_trail(probes):
    with _as_role("auditor") as conn:
        assert conn.execute("select count(*) >= 0 from audit.load_batches").fetchone()[0]
        assert conn.execute("select count(*) >= 0 from audit.validation_runs").fetchone()[0]


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("schema", [*config.WAREHOUSE_SCHEMAS, "public"])
@pytest.mark.parametrize("key", list(READABLE))
def test_roles_cannot_write(key, schema, write, probes, database):
    with _as_role(key) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL(WRITES[write]).format(probes[schema]))
    with psycopg.connect(database.url()) as conn:
        assert conn.execute(sql.SQL("select id from {}").format(probes[schema])).fetchall() == [(1,)]


@pytest.mark.parametrize("statement", [
    "insert into audit.load_batches default values",
    "delete from audit.validation_runs",
    "insert into published.report_figures default values",
])
def test_auditor_cannot_write_the_tables_the_bootstrap_made(statement, probes):
    """Tables that existed at the grant: covered by the grant on all tables, not by default privileges."""
    with _as_role("auditor") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        conn.execute(statement)


@pytest.mark.parametrize("schema", [*config.WAREHOUSE_SCHEMAS, "public"])
@pytest.mark.parametrize("key", list(READABLE))
def test_roles_cannot_create_tables_anywhere(key, schema, probes):
    with _as_role(key) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("create table {} (id integer)").format(sql.Identifier(schema, f"{PROBE}_new")))


@pytest.mark.parametrize("key", list(READABLE))
def test_roles_cannot_create_schemas(key, probes):
    with _as_role(key) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(f"{PROBE}_schema")))


def _privileges(conn: psycopg.Connection) -> list[tuple]:
    """The privileges on the warehouse's schemas and tables (a null ACL spelled out), and the consumer roles."""
    names = [role.name for role in warehouse.ACCESS_ROLES.values()]
    return conn.execute(
        """
        select 'schema', nspname, coalesce(nspacl, acldefault('n', nspowner))::text from pg_namespace
        where nspname = any(%(schemas)s)
        union all
        select 'table', relnamespace::regnamespace::text || '.' || relname,
            coalesce(relacl, acldefault('r', relowner))::text from pg_class
        where relkind in ('r', 'v', 'p') and (relname like 'access_probe%%'
            -- dbt's tables are left out: another session's dbt run may be rebuilding them meanwhile.
            or relnamespace::regnamespace::text in ('raw', 'audit', 'published'))
        union all
        select 'default', defaclnamespace::regnamespace::text, defaclacl::text from pg_default_acl
        union all
        select 'role', rolname, concat_ws(' ', rolcanlogin, rolsuper, rolcreatedb, rolcreaterole) from pg_roles
        where rolname = any(%(roles)s)
        order by 1, 2, 3
        """,
        {"schemas": [*config.WAREHOUSE_SCHEMAS, "public"], "roles": names},
    ).fetchall()


def test_bootstrap_is_idempotent(probes, database):
    with psycopg.connect(database.url()) as conn:
        before = _privileges(conn)
    db.bootstrap()
    db.bootstrap()
    with psycopg.connect(database.url()) as conn:
        after = _privileges(conn)
    assert after == before
    assert [row for row in after if row[0] == "role"] == [
        ("role", "egov_auditor", "t f f f"), ("role", "egov_bi_reader", "t f f f")]
    with _as_role("bi") as conn:
        assert conn.execute(sql.SQL("select id from {}").format(probes["marts"])).fetchall() == [(1,)]


def _scram_matches(stored: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier from pg_authid was made from ``password`` (RFC 5802)."""
    _, iterations_salt, keys = stored.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == base64.b64decode(stored_key)


def test_bootstrap_keeps_the_password_in_sync_with_the_environment(monkeypatch, database, probes):
    if not _superuser(database):
        pytest.skip("reading pg_authid needs a superuser")
    auditor = warehouse.ACCESS_ROLES["auditor"]

    def verifier() -> str:
        with psycopg.connect(database.url()) as conn:
            return conn.execute("select rolpassword from pg_authid where rolname = %s", (auditor.name,)).fetchone()[0]

    assert _scram_matches(verifier(), auditor.password())
    monkeypatch.setenv(auditor.password_var, "rotated-by-the-operator")
    try:
        db.bootstrap()
        assert _scram_matches(verifier(), "rotated-by-the-operator")
    finally:
        monkeypatch.delenv(auditor.password_var)
        db.bootstrap()
    assert _scram_matches(verifier(), auditor.password())


def test_db_url_for_a_role_hides_the_password_unless_asked(capsys, probes):
    bi = db.role_target("bi")
    assert cli.main(["db", "url", "--role", "bi"]) == 0
    redacted = capsys.readouterr().out.strip()
    assert redacted == f"postgresql://egov_bi_reader:***@{bi.host}:{bi.port}/{bi.dbname}"
    assert cli.main(["db", "url", "--role", "bi", "--show-password"]) == 0
    shown = capsys.readouterr().out.strip()
    assert shown == bi.url() and bi.password and bi.password in shown
    with psycopg.connect(shown) as conn:
        assert conn.execute("select current_user, current_database()").fetchone() == ("egov_bi_reader", bi.dbname)
    with pytest.raises(SystemExit):
        cli.main(["db", "url", "--role", "bi", "--airflow"])


@pytest.fixture
def unprivileged_server(monkeypatch, database):
    """A warehouse on the test server reached as a database owner without CREATEROLE, as a hosted server gives."""
    if not _superuser(database):
        pytest.skip("making the unprivileged owner needs a superuser")
    suffix = uuid.uuid4().hex[:8]
    owner, password = f"egov_probe_owner_{suffix}", "probe-owner-password"
    databases = (f"egov_probe_{suffix}", f"airflow_probe_{suffix}")
    admin = psycopg.connect(database.with_db("postgres").url(), autocommit=True)
    admin.execute(sql.SQL("create role {} login nocreaterole nocreatedb password {}").format(
        sql.Identifier(owner), sql.Literal(password)))
    for name in databases:
        admin.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(name), sql.Identifier(owner)))
    target = config.PgTarget(database.host, database.port, owner, password, databases[0])
    monkeypatch.setenv(config.EXTERNAL_URL_VAR, target.url())
    monkeypatch.setenv("EGOV_AIRFLOW_DB", databases[1])
    try:
        yield target
    finally:
        for name in databases:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("drop role {}").format(sql.Identifier(owner)))
        admin.close()


def test_an_owner_without_createrole_gets_a_warning_and_the_grants_still_apply(unprivileged_server, caplog, probes):
    """The roles exist already (the test warehouse's bootstrap made them): only their passwords are out of reach.

    The test server trusts any password, so a role that may not connect stands for one whose password is wrong.
    """
    with psycopg.connect(unprivileged_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("revoke connect on database {} from public").format(
            sql.Identifier(unprivileged_server.dbname)))
    with caplog.at_level(logging.WARNING, logger="egov.core.warehouse"):
        status = db.up()
    assert status.mode == "external"
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    for role in warehouse.ACCESS_ROLES.values():
        assert any(f"may not alter role {role.name} without CREATEROLE" in message
                   and f"alter role \"{role.name}\" login password '<password from ${role.password_var}"
                   in message for message in warnings), warnings
    assert all("can still create" not in message for message in warnings), warnings
    assert all(role.password() not in message for role in warehouse.ACCESS_ROLES.values() for message in warnings)

    # Granted CONNECT by the bootstrap, the roles sign in: their passwords need no administrator.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="egov.core.warehouse"):
        db.up()
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING] == []

    table = sql.Identifier("marts", PROBE)
    with psycopg.connect(unprivileged_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("create table {} as select 1 as id").format(table))
    with _as_role("bi", unprivileged_server) as conn:
        assert conn.execute(sql.SQL("select id from {}").format(table)).fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table public.probe (id integer)")


def test_a_missing_role_that_cannot_be_created_is_reported_not_raised(unprivileged_server, caplog, monkeypatch):
    monkeypatch.setenv("EGOV_PROBE_PASSWORD", "never-used")
    missing = warehouse.AccessRole(f"egov_probe_missing_{uuid.uuid4().hex[:8]}", "EGOV_PROBE_PASSWORD", ("marts",))
    with psycopg.connect(unprivileged_server.url(), autocommit=True) as conn, \
            caplog.at_level(logging.WARNING, logger="egov.core.warehouse"):
        warehouse.ensure_access_role(conn, missing, unprivileged_server.user)
        assert conn.execute("select 1 from pg_roles where rolname = %s", (missing.name,)).fetchone() is None
    assert [record.getMessage() for record in caplog.records if f"may not create role {missing.name}" in
            record.getMessage() and f"create role \"{missing.name}\" login nosuperuser" in record.getMessage()]
