"""Tables the Python side owns: raw landing tables, the audit trail and published releases.

dbt owns ``staging``, ``marts`` and ``reporting``; everything it reads from
``raw`` and everything auditors read in ``audit`` and ``published`` is
created here, so that a fresh database is ready before the first extract.
They are created by the administrator acting as ``egov_owner`` (``egov.core.roles``), which no login
role is a member of.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from egov.core.rows import one_row

AUDIT_DDL = """
create table if not exists audit.load_batches (
    batch_id        uuid primary key,
    source_system   text        not null,
    entity          text        not null,
    raw_table       text        not null,
    window_start    date,
    window_end      date,
    request         text        not null,
    pages           integer     not null,
    row_count       integer     not null,
    rejected_count  integer     not null,
    checksum        text        not null,
    replaced_rows   integer     not null,
    loaded_at       timestamptz not null default clock_timestamp(),
    dag_id          text,
    run_id          text,
    task_id         text
);
comment on table audit.load_batches is
    'One row per load into raw: what was asked of which source, for which window, what came back.';
comment on column audit.load_batches.window_end is
    'Exclusive end of the data window (null for reference data).';
comment on column audit.load_batches.checksum is 'SHA-256 of the records as received, in source order.';
comment on column audit.load_batches.replaced_rows is 'Raw rows of earlier batches that this load replaced.';

create table if not exists audit.rejected_records (
    batch_id      uuid        not null references audit.load_batches (batch_id),
    source_system text        not null,
    entity        text        not null,
    record_index  integer     not null,
    reason        text        not null,
    payload       jsonb       not null,
    rejected_at   timestamptz not null default clock_timestamp(),
    primary key (batch_id, record_index)
);
comment on table audit.rejected_records is
    'Records a source sent that could not be loaded, kept as sent with the reason.';

create table if not exists audit.validation_runs (
    validation_id   uuid primary key,
    period          text        not null,
    checkpoint      text        not null,
    success         boolean     not null,
    gx_run_id       text,
    failed          jsonb       not null,
    statistics      jsonb       not null,
    result          jsonb       not null,
    validated_at    timestamptz not null default clock_timestamp(),
    dag_id          text,
    run_id          text
);
comment on table audit.validation_runs is
    'Every Great Expectations gate run: which period, pass or fail, and the failed expectations.';
alter table audit.validation_runs add column if not exists figures_hash text;
comment on column audit.validation_runs.figures_hash is
    'Content hash of the period''s report figures that were validated; publication must match it.';
alter table audit.validation_runs add column if not exists dbt_invocation_id text;
comment on column audit.validation_runs.dbt_invocation_id is
    'The dbt build whose tables were validated (audit.dbt_invocations).';
alter table audit.validation_runs add column if not exists waivers jsonb not null default '[]';
comment on column audit.validation_runs.waivers is
    'Coverage waivers (audit.coverage_waivers) that excused gaps in this run: without them it would have failed.';

create table if not exists audit.dbt_invocations (
    invocation_id   text primary key,
    command         text        not null,
    run_results     jsonb       not null,
    manifest        jsonb       not null,
    recorded_at     timestamptz not null default clock_timestamp(),
    dag_id          text,
    run_id          text
);
comment on table audit.dbt_invocations is
    'The dbt builds that fed a publication gate, with their run_results.json and manifest.json as dbt wrote them.';

create table if not exists audit.coverage_waivers (
    waiver_id       uuid primary key,
    source_key      text        not null,
    first_day       date        not null,
    last_day        date        not null,
    agency_code     text,
    reason          text        not null check (length(trim(reason)) > 0),
    waived_by       text        not null,
    waived_at       timestamptz not null default clock_timestamp(),
    check (first_day <= last_day)
);
comment on table audit.coverage_waivers is
    'Gaps in a source''s data that a person accepted, with the reason: the coverage gate lets them through. '
    'agency_code null: every unit of the source on those days. Append-only.';
"""

PUBLISHED_DDL = """
create table if not exists published.releases (
    release_id          uuid primary key,
    period              text        not null,
    version             integer     not null,
    content_hash        text        not null,
    figure_count        integer     not null,
    validation_id       uuid        not null references audit.validation_runs (validation_id),
    reason              text,
    published_at        timestamptz not null,
    dag_id              text,
    run_id              text,
    unique (period, version)
);
comment on table published.releases is 'Immutable, versioned releases of a period''s report figures.';
comment on column published.releases.validation_id is
    'The gate run that let the release through; it names the Great Expectations run and the dbt build.';
comment on column published.releases.run_id is 'The Airflow run that published (null when published from the CLI).';

create table if not exists published.release_batches (
    release_id  uuid    not null references published.releases (release_id),
    batch_id    uuid    not null references audit.load_batches (batch_id),
    raw_table   text    not null,
    rows_used   integer not null,
    primary key (release_id, batch_id)
);
create table if not exists published.release_indicators (
    release_id          uuid    not null references published.releases (release_id),
    indicator_code      text    not null,
    indicator_name_vi   text    not null,
    indicator_name_en   text    not null,
    measure_kind        text    not null,
    unit                text    not null,
    numerator_code      text,
    denominator_code    text,
    definition          text    not null,
    legal_basis         text,
    valid_from          date    not null,
    valid_to            date,
    primary key (release_id, indicator_code)
);
comment on table published.release_indicators is
    'The definitions of the indicators a release reports (ratios'' parts included), as they were at publication.';

comment on table published.release_batches is
    'The load batches whose raw rows the release''s figures were computed from, and how many of their rows.';

create table if not exists published.report_figures (
    release_id  uuid    not null references published.releases (release_id),
    period      text    not null,
    version     integer not null,
    figure_id   text    not null,
    value       numeric not null,
    unit        text    not null,
    primary key (release_id, figure_id)
);
comment on table published.report_figures is
    'Figures of a release, keyed by figure_id of the seed report''s figure table.';

create table if not exists published.release_diffs (
    release_id      uuid    not null references published.releases (release_id),
    period          text    not null,
    version         integer not null,
    figure_id       text    not null,
    previous_value  numeric,
    value           numeric,
    primary key (release_id, figure_id)
);
comment on table published.release_diffs is
    'What a release changed against the previous version of its period: one row per figure whose value '
    'differs (previous_value null: a new figure; value null: a figure no longer reported).';

create or replace function published.forbid_change() returns trigger language plpgsql as $$
begin
    raise exception '%.% is append-only: its rows cannot be updated or deleted', tg_table_schema, tg_table_name
        using errcode = 'insufficient_privilege';
end $$;

create or replace view published.current_figures as
select f.*, r.published_at, r.validation_id
from published.report_figures f
join published.releases r using (release_id)
where r.version = (select max(version) from published.releases x where x.period = r.period);
comment on view published.current_figures is 'The latest published version of every period.';

-- Changed figures of an already-published period that no one has yet given a reason for: the run that found
-- them stopped there, and the release stands until a person publishes them with a reason.
create table if not exists audit.pending_reviews (
    review_id           uuid        primary key,
    period              text        not null,
    validation_id       uuid        not null references audit.validation_runs (validation_id),
    content_hash        text        not null,
    previous_release_id uuid        not null references published.releases (release_id),
    previous_version    integer     not null,
    changes             jsonb       not null check (jsonb_typeof(changes) = 'array' and changes <> '[]'),
    detected_at         timestamptz not null default clock_timestamp(),
    dag_id              text,
    run_id              text
);
create index if not exists pending_reviews_period on audit.pending_reviews (period, detected_at);
comment on table audit.pending_reviews is
    'A run found the figures of a published period changed and published nothing without a person''s reason. '
    'changes: [{figure_id, previous_value, value}] against previous_version. Append-only.';

-- Audit packs (egov audit-pack): the keys that sign them and every pack made. In the audit schema, but
-- created here, after published.releases, which a pack refers to.
create table if not exists audit.signing_keys (
    key_id      text        primary key check (key_id ~ '^[0-9a-f]{64}$'),
    public_key  bytea       not null unique check (length(public_key) = 32),
    algorithm   text        not null default 'Ed25519' check (algorithm = 'Ed25519'),
    created_at  timestamptz not null default clock_timestamp()
);
comment on table audit.signing_keys is
    'Public keys that signed audit packs: one per deployment, recorded with its first pack. Append-only.';
comment on column audit.signing_keys.key_id is 'SHA-256 (hex) of the 32 raw bytes of the public key.';
comment on column audit.signing_keys.public_key is
    'The Ed25519 public key, 32 raw bytes (encode(public_key, ''hex'') is what egov audit-pack --public-key reads).';

create table if not exists audit.audit_packs (
    pack_id       uuid        primary key,
    pack_sha256   text        not null check (pack_sha256 ~ '^[0-9a-f]{64}$'),
    release_id    uuid        not null references published.releases (release_id),
    content_hash  text        not null,
    key_id        text        not null references audit.signing_keys (key_id),
    signature     bytea       not null check (length(signature) = 64),
    made_at       timestamptz not null default clock_timestamp(),
    made_by       text        not null default current_user
);
create index if not exists audit_packs_pack_sha256 on audit.audit_packs (pack_sha256);
comment on table audit.audit_packs is
    'Every audit pack made: egov audit-pack --verify --against-warehouse looks a pack up here. Append-only.';
comment on column audit.audit_packs.pack_sha256 is
    'SHA-256 of the pack''s MANIFEST.sha256, which fixes every member''s bytes (the zip around them may differ).';
comment on column audit.audit_packs.content_hash is 'published.releases.content_hash of the release packed.';
comment on column audit.audit_packs.signature is 'Ed25519 signature of MANIFEST.sha256 (the pack''s .sig member).';

"""

#: Tables whose rows, once written, stand: releases and the records an auditor traces them through.
IMMUTABLE_TABLES = ("published.releases", "published.report_figures", "published.release_diffs",
                    "published.release_batches", "published.release_indicators", "audit.coverage_waivers",
                    "audit.validation_runs", "audit.dbt_invocations", "audit.load_batches",
                    "audit.rejected_records", "audit.signing_keys", "audit.audit_packs", "audit.pending_reviews")


def ensure_ddl(conn: psycopg.Connection) -> None:
    """Create what is missing, in one transaction. An existing guard is never dropped to be made again: a
    re-run leaves no moment in which an append-only table could be changed."""
    with conn.transaction():
        conn.execute(AUDIT_DDL)
        conn.execute(PUBLISHED_DDL)
        for qualified in IMMUTABLE_TABLES:
            schema, table = qualified.split(".")
            trigger = f"{table}_append_only"
            if conn.execute("select 1 from pg_trigger where tgrelid = %s::regclass and tgname = %s",
                            (qualified, trigger)).fetchone():
                continue
            conn.execute(
                sql.SQL(
                    "create trigger {} before update or delete or truncate on {} "
                    "for each statement execute function published.forbid_change()"
                ).format(sql.Identifier(trigger), sql.Identifier(schema, table))
            )


def missing_raw_table(conn: psycopg.Connection, raw_table: str) -> bool:
    return bool(one_row(conn, "select to_regclass(%s) is null", (raw_table,))[0])


def ensure_raw_table(conn: psycopg.Connection, raw_table: str) -> None:
    """Raw tables share one layout: the record as sent plus the batch it came in."""
    schema, name = raw_table.split(".")
    ident = sql.Identifier(schema, name)
    conn.execute(
        sql.SQL(
            """
            create table if not exists {} (
                batch_id     uuid        not null references audit.load_batches (batch_id)
                                         deferrable initially deferred,
                record_date  date,
                record_index integer     not null,
                payload      jsonb       not null,
                loaded_at    timestamptz not null
            )"""
        ).format(ident)
    )
    # A load writes its batch row after its raw rows (egov.ingest.loader): the reference is checked at commit. Tables
    # made before the key was deferred are altered once.
    for (constraint,) in conn.execute(
        "select conname from pg_constraint where conrelid = %s::regclass and contype = 'f' and not condeferred",
        (raw_table,),
    ).fetchall():
        conn.execute(sql.SQL("alter table {} alter constraint {} deferrable initially deferred").format(
            ident, sql.Identifier(constraint)))
    conn.execute(
        sql.SQL("create index if not exists {} on {} (record_date)").format(
            sql.Identifier(f"{name}_record_date_idx"), ident
        )
    )
    conn.execute(
        sql.SQL("comment on table {} is {}").format(
            ident, sql.Literal("Records as the source sent them (payload), with the batch that loaded them.")
        )
    )
