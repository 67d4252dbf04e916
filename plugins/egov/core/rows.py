"""Reading the result of a query that always answers exactly one row.

psycopg's ``fetchone()`` answers None when there is no row; for ``select current_user`` or an aggregate
without ``group by`` that cannot happen unless the query itself is broken, and this says so by name
instead of failing later on None. Its own module (not ``egov.core.db``) because ``egov.core.warehouse``
needs it and ``egov.core.db`` imports ``egov.core.warehouse``.
"""

from __future__ import annotations

from typing import TypeVar

import psycopg
from psycopg.abc import Params, QueryNoTemplate

R = TypeVar("R")


def one_row(conn: psycopg.Connection[R], query: QueryNoTemplate, params: Params | None = None) -> R:
    """The single row ``query`` answers, in the connection's row type (a tuple unless a row factory says)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError(f"expected one row, got none from: {query!r}")
    return row
