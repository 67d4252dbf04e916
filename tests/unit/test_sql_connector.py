"""The PostgreSQL keyset connector against the document-management system's own database, as its reader."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import date

import psycopg
import pytest

from egov.core.sources import DATE, DOCMGMT, INT, TIMESTAMP, Entity
from egov.ingest.connectors import connector_for
from egov.ingest.connectors.base import Endpoint
from egov.ingest.connectors.sql import PostgresKeysetConnector
from egov.ingest.errors import SchemaDriftError, SourceDataError, SourceUnavailable
from egov.ingest.loader import canonical_json

USERS, DOCUMENTS = DOCMGMT.entities
WEEK = (date(2019, 3, 4), date(2019, 3, 11))


def reader(docmgmt, **overrides) -> PostgresKeysetConnector:
    target = docmgmt.reader_target()
    endpoint = Endpoint(target.host, target.port, target.user, target.password, target.dbname)
    connector = connector_for(DOCMGMT.connector, endpoint)
    for name, value in overrides.items():
        setattr(connector, name, value)
    return connector


def owner_rows(docmgmt, query: str, params=()) -> list[tuple]:
    with psycopg.connect(docmgmt.owner_target().url()) as conn:
        return conn.execute(query, params).fetchall()


def test_keyset_pages_deliver_every_document_of_the_window_once_in_order(docmgmt):
    pages = list(reader(docmgmt, page_size=500).pages(DOCUMENTS, WEEK))
    records = [record for page in pages for record in page.records]
    expected = owner_rows(docmgmt, """
        select id_van_ban from qlvb.van_ban_lien_thong
        where thoi_diem_gui >= '2019-03-04 00:00+07' and thoi_diem_gui < '2019-03-11 00:00+07'
        order by thoi_diem_gui, id_van_ban""")
    assert len(pages) > 2, "the week must span several pages for this test to mean anything"
    assert [record["id_van_ban"] for record in records] == [row[0] for row in expected]
    assert set(records[0]) == set(DOCUMENTS.fields)
    assert records[0]["thoi_diem_gui"].endswith("+07:00"), "timestamps keep their offset"
    assert "limit" in pages[1].request and "params" in pages[1].request


def test_snapshot_entity_is_paged_by_its_key(docmgmt):
    records = [r for page in reader(docmgmt, page_size=1000).pages(USERS, None) for r in page.records]
    (count,) = owner_rows(docmgmt, "select count(*) from qlvb.nguoi_dung")[0]
    assert len(records) == count
    ids = [record["id_nguoi_dung"] for record in records]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_renamed_column_is_a_named_schema_error(docmgmt):
    renamed = replace(DOCUMENTS, fields={**DOCUMENTS.fields, "so_ky_hieu": "text"})
    with pytest.raises(SchemaDriftError, match=r"so_ky_hieu.*registry expects columns"):
        list(reader(docmgmt).pages(renamed, WEEK))


def test_the_reader_role_cannot_write(docmgmt):
    connector = reader(docmgmt)
    with connector._connect() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("delete from qlvb.van_ban_lien_thong")


def test_an_unreachable_database_fails_clearly_after_its_attempts(docmgmt):
    connector = reader(docmgmt, max_attempts=2, backoff_s=0.01)
    connector.conninfo = {**connector.conninfo, "port": 1}
    with pytest.raises(SourceUnavailable, match=r"connect to .*:1/docmgmt failed after 2 attempts"):
        list(connector.pages(DOCUMENTS, WEEK))


SCRATCH = Entity("scratch", "scratch_connector.rows", {"id": INT, "ngay": DATE, "luc": TIMESTAMP, "so_luong": INT},
                 key=("id",))


@pytest.fixture()
def scratch(docmgmt):
    """A table of the test's own in the document system's database, read by its owner's role."""
    with psycopg.connect(docmgmt.owner_target().url(), autocommit=True) as conn:
        conn.execute("drop schema if exists scratch_connector cascade")
        conn.execute("create schema scratch_connector")
        conn.execute("create table scratch_connector.rows (id int primary key, ngay date, luc timestamptz, "
                     "so_luong numeric)")
        conn.execute("insert into scratch_connector.rows select n, date '2019-03-04' + n, "
                     "timestamptz '2019-03-04 09:00+07' + n * interval '1 day', n from generate_series(1, 5) n")
        yield conn
        conn.execute("drop schema scratch_connector cascade")


def owner_reader(docmgmt, **settings) -> PostgresKeysetConnector:
    target = docmgmt.owner_target()
    connector = connector_for(DOCMGMT.connector, Endpoint(target.host, target.port, target.user, target.password,
                                                          target.dbname))
    for name, value in {"max_attempts": 1, "backoff_s": 0.01, **settings}.items():
        setattr(connector, name, value)
    return connector


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("ngay", "infinity", "date too large"),
    ("ngay", "10000-01-01", "date too large"),
    ("luc", "infinity", "timestamp too large"),
    ("luc", "-infinity", "timestamp too small"),
])
def test_a_value_the_driver_cannot_convert_is_bad_data_naming_the_page_and_the_row(docmgmt, scratch, column, value,
                                                                                   problem):
    scratch.execute(f"update scratch_connector.rows set {column} = %s where id = 4", (value,))
    pages = owner_reader(docmgmt, page_size=2).pages(SCRATCH, None)
    assert [record["id"] for record in next(pages).records] == [1, 2]
    with pytest.raises(SourceDataError, match=rf"scratch_connector.rows \(page 2, after {{'id': 2}}\): row 2 of the "
                                              rf"page \(the one after {{'id': 3}}\) holds a value that cannot be "
                                              rf"converted: {problem}"):
        next(pages)


def test_an_infinite_numeric_reaches_the_record_rules_instead_of_overflowing(docmgmt, scratch):
    scratch.execute("update scratch_connector.rows set so_luong = 'Infinity' where id = 2")
    records = [record for page in owner_reader(docmgmt).pages(SCRATCH, None) for record in page.records]
    assert [record["so_luong"] for record in records] == [1, float("inf"), 3, 4, 5]


def test_a_table_the_reader_may_not_read_is_bad_data_not_retried(docmgmt, scratch):
    with pytest.raises(SourceDataError, match=r"the database refused the read: InsufficientPrivilege: permission "
                                              r"denied for schema scratch_connector"):
        list(reader(docmgmt, max_attempts=1).pages(SCRATCH, None))


def test_a_statement_cancelled_by_its_timeout_is_worth_a_retry(docmgmt, scratch):
    scratch.execute("create view scratch_connector.slow as select rows.* from scratch_connector.rows, pg_sleep(0.5)")
    slow = replace(SCRATCH, path="scratch_connector.slow")
    with pytest.raises(SourceUnavailable, match=r"scratch_connector.slow: QueryCanceled: canceling statement due to "
                                                r"statement timeout"):
        list(owner_reader(docmgmt, statement_timeout_s=0.05).pages(slow, None))


def test_a_connection_lost_between_pages_is_worth_a_retry(docmgmt, scratch):
    pages = owner_reader(docmgmt, page_size=2).pages(SCRATCH, None)
    next(pages)
    (terminated,) = scratch.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() "
        "and query like '%%scratch_connector%%' and pid <> pg_backend_pid()").fetchone()
    assert terminated
    with pytest.raises(SourceUnavailable, match=r"scratch_connector.rows: (OperationalError|AdminShutdown|"
                                                r"InterfaceError)"):
        next(pages)


@pytest.mark.parametrize(("column_type", "using", "expected"), [
    ("uuid", "md5(so_luong::text)::uuid", str(uuid.UUID(hashlib.md5(b"1").hexdigest()))),
    ("interval", "make_interval(days => so_luong::int)", "1 day, 0:00:00"),
    ("bytea", "convert_to(so_luong::text, 'UTF8')", "\\x31"),
    ("numeric[]", "array[so_luong, so_luong / 4]", [1, 0.25]),
    ("jsonb", "jsonb_build_object('n', so_luong)", {"n": 1}),
])
def test_a_column_whose_type_changed_reaches_the_record_rules_as_json(docmgmt, scratch, column_type, using, expected):
    """A source that changes a column's type must not break the raw payload: the loader could not encode it."""
    scratch.execute(f"alter table scratch_connector.rows alter column so_luong type {column_type} using {using}")
    first = next(owner_reader(docmgmt).pages(SCRATCH, None)).records[0]
    assert first["so_luong"] == expected
    assert canonical_json(first)


@pytest.mark.parametrize("page_size", [1, 2, 3, 10])
def test_a_key_the_source_repeats_or_leaves_empty_loses_no_row_at_any_page_boundary(docmgmt, scratch, page_size):
    """Keyset paging on ``id > last`` would skip a repeated id's other rows and never read a null one: every row
    comes out once, for the loader to quarantine the repeats and the keyless ones."""
    scratch.execute("alter table scratch_connector.rows drop constraint rows_pkey, alter column id drop not null")
    scratch.execute("insert into scratch_connector.rows values (2, null, null, 20), (2, null, null, 21), "
                    "(3, null, null, 30), (null, null, null, 99)")
    records = [record for page in owner_reader(docmgmt, page_size=page_size).pages(SCRATCH, None)
               for record in page.records]
    assert sorted(record["so_luong"] for record in records) == [1, 2, 3, 4, 5, 20, 21, 30, 99]
