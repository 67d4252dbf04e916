"""The PostgreSQL keyset connector against the document-management system's own database, as its reader."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import psycopg
import pytest

from egov.core.sources import DOCMGMT
from egov.ingest.connectors import connector_for
from egov.ingest.connectors.base import Endpoint
from egov.ingest.connectors.sql import PostgresKeysetConnector
from egov.ingest.errors import SchemaDriftError, SourceUnavailable

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
