"""Who may do what in the warehouse: a NOLOGIN owner, a NOLOGIN owner of dbt's tables, and one login per job.

No login role owns ``raw``, ``audit`` or ``published``: their schemas and tables belong to ``egov_owner``,
which cannot sign in and of which no login is a member. Only an owner (or a superuser) can drop a table,
disable its triggers, or grant more on it, so no job, consumer or auditor can rewrite a release or the
audit trail, whatever it runs. Each job signs in as its own role with exactly the grants below:

    loader     reads and appends to raw (and deletes the days it replaces there); appends load batches
               and rejected records to audit
    dbt        creates and replaces its tables in staging, intermediate, marts, reporting and lineage as
               egov_transform (NOLOGIN, the owner of those tables); reads raw, audit and published;
               appends its invocations to audit
    gate       reads every schema; appends its runs to audit.validation_runs
    publisher  reads every schema; appends releases to published, and waivers and the changes it holds for
               review to audit
    bi         reads marts, reporting and published
    auditor    reads every schema; appends the audit packs it makes, and their signing keys, to audit
    airflow    owns the Airflow metadata database and nothing in the warehouse

Passwords reach the server only as SCRAM-SHA-256 verifiers computed on the client.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from egov.core import config

OWNER = "egov_owner"
TRANSFORM_OWNER = "egov_transform"

#: Schemas whose objects the owner keeps; dbt may neither create nor replace anything there.
OWNED_SCHEMAS = ("raw", "audit", "published")
#: Schemas dbt builds in (as ``egov_transform``).
TRANSFORM_SCHEMAS = ("staging", "intermediate", "marts", "reporting", "lineage")

ALL_SCHEMAS = config.WAREHOUSE_SCHEMAS


@dataclass(frozen=True)
class Role:
    """A role of the warehouse and its grants. ``key`` is how ``egov db url --role`` and the jobs name it."""

    key: str
    name: str
    #: Schemas it reads: usage, and select on every table and view in them, now and later.
    reads: tuple[str, ...] = ()
    #: Tables (``schema.table``) it may append to; a schema name alone means every table in it.
    appends: tuple[str, ...] = ()
    #: Schemas in which it may delete rows (the loader's replace-a-day, in raw only).
    deletes: tuple[str, ...] = ()
    #: Schemas in which it may create objects.
    creates: tuple[str, ...] = ()
    #: Whether it may create temporary tables (dbt's incremental models and the gate's slices do).
    temporary: bool = False
    #: Group roles it is a member of (and acts as).
    member_of: tuple[str, ...] = ()
    login: bool = True

    @property
    def password_var(self) -> str:
        return f"{self.name.upper()}_PASSWORD"

    def password(self) -> str:
        """From ``$<NAME>_PASSWORD`` if set, else generated once and kept (0600) in the state folder."""
        return os.environ.get(self.password_var) or config.persistent_secret(
            f"{self.name}_password", lambda: secrets.token_urlsafe(24))

    def password_source(self) -> str:
        """Where the password comes from, for messages that must not show it."""
        return f"${self.password_var} or {config.state_dir() / 'secrets' / f'{self.name}_password'}"


#: The NOLOGIN role that owns dbt's tables; the dbt login acts as it.
TRANSFORM = Role("transform", TRANSFORM_OWNER, reads=("raw", "audit", "published", *TRANSFORM_SCHEMAS),
                 creates=TRANSFORM_SCHEMAS, temporary=True, login=False)

#: The login roles, by key.
LOGINS: dict[str, Role] = {role.key: role for role in (
    Role("loader", "egov_loader", reads=("raw",),
         appends=("raw", "audit.load_batches", "audit.rejected_records"), deletes=("raw",)),
    Role("dbt", "egov_dbt", appends=("audit.dbt_invocations",), member_of=(TRANSFORM_OWNER,)),
    Role("gate", "egov_gate", reads=ALL_SCHEMAS, appends=("audit.validation_runs",), temporary=True),
    Role("publisher", "egov_publisher", reads=ALL_SCHEMAS,
         appends=("published", "audit.coverage_waivers", "audit.pending_reviews")),
    Role("bi", "egov_bi_reader", reads=("marts", "reporting", "published")),
    Role("auditor", "egov_auditor", reads=ALL_SCHEMAS, appends=("audit.signing_keys", "audit.audit_packs")),
)}

#: The Airflow metadata database's owner: Airflow migrates its own schema, and reads nothing of the warehouse.
AIRFLOW = Role("airflow", "egov_airflow")

#: The roles the warehouse's grants are computed for (group roles first: logins are made members of them).
WAREHOUSE_ROLES = (TRANSFORM, *LOGINS.values())

#: The consumer roles (they read and change nothing), as earlier versions named them.
ACCESS_ROLES = {key: LOGINS[key] for key in ("bi", "auditor")}


def login(key: str) -> Role:
    try:
        return LOGINS[key] if key != AIRFLOW.key else AIRFLOW
    except KeyError:
        raise KeyError(f"no login role {key!r}; the roles are {', '.join([*LOGINS, AIRFLOW.key])}") from None
