"""The figures the transform built for a period (``reporting.rpt_report_figures``) and their content hash.

The gate records the hash of the figures it judged; publication refuses figures whose hash has changed
since, and a release stores the same hash of the figures it carries.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import psycopg

from egov.core.periods import Period


def content_hash(figures: list[tuple[str, Decimal, str]]) -> str:
    canonical = json.dumps([[fid, str(value), unit] for fid, value, unit in sorted(figures)])
    return hashlib.sha256(canonical.encode()).hexdigest()


def period_figures(conn: psycopg.Connection, period: Period) -> list[tuple[str, Decimal, str]]:
    return conn.execute(
        "select figure_id, figure_value, unit from reporting.rpt_report_figures where period = %s "
        "order by display_order",
        (period.label,),
    ).fetchall()
