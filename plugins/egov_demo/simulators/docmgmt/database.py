"""The document-management system's own PostgreSQL database, on the project's server.

The real product keeps its data in a database of its own that the warehouse may only read; the simulator
recreates that arrangement: an owner role that owns the database ``docmgmt`` and a read-only role for the
warehouse, with the product's Vietnamese table and column names in schema ``qlvb``. Provisioning is
idempotent: the loaded dataset is recorded in ``qlvb.phien_ban_du_lieu`` and only a different one is loaded.
"""

import io
import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from egov.core import config, db
from egov.core.grants import scram_verifier
from egov_demo.simulators.docmgmt.generator import DocMgmtDataset, build_dataset

DATABASE_NAME = "docmgmt"
SCHEMA = "qlvb"
OWNER_ROLE = "docmgmt_owner"
READER_ROLE = "docmgmt_reader"
USERS_TABLE = "nguoi_dung"
DOCUMENTS_TABLE = "van_ban_lien_thong"
VERSION_TABLE = "phien_ban_du_lieu"
# Any constant works: it only keeps two provisioning sessions from creating the same roles at once.
PROVISION_LOCK_KEY = 840_019_001

MEDIUM_CODES = {"electronic": "dien_tu", "paper": "giay"}
# Dataset column -> product column, in table order.
USER_COLUMNS = {
    "user_id": "id_nguoi_dung", "agency_code": "ma_don_vi", "username": "ten_dang_nhap", "full_name": "ho_ten",
    "created_at": "ngay_tao", "disabled_at": "ngay_khoa",
}
DOCUMENT_COLUMNS = {
    "document_id": "id_van_ban", "document_number": "so_van_ban", "sender_agency_code": "don_vi_gui",
    "sent_at": "thoi_diem_gui", "medium": "hinh_thuc", "document_type": "loai_van_ban",
}

SCHEMA_DDL = f"""
create table if not exists {SCHEMA}.{USERS_TABLE} (
    id_nguoi_dung bigint primary key,
    ma_don_vi text not null,
    ten_dang_nhap text not null unique,
    ho_ten text not null,
    ngay_tao timestamptz not null,
    ngay_khoa timestamptz,
    check (ngay_khoa is null or ngay_khoa >= ngay_tao)
);
comment on table {SCHEMA}.{USERS_TABLE} is
    'Tài khoản người dùng (user accounts): one row per account; ngay_khoa is when it was locked, null if in use.';

create table if not exists {SCHEMA}.{DOCUMENTS_TABLE} (
    id_van_ban bigint primary key,
    so_van_ban text not null,
    don_vi_gui text not null,
    thoi_diem_gui timestamptz not null,
    hinh_thuc text not null check (hinh_thuc in ('dien_tu', 'giay')),
    loai_van_ban text not null
);
comment on table {SCHEMA}.{DOCUMENTS_TABLE} is
    'Văn bản liên thông (inter-agency documents): one row per document sent, '
    'electronically (dien_tu) or on paper (giay).';
create index if not exists {DOCUMENTS_TABLE}_thoi_diem_gui_idx on {SCHEMA}.{DOCUMENTS_TABLE} (thoi_diem_gui);

create table if not exists {SCHEMA}.{VERSION_TABLE} (
    id smallint primary key default 1 check (id = 1),
    hat_giong bigint not null,
    ma_bam_noi_dung text not null,
    so_nguoi_dung bigint not null,
    so_van_ban bigint not null,
    thoi_diem_nap timestamptz not null default now()
);
comment on table {SCHEMA}.{VERSION_TABLE} is
    'Phiên bản dữ liệu (data version): the simulated dataset loaded (seed, content hash, when); a single row.';
"""


@dataclass(frozen=True)
class DocMgmtDatabase:
    """Where the provisioned database is and the credentials of its two roles."""

    host: str
    port: int
    owner_password: str
    reader_password: str

    def owner_target(self) -> config.PgTarget:
        return config.PgTarget(self.host, self.port, OWNER_ROLE, self.owner_password, DATABASE_NAME)

    def reader_target(self) -> config.PgTarget:
        return config.PgTarget(self.host, self.port, READER_ROLE, self.reader_password, DATABASE_NAME)


def reader_target(server: config.PgTarget) -> config.PgTarget:
    """How the warehouse signs in to read the database on ``server`` (whether or not it is provisioned yet)."""
    return config.PgTarget(server.host, server.port, READER_ROLE, _role_password(READER_ROLE), DATABASE_NAME)


def _role_password(role: str) -> str:
    return config.persistent_secret(f"{role}_password", lambda: secrets.token_urlsafe(24))


def _ensure_role(conn: psycopg.Connection, role: str, password: str) -> None:
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() is not None
    template = "alter role {} login password {}" if exists else (
        "create role {} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password {}")
    conn.execute(sql.SQL(template).format(sql.Identifier(role), sql.Literal(scram_verifier(conn, role, password))))


def _ensure_database(conn: psycopg.Connection) -> None:
    exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE_NAME,)).fetchone()
    statement = "alter database {} owner to {}" if exists else "create database {} owner {}"
    conn.execute(sql.SQL(statement).format(sql.Identifier(DATABASE_NAME), sql.Identifier(OWNER_ROLE)))
    # Only the two roles (and superusers) may connect: the product's database is not open to everyone.
    conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(
        sql.Identifier(DATABASE_NAME)))
    conn.execute(sql.SQL("grant connect on database {} to {}").format(
        sql.Identifier(DATABASE_NAME), sql.Identifier(READER_ROLE)))


def _ensure_schema(conn: psycopg.Connection) -> None:
    """Tables owned by the owner role, readable (only) by the reader role, now and for tables added later."""
    names = {"schema": sql.Identifier(SCHEMA), "owner": sql.Identifier(OWNER_ROLE),
             "reader": sql.Identifier(READER_ROLE)}
    conn.execute(sql.SQL("create schema if not exists {schema} authorization {owner}").format(**names))
    # Before PostgreSQL 15 anyone could create tables in schema public; the reader must not create anything.
    conn.execute("revoke create on schema public from public")
    conn.execute(sql.SQL("set local role {owner}").format(**names))
    conn.execute(SCHEMA_DDL)
    conn.execute(sql.SQL("grant usage on schema {schema} to {reader}").format(**names))
    conn.execute(sql.SQL("grant select on all tables in schema {schema} to {reader}").format(**names))
    conn.execute(sql.SQL(
        "alter default privileges for role {owner} in schema {schema} grant select on tables to {reader}"
    ).format(**names))


def _utc_text(moments: pd.Series) -> np.ndarray:
    """ISO 8601 UTC text, empty for missing moments (COPY's null); pandas' strftime is ten times slower."""
    utc = moments.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    return np.where(moments.isna().to_numpy(), "", np.char.add(np.datetime_as_string(utc, unit="s"), "Z"))


def _csv(frame: pd.DataFrame, columns: dict[str, str]) -> bytes:
    renamed = frame[list(columns)].rename(columns=columns)
    for column in renamed.columns:
        if isinstance(renamed[column].dtype, pd.DatetimeTZDtype):
            renamed[column] = _utc_text(renamed[column])
    if "hinh_thuc" in renamed:
        renamed["hinh_thuc"] = renamed["hinh_thuc"].map(MEDIUM_CODES)
    buffer = io.StringIO()
    renamed.to_csv(buffer, index=False, header=False)
    return buffer.getvalue().encode()


def _copy(conn: psycopg.Connection, table: str, frame: pd.DataFrame, columns: dict[str, str]) -> None:
    statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        sql.Identifier(SCHEMA, table), sql.SQL(", ").join(map(sql.Identifier, columns.values())))
    with conn.cursor().copy(statement) as copy:
        copy.write(_csv(frame, columns))


def _load(conn: psycopg.Connection, dataset: DocMgmtDataset, content_hash: str) -> None:
    """Replace the rows with the dataset's, in the caller's transaction."""
    conn.execute(sql.SQL("truncate {}, {}").format(
        sql.Identifier(SCHEMA, USERS_TABLE), sql.Identifier(SCHEMA, DOCUMENTS_TABLE)))
    _copy(conn, USERS_TABLE, dataset.users, USER_COLUMNS)
    _copy(conn, DOCUMENTS_TABLE, dataset.documents, DOCUMENT_COLUMNS)
    conn.execute(
        sql.SQL("""
            insert into {} (id, hat_giong, ma_bam_noi_dung, so_nguoi_dung, so_van_ban, thoi_diem_nap)
            values (1, %s, %s, %s, %s, now())
            on conflict (id) do update set
                hat_giong = excluded.hat_giong, ma_bam_noi_dung = excluded.ma_bam_noi_dung,
                so_nguoi_dung = excluded.so_nguoi_dung, so_van_ban = excluded.so_van_ban,
                thoi_diem_nap = excluded.thoi_diem_nap
        """).format(sql.Identifier(SCHEMA, VERSION_TABLE)),
        (dataset.seed, content_hash, len(dataset.users), len(dataset.documents)),
    )
    conn.execute(sql.SQL("analyze {}").format(sql.Identifier(SCHEMA, USERS_TABLE)))
    conn.execute(sql.SQL("analyze {}").format(sql.Identifier(SCHEMA, DOCUMENTS_TABLE)))


def provision(server: config.PgTarget | None = None, dataset: DocMgmtDataset | None = None) -> DocMgmtDatabase:
    """Create the roles, database, schema and tables if missing, and load `dataset` unless it is already there.

    `server` is a superuser's target on the server (any database; the warehouse's server by default). Without
    `dataset` the default seed's is loaded.
    """
    server = server or db.admin_target()
    dataset = dataset if dataset is not None else build_dataset()
    owner_password, reader_password = _role_password(OWNER_ROLE), _role_password(READER_ROLE)
    with psycopg.connect(server.with_db("postgres").url(), autocommit=True) as admin:
        admin.execute("select pg_advisory_lock(%s)", (PROVISION_LOCK_KEY,))
        try:
            _ensure_role(admin, OWNER_ROLE, owner_password)
            _ensure_role(admin, READER_ROLE, reader_password)
            _ensure_database(admin)
            with psycopg.connect(server.with_db(DATABASE_NAME).url()) as conn:
                _ensure_schema(conn)
                content_hash = dataset.content_hash()
                loaded = conn.execute(
                    sql.SQL("select hat_giong, ma_bam_noi_dung from {}").format(
                        sql.Identifier(SCHEMA, VERSION_TABLE))
                ).fetchone()
                if loaded != (dataset.seed, content_hash):
                    _load(conn, dataset, content_hash)
        finally:
            admin.execute("select pg_advisory_unlock(%s)", (PROVISION_LOCK_KEY,))
    return DocMgmtDatabase(server.host, server.port, owner_password, reader_password)
