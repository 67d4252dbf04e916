"""Least privilege: each job and consumer signs in as its own role, reads and writes exactly what it must, and no
login role (the publisher included) can change what is published or audited, nor give itself the power to."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from egov import cli
from egov.core import config, db, roles, warehouse

PROBE = f"access_probe_{uuid.uuid4().hex[:8]}"
LOGIN_KEYS = list(roles.LOGINS)
#: What each role must read, written out here rather than derived from the declaration it checks.
MUST_READ = {
    "loader": {"raw"},
    "dbt": {"raw", "audit", "published", "staging", "intermediate", "marts", "reporting", "lineage"},
    "gate": set(config.WAREHOUSE_SCHEMAS),
    "publisher": set(config.WAREHOUSE_SCHEMAS),
    "bi": {"marts", "reporting", "published"},
    "auditor": set(config.WAREHOUSE_SCHEMAS),
}
PROTECTED = [table for table in warehouse.IMMUTABLE_TABLES]
TAMPERING = {
    "update": "update {table} set {column} = {column}",
    "delete": "delete from {table}",
    "truncate": "truncate {table}",
    "drop": "drop table {table} cascade",
    "disable trigger": "alter table {table} disable trigger all",
    "replication role": "set session_replication_role = replica",
    "act as owner": "set role egov_owner",
    "become superuser": "alter role current_user superuser",
    "join the owner": "grant egov_owner to current_user",
    "take ownership": "alter table {table} owner to current_user",
}


def _as(key: str, dbname: str | None = None) -> psycopg.Connection:
    target = db.job_target(key)
    return psycopg.connect(target.with_db(dbname or target.dbname).url(), autocommit=True)


@pytest.fixture(scope="module")
def probes(database):
    """A one-row table in every schema, made by each schema's owner role after the bootstrap (default privileges)."""
    db.bootstrap()
    tables = {schema: sql.Identifier(schema, PROBE) for schema in config.WAREHOUSE_SCHEMAS}
    with psycopg.connect(database.url(), autocommit=True) as conn:
        for schema, table in tables.items():
            owner = roles.OWNER if schema in roles.OWNED_SCHEMAS else roles.TRANSFORM_OWNER
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(owner)))
            conn.execute(sql.SQL("create table {} (id integer)").format(table))
            conn.execute(sql.SQL("insert into {} values (1)").format(table))
            conn.execute("reset role")
    yield tables
    with psycopg.connect(database.url(), autocommit=True) as conn:
        for table in tables.values():
            conn.execute(sql.SQL("drop table {}").format(table))


def _superuser(target: config.PgTarget) -> bool:
    with psycopg.connect(target.url()) as conn:
        return conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]


@pytest.mark.parametrize("key", [*LOGIN_KEYS, "airflow"])
def test_no_job_signs_in_with_any_power(key, database):
    with _as(key) as conn:
        assert conn.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls from pg_roles "
            "where rolname = current_user").fetchone() == (False,) * 5
        assert conn.execute("select pg_has_role(current_user, 'egov_owner', 'member')").fetchone()[0] is False


@pytest.mark.parametrize("key", LOGIN_KEYS)
def test_each_role_reads_exactly_its_schemas(key, probes):
    with _as(key) as conn:
        for schema, table in probes.items():
            if schema in MUST_READ[key]:
                assert conn.execute(sql.SQL("select id from {}").format(table)).fetchall() == [(1,)], schema
            else:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql.SQL("select id from {}").format(table))


def test_the_auditor_reads_intermediate_and_the_raw_rows_behind_a_figure(probes):
    with _as("auditor") as conn:
        conn.execute("select count(*) from audit.load_batches").fetchone()
        assert conn.execute(sql.SQL("select id from {}").format(probes["intermediate"])).fetchall() == [(1,)]


@pytest.mark.parametrize(("key", "table", "allowed"), [
    ("loader", "raw", True), ("loader", "audit", False), ("loader", "published", False), ("loader", "marts", False),
    ("publisher", "published", True), ("publisher", "raw", False), ("publisher", "marts", False),
    ("gate", "audit", False), ("gate", "published", False), ("bi", "published", False), ("auditor", "audit", False),
])
def test_inserts_only_where_its_job_needs_them(key, table, allowed, probes):
    """The probe in audit stands for every audit table but the ones a role appends to by name."""
    statement = sql.SQL("insert into {} values (2)").format(probes[table])
    with _as(key) as conn:
        if allowed:
            conn.execute("begin")
            conn.execute(statement)
            conn.execute("rollback")
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def _tamper(conn: psycopg.Connection, template: str, table: str) -> None:
    columns = conn.execute("select attname from pg_attribute where attrelid = %s::regclass and attnum = 1",
                           (table,)).fetchone()
    conn.execute(template.format(table=table, column=columns[0] if columns else "x"))


@pytest.mark.parametrize("attempt", list(TAMPERING))
@pytest.mark.parametrize("key", LOGIN_KEYS)
def test_no_login_role_can_change_published_or_audited_data(key, attempt, database, probes):
    """Each attempt, by each login (the publisher and the loader included), on every published and audit table."""
    tables = PROTECTED if "{table}" in TAMPERING[attempt] else PROTECTED[:1]
    with _as(key) as conn:
        for table in tables:
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.FeatureNotSupported)):
                conn.execute("begin")
                try:
                    _tamper(conn, TAMPERING[attempt], table)
                finally:
                    conn.execute("rollback")


@pytest.mark.parametrize("key", LOGIN_KEYS)
def test_a_role_cannot_grant_itself_more(key, probes, database):
    """GRANT by a non-owner is only a warning in PostgreSQL: what counts is that nothing was granted."""
    name = roles.LOGINS[key].name
    with psycopg.connect(database.url()) as admin:
        oids = {table: admin.execute("select %s::regclass::oid", (table,)).fetchone()[0] for table in PROTECTED}
    with _as(key) as conn:
        for table in PROTECTED:
            # A role that may not even see the schema is refused outright; the others only get a warning.
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql.SQL("grant all on table {} to current_user").format(sql.SQL(table)))
            for privilege in ("update", "delete", "truncate"):
                assert not conn.execute("select has_table_privilege(%s, %s::oid, %s)",
                                        (name, oids[table], privilege)).fetchone()[0], (table, privilege)


def test_the_airflow_metadata_role_cannot_reach_the_warehouse(database):
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _as("airflow", database.dbname).close()


@pytest.mark.parametrize("dbname", ["warehouse", "airflow"])
def test_public_keeps_no_connect_or_temp(dbname, database):
    name = database.dbname if dbname == "warehouse" else config.airflow_db_name()
    with psycopg.connect(database.url()) as conn:
        public = conn.execute(
            "select coalesce(array_agg(privilege_type::text order by 1), '{}') from pg_database, "
            "aclexplode(coalesce(datacl, acldefault('d', datdba))) where datname = %s and grantee = 0",
            (name,)).fetchone()[0]
    assert public == []


def test_signing_in_without_a_password_is_refused(database):
    if db.external_url():
        pytest.skip("the external server's authentication is its administrator's")
    for user in ("postgres", roles.LOGINS["auditor"].name):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(config.PgTarget(database.host, database.port, user, "", database.dbname).url(),
                            connect_timeout=5).close()


def test_bootstrap_is_idempotent_and_never_drops_a_guard(probes, database):
    """Re-running the bootstrap keeps every trigger (same oid: never dropped and made again) and every grant."""
    def state() -> list[tuple]:
        with psycopg.connect(database.url()) as conn:
            return conn.execute(
                "select 'trigger', tgrelid::regclass::text, tgname, oid::text from pg_trigger "
                "where tgname like '%%append_only' union all "
                "select 'acl', oid::regclass::text, array(select unnest(coalesce(relacl, acldefault('r', relowner)))"
                "::text order by 1)::text, "
                "relowner::regrole::text from pg_class where relnamespace::regnamespace::text = any(%s) "
                "and relkind in ('r', 'v') union all "
                "select 'schema', nspname, array(select unnest(nspacl)::text order by 1)::text, "
                "nspowner::regrole::text from pg_namespace "
                "where nspname = any(%s) order by 1, 2, 3",
                (list(roles.OWNED_SCHEMAS), list(config.WAREHOUSE_SCHEMAS))).fetchall()

    before = state()
    db.bootstrap()
    assert state() == before
    assert {row[1] for row in before if row[0] == "trigger"} >= set(warehouse.IMMUTABLE_TABLES)


def test_guards_hold_while_the_bootstrap_reruns(probes, database):
    """A publisher hammering UPDATE while three bootstraps run is refused every time."""
    done, outcomes = threading.Event(), []

    def hammer() -> None:
        with _as("publisher") as conn:
            while not done.is_set():
                try:
                    conn.execute("update published.releases set reason = reason")
                    outcomes.append("changed")
                except psycopg.errors.InsufficientPrivilege:
                    outcomes.append("refused")

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for _ in range(3):
            db.bootstrap()
    finally:
        done.set()
        thread.join()
    assert outcomes and set(outcomes) == {"refused"}


def _scram_matches(stored: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier from pg_authid was made from ``password`` (RFC 5802)."""
    _, iterations_salt, keys = stored.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == base64.b64decode(stored_key)


def test_passwords_reach_the_server_only_as_verifiers(monkeypatch, database):
    """With every statement logged, a bootstrap's log holds no role's password in clear."""
    if db.external_url() or not _superuser(database):
        pytest.skip("reading pg_authid and the server log needs the embedded server's superuser")
    auditor = roles.LOGINS["auditor"]
    log_file = db.EmbeddedServer().log_file
    with psycopg.connect(database.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("alter role {} set log_statement = 'all'").format(sql.Identifier(database.user)))
    start = log_file.stat().st_size
    monkeypatch.setenv(auditor.password_var, "rotated-by-the-operator")
    try:
        db.bootstrap()
        with psycopg.connect(database.url()) as conn:
            stored = conn.execute("select rolpassword from pg_authid where rolname = %s", (auditor.name,)).fetchone()
        assert _scram_matches(stored[0], "rotated-by-the-operator")
    finally:
        monkeypatch.delenv(auditor.password_var)
        with psycopg.connect(database.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("alter role {} reset log_statement").format(sql.Identifier(database.user)))
        db.bootstrap()
    logged = log_file.read_bytes()[start:].decode(errors="replace")
    assert "alter role" in logged.lower() and "SCRAM-SHA-256$" in logged
    for secret in ("rotated-by-the-operator", *(role.password() for role in roles.LOGINS.values())):
        assert secret not in logged


def test_db_url_is_a_least_privileged_role_and_hides_the_password_unless_asked(capsys, probes):
    auditor = db.job_target("auditor")
    assert cli.main(["db", "url"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"postgresql://egov_auditor:***@{auditor.host}:{auditor.port}/{auditor.dbname}")
    assert cli.main(["db", "url", "--show-password"]) == 0
    shown = capsys.readouterr().out.strip()
    assert shown == auditor.url() and auditor.password in shown
    with psycopg.connect(shown) as conn:
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
        for statement in ("update published.report_figures set value = value",
                          "alter table published.report_figures disable trigger all"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    assert cli.main(["db", "url", "--role", "admin"]) == 0
    assert ":***@" in capsys.readouterr().out
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
        admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(owner)))
        admin.execute(sql.SQL("drop role {}").format(sql.Identifier(owner)))
        admin.close()


def test_an_administrator_without_createrole_is_told_what_to_run_and_no_secret_leaks(unprivileged_server, caplog):
    """The roles exist (the test server's bootstrap made them) but this owner may neither reset them nor act as
    egov_owner: the bootstrap still makes its tables, and says exactly what an administrator must run."""
    with caplog.at_level("WARNING"):
        status = db.up()
    assert status.mode == "external"
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= 30]
    assert any(f"may not act as {roles.OWNER}" in message and f"grant {roles.OWNER} to" in message
               for message in warnings), warnings
    assert any("an administrator must run" in message and "alter schema" in message for message in warnings)
    secrets = [role.password() for role in roles.LOGINS.values()]
    assert not [message for message in warnings if any(secret in message for secret in secrets)]
    with psycopg.connect(unprivileged_server.url()) as conn:
        assert conn.execute("select to_regclass('published.releases') is not null").fetchone()[0]


@pytest.mark.parametrize("schema", roles.TRANSFORM_SCHEMAS)
def test_dbt_replaces_what_it_built_and_a_bootstrap_does_not_take_that_away(schema, probes):
    """dbt's seeds truncate and refill, its models are dropped and made again: as egov_transform, the owner."""
    db.bootstrap()
    with _as("dbt") as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(roles.TRANSFORM_OWNER)))
        conn.execute("begin")
        try:
            for statement in ("truncate {}", "insert into {} values (5)", "update {} set id = 6", "drop table {}"):
                conn.execute(sql.SQL(statement).format(probes[schema]))
            conn.execute(sql.SQL("create table {} (id integer)").format(probes[schema]))
        finally:
            conn.execute("rollback")
