"""Bringing the server's roles to what ``egov.core.roles`` declares: logins, owners, grants.

Run by ``egov db up`` as the administrator (the embedded server's superuser, or the role of
``EGOV_DATABASE_URL``). Every database's grants are rewritten in one transaction: a role's privileges
are revoked and granted again atomically, so a re-run never leaves a moment with wider (or narrower)
rights. Privileges the administrator lacks (a hosted server's owner without CREATEROLE) do not fail
the bootstrap: a warning says what an administrator must run.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from egov.core import roles
from egov.core.roles import OWNED_SCHEMAS, OWNER, TRANSFORM_OWNER, Role
from egov.core.rows import one_row

log = logging.getLogger(__name__)

# Any constant works: it keeps two bootstraps of one server from granting at the same time.
GRANT_LOCK_KEY = 840_019_002
_OWNERSHIP = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence",
              "f": "foreign table"}


def reason(exc: psycopg.Error) -> str:
    """The server's message and detail on one line."""
    return ": ".join(part for part in (exc.diag.message_primary, exc.diag.message_detail) if part)


def scram_verifier(conn: psycopg.Connection, name: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of ``password``, computed by libpq on this side: the clear text never reaches
    the server, its logs or ``pg_stat_statements``."""
    return conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()


def role_statement(role: Role, exists: bool, password: sql.Composable | None) -> sql.Composed:
    """Create ``role`` with no powers, or bring an existing one back to none; a login gets its password."""
    powers = "nosuperuser nocreatedb nocreaterole noreplication nobypassrls " + ("login" if role.login else "nologin")
    template = ("alter role {} " if exists else "create role {} ") + powers
    if password is not None:
        return sql.SQL(template + " password {}").format(sql.Identifier(role.name), password)
    return sql.SQL(template).format(sql.Identifier(role.name))


def ensure_role(conn: psycopg.Connection, role: Role) -> bool:
    """Create ``role`` or reset it (powers, password); False if it neither exists nor could be created."""
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role.name,)).fetchone() is not None
    password = sql.Literal(scram_verifier(conn, role.name, role.password())) if role.login else None
    try:
        with conn.transaction():
            conn.execute(role_statement(role, exists, password))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return ensure_role(conn, role)  # another database's bootstrap created it meanwhile
    except psycopg.errors.InsufficientPrivilege as exc:
        if exists and (not role.login or _signs_in(conn, role)):
            return True  # an administrator set it up already
        placeholder = sql.SQL("'<password from {}>'").format(sql.SQL(role.password_source())) if role.login else None
        log.warning("%s may not %s role %s without CREATEROLE (%s); an administrator must run: %s%s",
                    conn.info.user, "alter" if exists else "create", role.name, reason(exc),
                    role_statement(role, exists, placeholder).as_string(conn),
                    "" if exists else f", then `egov db up` again to grant {role.name} its privileges")
        return exists
    return True


def _signs_in(conn: psycopg.Connection, role: Role) -> bool:
    """Whether ``role`` signs in to the database of ``conn`` with its password."""
    from egov.core.config import PgTarget

    target = PgTarget(conn.info.host, conn.info.port, role.name, role.password(), conn.info.dbname)
    try:
        psycopg.connect(target.url(), connect_timeout=10).close()
    except psycopg.OperationalError:
        return False
    return True


def ensure_server_roles(conn: psycopg.Connection) -> None:
    """The owner roles and every login, with their memberships. Roles belong to the server, not a database."""
    for role in (Role("owner", OWNER, login=False), *roles.WAREHOUSE_ROLES, roles.AIRFLOW):
        ensure_role(conn, role)
    statements: list[sql.Composed] = []
    for role in roles.LOGINS.values():
        # No login may act as the owner: that is what keeps published and audit out of every login's reach.
        statements.append(sql.SQL("revoke {} from {}").format(sql.Identifier(OWNER), sql.Identifier(role.name)))
        for group in role.member_of:
            statements.append(sql.SQL("grant {} to {}").format(sql.Identifier(group), sql.Identifier(role.name)))
    _apply(conn, statements, "its members")


def transfer_ownership(conn: psycopg.Connection) -> None:
    """Schemas to ``egov_owner``; the tables of raw, audit and published to it, dbt's to ``egov_transform``.

    Objects made before roles existed (by the administrator, or by dbt signed in as it) are handed over, so that
    an upgraded warehouse ends where a fresh one starts.
    """
    statements: list[sql.Composed] = [
        sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), sql.Identifier(OWNER))
        for (schema,) in conn.execute(
            "select nspname from pg_namespace where nspname = any(%s) and nspowner <> %s::regrole",
            (list(roles.ALL_SCHEMAS), OWNER)).fetchall()]
    for schema, name, kind, owner in conn.execute(
            "select n.nspname, c.relname, c.relkind, c.relowner::regrole::text from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = any(%s) and c.relkind = any(%s)",
            (list(roles.ALL_SCHEMAS), list(_OWNERSHIP))).fetchall():
        wanted = OWNER if schema in OWNED_SCHEMAS else TRANSFORM_OWNER
        if owner != wanted:
            statements.append(sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(_OWNERSHIP[kind]), sql.Identifier(schema, name), sql.Identifier(wanted)))
    for (signature,) in conn.execute(
            "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "where n.nspname = any(%s) and p.proowner <> %s::regrole", (list(OWNED_SCHEMAS), OWNER)).fetchall():
        statements.append(sql.SQL("alter function {} owner to {}").format(sql.SQL(signature), sql.Identifier(OWNER)))
    _apply(conn, statements, "the warehouse's objects")


def grant_statements(dbname: str) -> list[sql.Composed]:
    """Every role's privileges in the warehouse database ``dbname``: all revoked, then exactly its own granted."""
    database = sql.Identifier(dbname)
    statements = [
        sql.SQL("revoke all on database {} from public").format(database),
        sql.SQL("revoke create on schema public from public").format(),
    ]
    for role in roles.WAREHOUSE_ROLES:
        statements += _role_grants(role, database)
    return statements


def _role_grants(role: Role, database: sql.Identifier) -> list[sql.Composed]:
    name = sql.Identifier(role.name)
    out = [sql.SQL("revoke all on database {} from {}").format(database, name)]
    if role.login:
        out.append(sql.SQL("grant connect on database {} to {}").format(database, name))
    if role.temporary:
        out.append(sql.SQL("grant temporary on database {} to {}").format(database, name))
    for schema in (*roles.ALL_SCHEMAS, "public"):
        ident = sql.Identifier(schema)
        out.append(sql.SQL("revoke all on schema {} from {}").format(ident, name))
        if schema in role.creates:
            # Its own tables: an owner's privileges revoked from itself would lock dbt out of what it built.
            out.append(sql.SQL("grant all on all tables in schema {} to {}").format(ident, name))
            continue
        out.append(sql.SQL("revoke all on all tables in schema {} from {}").format(ident, name))
        out += [sql.SQL("alter default privileges for role {} in schema {} revoke all on tables from {}").format(
            sql.Identifier(creator), ident, name) for creator in (OWNER, TRANSFORM_OWNER)]
    return out + _schema_grants(role, name) + _table_grants(role, name)


def _creator(schema: str) -> sql.Identifier:
    """The role whose future tables in ``schema`` default privileges must cover."""
    return sql.Identifier(OWNER if schema in OWNED_SCHEMAS else TRANSFORM_OWNER)


def _schema_grants(role: Role, name: sql.Identifier) -> list[sql.Composed]:
    """Usage, create, and the table privileges that apply to a whole schema (now and for tables made later)."""
    schemas = (*role.reads, *role.creates, *(target.split(".")[0] for target in role.appends))
    whole: dict[str, list[str]] = {schema: [] for schema in schemas}
    for schema in role.reads:
        whole[schema].append("select")
    for schema in role.deletes:
        whole[schema].append("delete")
    for target in role.appends:
        if "." not in target:
            whole[target].append("insert")
    out = []
    for schema, privileges in whole.items():
        ident = sql.Identifier(schema)
        out.append(sql.SQL("grant usage on schema {} to {}").format(ident, name))
        if schema in role.creates:
            out.append(sql.SQL("grant create on schema {} to {}").format(ident, name))
        if privileges:
            listed = sql.SQL(", ").join(sql.SQL(privilege) for privilege in privileges)
            out += [sql.SQL("grant {} on all tables in schema {} to {}").format(listed, ident, name),
                    sql.SQL("alter default privileges for role {} in schema {} grant {} on tables to {}").format(
                        _creator(schema), ident, listed, name)]
    return out


def _table_grants(role: Role, name: sql.Identifier) -> list[sql.Composed]:
    return [sql.SQL("grant insert on table {} to {}").format(sql.Identifier(*target.split(".")), name)
            for target in role.appends if "." in target]


def ensure_grants(conn: psycopg.Connection) -> None:
    """Rewrite every role's privileges in the database of ``conn`` in one transaction."""
    _apply(conn, grant_statements(conn.info.dbname), "its privileges")


def _apply(conn: psycopg.Connection, statements: list[sql.Composed], what: str) -> None:
    """Run ``statements`` in one transaction, under the grant lock; warn with them if not allowed."""
    if not statements:
        return
    try:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (GRANT_LOCK_KEY,))
            for statement in statements:
                conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning("%s may not set %s in database %s (%s); an administrator must run: %s",
                    conn.info.user, what, conn.info.dbname, reason(exc),
                    "; ".join(statement.as_string(conn) for statement in statements))


def warn_where_roles_can_create(conn: psycopg.Connection) -> None:
    """Privileges a bootstrap cannot take back: PUBLIC's, other roles', or those of a schema it does not own."""
    for role in roles.LOGINS.values():
        allowed = set(roles.TRANSFORM.creates) if TRANSFORM_OWNER in role.member_of else set()
        schemas = [row[0] for row in conn.execute(
            "select nspname from pg_namespace where nspname !~ '^pg_' and nspname <> 'information_schema' "
            "and has_schema_privilege(%s, oid, 'create') order by nspname", (role.name,)) if row[0] not in allowed]
        if one_row(conn, "select has_database_privilege(%s, current_database(), 'create')", (role.name,))[0]:
            schemas.append("(new schemas: CREATE on the database)")
        if schemas:
            log.warning("%s can still create objects in database %s, schemas %s; an administrator must revoke "
                        "CREATE there from PUBLIC and from the roles %s belongs to",
                        role.name, conn.info.dbname, ", ".join(schemas), role.name)
