"""Tables the Python side owns: raw landing tables, the audit trail and published releases.

dbt owns ``staging``, ``marts`` and ``reporting``; everything it reads from
``raw`` and everything auditors read in ``audit`` and ``published`` is
created here, so that a fresh database is ready before the first extract.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

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

create or replace function published.forbid_change() returns trigger language plpgsql as $$
begin
    raise exception 'published.% is append-only: releases cannot be updated or deleted', tg_table_name
        using errcode = 'insufficient_privilege';
end $$;

create or replace view published.current_figures as
select f.*, r.published_at, r.validation_id
from published.report_figures f
join published.releases r using (release_id)
where r.version = (select max(version) from published.releases x where x.period = r.period);
comment on view published.current_figures is 'The latest published version of every period.';
"""

IMMUTABLE_TABLES = ("releases", "report_figures")


def ensure_ddl(conn: psycopg.Connection) -> None:
    conn.execute(AUDIT_DDL)
    conn.execute(PUBLISHED_DDL)
    for table in IMMUTABLE_TABLES:
        trigger = sql.Identifier(f"{table}_append_only")
        conn.execute(
            sql.SQL("drop trigger if exists {} on published.{}").format(trigger, sql.Identifier(table))
        )
        conn.execute(
            sql.SQL(
                "create trigger {} before update or delete or truncate on published.{} "
                "for each statement execute function published.forbid_change()"
            ).format(trigger, sql.Identifier(table))
        )


def ensure_raw_table(conn: psycopg.Connection, raw_table: str) -> None:
    """Raw tables share one layout: the record as sent plus the batch it came in."""
    schema, name = raw_table.split(".")
    ident = sql.Identifier(schema, name)
    conn.execute(
        sql.SQL(
            """
            create table if not exists {} (
                batch_id     uuid        not null references audit.load_batches (batch_id),
                record_date  date,
                record_index integer     not null,
                payload      jsonb       not null,
                loaded_at    timestamptz not null
            )"""
        ).format(ident)
    )
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
