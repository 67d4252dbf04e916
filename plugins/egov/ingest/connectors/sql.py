"""Read access to another agency's PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from egov.core import config
from egov.core.sources import Entity
from egov.core.values import json_value
from egov.ingest.connectors.base import Endpoint, Page, local_midnight, with_retries
from egov.ingest.errors import SchemaDriftError


@dataclass
class PostgresKeysetConnector:
    """Read access to another agency's PostgreSQL database, paged by keyset under one snapshot.

    ``entity.path`` is ``schema.table``; rows come in (date field, key) order, a page at a time
    with ``where (…) > (last row)`` so no page is skipped or repeated however large the table. The
    whole extract runs in one read-only REPEATABLE READ transaction: every page sees the same data.
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

    def _connect(self):
        import psycopg

        def attempt():
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
        import psycopg
        from psycopg import sql

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
        last: tuple | None = None
        with self._connect() as conn:
            while True:
                where = conditions + ([after_last] if last is not None else [])
                query = sql.SQL("select {} from {} {} order by {} limit %s").format(
                    columns, sql.Identifier(schema, table),
                    sql.SQL("where ") + sql.SQL(" and ").join(where) if where else sql.SQL(""), order_by)
                params = [*bounds, *(last or ()), self.page_size]
                try:
                    cursor = conn.execute(query, params)
                except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
                    raise SchemaDriftError(
                        f"{entity.path}: {exc.diag.message_primary}; the registry expects columns "
                        f"{', '.join(entity.fields)}") from exc
                names = [column.name for column in cursor.description]
                rows = cursor.fetchall()
                records = [{name: json_value(value) for name, value in zip(names, row, strict=True)}
                           for row in rows]
                request = query.as_string(conn)
                yield Page(f"{request} -- params {[json_value(p) for p in params]}", records)
                if len(rows) < self.page_size:
                    return
                last = tuple(rows[-1][names.index(name)] for name in order)
