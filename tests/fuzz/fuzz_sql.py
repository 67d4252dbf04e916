"""SQL rows: generated rows of the document-management system's two tables, in a schema of the test database,
read by the real keyset connector a few rows per page.

The source's columns are as loose as an agency's own database may make them: identifiers ``numeric`` (negative,
fractional, past int8, NaN, ±Infinity), names and timestamps ``text`` (any text PostgreSQL holds, so no NUL).
The documents' send time stays a ``timestamptz`` inside the window: the connector selects the window by it, so a
row outside it is not part of the batch at all. A page of rows is one payload. Now and then the batch meets a
fault of the database itself (a renamed column, a missing table, a server that does not answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
from fuzz_checks import Offer, fuzz_source
from fuzz_values import one_in, valid_record
from hypothesis import strategies as st
from psycopg import sql

from egov.core.config import LOCAL_TIMEZONE, PgTarget
from egov.core.sources import DOCMGMT, Entity, Source
from egov.ingest.connectors.sql import PostgresKeysetConnector

WINDOW = (date(2019, 3, 4), date(2019, 3, 11))
PAGE_SIZE = 4
#: Faults of the source database, each refused as SchemaDriftError (a SourceDataError) or SourceUnavailable.
DATABASE_FAULTS = ("column_renamed", "table_missing", "server_down")
COLUMN_TYPES = {"users": {"id_nguoi_dung": "numeric primary key", "ngay_tao": "text", "ngay_khoa": "text"},
                "documents": {"id_van_ban": "numeric primary key", "thoi_diem_gui": "timestamptz not null"}}
TABLES = {"users": "nguoi_dung", "documents": "van_ban_lien_thong"}
NUMERIC_EDGES = [Decimal(-1), Decimal(2**31), Decimal(2**63), Decimal(10**30), Decimal("1.5"), Decimal("0.000001"),
                 Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("-0")]
TEXT_EDGES = ["", "x" * 1001, "2019-03-04", "20190304", "2019-03-04T09:30:00+07:00", "9999-12-31T23:59:59-14:00",
              "2019-03-04 09:30", "0001-01-01T00:00:00+14:00", "2019-02-30T10:00", "epoch", "Phường 4 😀", None]


@dataclass(frozen=True)
class SqlBatch:
    #: The entity's name, for a failing example's report (the registry's object would fill a page).
    what: str
    entity: Entity = field(repr=False)
    #: Each row's values in the entity's field order.
    rows: tuple[tuple[object, ...], ...]
    fault: str | None


def _valid_row(entity: Entity, number: int) -> list[object]:
    day = WINDOW[0] + timedelta(days=number % 7)
    record = valid_record(entity, number, day)
    values = []
    for name in entity.fields:
        value = record[name]
        if name == "thoi_diem_gui":
            value = datetime.fromisoformat(str(value)).astimezone(LOCAL_TIMEZONE)
        values.append(Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value)
    return values


@st.composite
def _broken_row(draw: st.DrawFn, entity: Entity, number: int, used_ids: set) -> list[object]:
    values = _valid_row(entity, number)
    names = list(entity.fields)
    no_nul = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf"], exclude_characters="\x00"),
                     max_size=20)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(names) - 1))
        name = names[position]
        if name == "thoi_diem_gui":
            continue  # the window is selected by it: a row outside it is not in the batch
        if position == 0:  # the identifier: unique, as the table's primary key wants (NaN equals NaN there)
            edge = draw(st.sampled_from(NUMERIC_EDGES))
            candidate = edge + number if edge.is_finite() else edge
            if _id_key(candidate) not in used_ids:
                values[0] = candidate
        else:
            values[position] = draw(st.one_of(st.sampled_from(TEXT_EDGES), no_nul))
    used_ids.add(_id_key(values[0]))
    return values


def _id_key(value: object) -> str:
    """An identifier as the primary key compares it: 8 and 8.0 are one, and so are two NaNs."""
    return str(value.normalize()) if isinstance(value, Decimal) and value.is_finite() else str(value)


@st.composite
def sql_batches(draw: st.DrawFn) -> SqlBatch:
    """Six to nine pages of rows (the last one partial), two rows in three broken, one batch in five a fault."""
    entity = draw(st.sampled_from(DOCMGMT.entities))
    count = PAGE_SIZE * draw(st.integers(5, 8)) + draw(st.integers(1, PAGE_SIZE - 1))
    used_ids: set = set()
    rows = []
    for number in range(count):
        if number % 3 == 0:
            row = _valid_row(entity, number)
            used_ids.add(_id_key(row[0]))
        else:
            row = draw(_broken_row(entity, number, used_ids))
        rows.append(tuple(row))
    fault = one_in(draw, 5, DATABASE_FAULTS, spread=count)
    return SqlBatch(entity.name, entity, tuple(rows), fault)


class SourceDatabase:
    """The document system's tables in a schema of the test database, refilled for each batch."""

    def __init__(self, conn: psycopg.Connection, target: PgTarget, schema: str):
        self.conn, self.target, self.schema = conn, target, schema
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))

    def _create(self, entity: Entity, fault: str | None) -> sql.Composed:
        types = COLUMN_TYPES[entity.name]
        columns = [sql.SQL("{} {}").format(
            sql.Identifier(f"{name}_v2" if fault == "column_renamed" and index == 1 else name),
            sql.SQL(types.get(name, "text"))) for index, name in enumerate(entity.fields)]
        return sql.SQL("create table {} ({})").format(sql.Identifier(self.schema, TABLES[entity.name]),
                                                      sql.SQL(", ").join(columns))

    def fill(self, batch: SqlBatch) -> None:
        table = sql.Identifier(self.schema, TABLES[batch.entity.name])
        with self.conn.transaction():
            self.conn.execute(sql.SQL("drop table if exists {}").format(table))
            if batch.fault == "table_missing":
                return
            self.conn.execute(self._create(batch.entity, batch.fault))
            with self.conn.cursor().copy(sql.SQL("copy {} from stdin").format(table)) as copy:
                for row in batch.rows:
                    copy.write_row(row)

    def connector(self, fault: str | None) -> PostgresKeysetConnector:
        port = 1 if fault == "server_down" else self.target.port
        conninfo = {"host": self.target.host, "port": port, "user": self.target.user,
                    "password": self.target.password, "dbname": self.target.dbname, "connect_timeout": 10}
        return PostgresKeysetConnector(conninfo, page_size=PAGE_SIZE, max_attempts=1, backoff_s=0)

    def drop(self) -> None:
        self.conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(self.schema)))


def offer(database: SourceDatabase, batch: SqlBatch) -> Offer:
    database.fill(batch)
    source: Source = fuzz_source(DOCMGMT, "sql", entities=tuple(
        replace(entity, path=f"{database.schema}.{TABLES[entity.name]}") for entity in DOCMGMT.entities))
    entity = next(entity for entity in source.entities if entity.name == batch.entity.name)
    window = WINDOW if entity.windowed else None
    pages = len(batch.rows) // PAGE_SIZE + 1
    return Offer(DOCMGMT, source, entity, window, database.connector(batch.fault), pages, len(batch.rows),
                 batch.fault)
