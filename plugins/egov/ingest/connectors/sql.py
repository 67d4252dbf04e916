"""Read access to another agency's PostgreSQL database."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from egov.core import config
from egov.core.sources import Entity
from egov.core.values import json_value
from egov.ingest.connectors.base import Endpoint, Page, check_nesting, local_midnight, with_retries
from egov.ingest.errors import SchemaDriftError, SourceDataError, SourceUnavailable


@dataclass
class PostgresKeysetConnector:
    """Read access to another agency's PostgreSQL database, paged by keyset under one snapshot.

    ``entity.path`` is ``schema.table``; rows come in (date field, key) order, a page at a time
    with ``where (…) > (last row)`` so no page is skipped or repeated however large the table. A key the source
    repeats across a page's end is read whole at that end, and rows with a null key after the last page, so that
    nothing is lost for the loader to judge. The whole extract runs in one read-only REPEATABLE READ transaction:
    every page sees the same data.
    """

    conninfo: dict
    page_size: int = 10_000
    statement_timeout_s: float = 120.0
    max_attempts: int = 5
    backoff_s: float = 1.0

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> PostgresKeysetConnector:
        if not endpoint.host or not endpoint.schema:
            raise ValueError("a SQL source's connection needs a host and the database name as its schema")
        return cls({"host": endpoint.host, "port": endpoint.port or 5432, "user": endpoint.login or "",
                    "password": endpoint.password or "", "dbname": endpoint.schema, "connect_timeout": 10})

    def _connect(self) -> psycopg.Connection:
        def attempt() -> tuple[psycopg.Connection | None, str]:
            try:
                timeout_ms = int(self.statement_timeout_s * 1000)
                # Timestamps come out in the province's offset, as the product shows them.
                options = f"-c statement_timeout={timeout_ms} -c TimeZone={config.LOCAL_TIMEZONE.key}"
                conn = psycopg.connect(**self.conninfo, options=options)
            except psycopg.OperationalError as exc:
                return None, f"OperationalError: {str(exc).strip()}"
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            return conn, ""

        where = f"{self.conninfo['host']}:{self.conninfo['port']}/{self.conninfo['dbname']}"
        return with_retries(f"connect to {where}", attempt, self.max_attempts, self.backoff_s)

    def pages(self, entity: Entity, window: tuple[date, date] | None) -> Iterator[Page]:
        query, bounds, order = _page_query(entity, window)
        tied_query, null_key_query = _tie_queries(entity, window, order)
        last: tuple | None = None
        where = f"{self.conninfo['host']}:{self.conninfo['port']}/{self.conninfo['dbname']} {entity.path}"
        # The driver's errors are translated around the connection too: its commit at the end can fail as well.
        with _driver_errors(where), self._connect() as conn:
            for number in itertools.count(1):
                params = [*bounds, *(last or ()), self.page_size]
                position = f"page {number}, " + (f"after {dict(zip(order, last, strict=True))}" if last else "first")
                try:
                    cursor = conn.execute(query(last is not None), params)
                except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
                    raise SchemaDriftError(
                        f"{entity.path}: {exc.diag.message_primary}; the registry expects columns "
                        f"{', '.join(entity.fields)}") from exc
                names = [column.name for column in cursor.description or ()]
                rows = _converted_rows(f"{where} ({position})", cursor, names, order)
                full = len(rows) == self.page_size
                if full:
                    # A key the source repeats could straddle the page's end, and ``> (last)`` would skip its
                    # other rows: every row of the page's last key is read here, in one query, instead.
                    tail = tuple(rows[-1][names.index(name)] for name in order)
                    rows = [row for row in rows if tuple(row[names.index(name)] for name in order) != tail]
                    rows += _converted_rows(f"{where} ({position}, rows of its last key)",
                                            conn.execute(tied_query, [*bounds, *tail]), names, order)
                elif null_key_query is not None:
                    # Rows with no key sort nowhere in a keyset: read last, for the record rules to quarantine.
                    rows += _converted_rows(f"{where} (rows without a key)", conn.execute(null_key_query, bounds),
                                            names, order)
                records = [{name: record_value(value) for name, value in zip(names, row, strict=True)}
                           for row in rows]
                check_nesting(f"{where} ({position})", records)
                request = query(last is not None).as_string(conn)
                yield Page(f"{request} -- params {[json_value(p) for p in params]}", records)
                if not full:
                    return
                last = tail


def record_value(value: object) -> object:
    """A database value as a record holds it: JSON's own types (``json_value`` for dates and numerics), a list of
    them for an array, a json column as it is; any other type the driver gives (uuid, interval, bytea, a range) as
    its text, for the record rules to judge, since the raw payload can hold nothing else."""
    value = json_value(value)
    if value is None or isinstance(value, str | int | float | bool | dict):
        return value
    if isinstance(value, list):
        return [record_value(item) for item in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()  # as PostgreSQL writes bytea
    return str(value)


def _page_query(entity: Entity, window: tuple[date, date] | None) -> tuple[Callable[[bool], sql.Composed], list,
                                                                          tuple[str, ...]]:
    """The query of a page (given whether it follows another), the window's bounds and the keyset's columns."""
    schema, table = entity.path.split(".")
    order, conditions, bounds = entity.key, [], []
    if window is not None:
        if entity.date_field is None:
            raise ValueError(f"{entity.name}: a snapshot has no date field to select a window by")
        order = (entity.date_field, *entity.key)
        conditions.append(sql.SQL("{0} >= %s and {0} < %s").format(sql.Identifier(entity.date_field)))
        bounds = [local_midnight(window[0]), local_midnight(window[1])]
    columns = sql.SQL(", ").join(map(sql.Identifier, entity.fields))
    order_by = sql.SQL(", ").join(map(sql.Identifier, order))
    after_last = sql.SQL("({}) > ({})").format(order_by, sql.SQL(", ").join(sql.Placeholder() * len(order)))
    # A row with a null key has no place in the keyset: it is read on its own after the last page.
    conditions.append(sql.SQL("row({}) is not null").format(order_by))

    def query(follows: bool) -> sql.Composed:
        where = conditions + ([after_last] if follows else [])
        return sql.SQL("select {} from {} {} order by {} limit %s").format(
            columns, sql.Identifier(schema, table),
            sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""), order_by)

    return query, bounds, order


def _tie_queries(entity: Entity, window: tuple[date, date] | None,
                 order: tuple[str, ...]) -> tuple[sql.Composed, sql.Composed | None]:
    """The query of every row with a given key (in the window), and of the rows whose key is null (None when the
    source's table cannot hold one: the query is the same either way, so it is always asked)."""
    schema, table = entity.path.split(".")
    columns = sql.SQL(", ").join(map(sql.Identifier, entity.fields))
    conditions = ([sql.SQL("{0} >= %s and {0} < %s").format(sql.Identifier(entity.date_field))]
                  if window is not None and entity.date_field else [])
    source = sql.Identifier(schema, table)
    tied = sql.SQL("select {} from {} where {}").format(columns, source, sql.SQL(" and ").join([
        *conditions, sql.SQL("({}) = ({})").format(sql.SQL(", ").join(map(sql.Identifier, order)),
                                                   sql.SQL(", ").join(sql.Placeholder() * len(order)))]))
    null_key = sql.SQL(" or ").join(sql.SQL("{} is null").format(sql.Identifier(name)) for name in order)
    nulls = sql.SQL("select {} from {} where {}").format(
        columns, source, sql.SQL(" and ").join([*conditions, sql.SQL("({})").format(null_key)]))
    return tied, nulls


def _converted_rows(where: str, cursor: psycopg.Cursor, names: list[str], order: tuple[str, ...]) -> list[tuple]:
    """The page's rows, converted one at a time so that a value the driver cannot convert (a date past year 9999,
    an infinite timestamp, text the client encoding cannot decode) is named by its row and the row before it."""
    rows: list[tuple] = []
    try:
        for row in cursor:
            rows.append(row)
    except (psycopg.DataError, ValueError, OverflowError) as exc:
        before = f" (the one after {dict((name, rows[-1][names.index(name)]) for name in order)})" if rows else ""
        raise SourceDataError(f"{where}: row {len(rows) + 1} of the page{before} holds a value that cannot be "
                              f"converted: {exc}") from exc
    return rows


@contextmanager
def _driver_errors(where: str) -> Iterator[None]:
    """The driver's errors as the source's: a lost connection, a cancelled statement or a conflict is worth a
    retry (:class:`SourceUnavailable`); anything else the database refuses will be refused again."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise SourceUnavailable(f"{where}: {type(exc).__name__}: {str(exc).strip()}") from exc
    except psycopg.Error as exc:
        raise SourceDataError(f"{where}: the database refused the read: {type(exc).__name__}: "
                              f"{str(exc).strip()}") from exc
