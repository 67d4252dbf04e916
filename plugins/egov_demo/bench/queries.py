"""Latency of typical BI queries on the reporting models at national scale.

Issue: "p50/p95 latency of typical BI queries on the reporting models at national scale (target p95 under
20 ms; a pre-aggregated rollup table with the right index answers in well under a millisecond)".

On the national warehouse of ``egov_demo.bench.national`` (built by it earlier in the run, or here if it was not),
each query runs warm (a few untimed executions first), then ``RUNS`` times with its parameters drawn in turn
from the warehouse's own keys (quarters of the simulated year, provinces and districts, communes), over one
connection as a BI tool holds one. The time is the client's: execute and fetch every row. psycopg prepares a
statement from its sixth execution on, as it does for any application. Each query's executed plan is
recorded (``EXPLAIN ANALYZE``) and its row says whether it read its table by an index or whole: on a small
warehouse (``--units 500``) PostgreSQL rightly prefers to read small tables whole.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import psycopg

from egov.core import db
from egov_demo.bench import Bench, BenchError, Row, national, say

NAME = "queries"
RUNS = 200
WARM_UP = 10
TARGET_P95_MS = 20.0
TARGET_LOOKUP_P50_MS = 1.0
#: Candidate keys drawn per kind (units, areas), so that the runs do not all read one page.
SAMPLE = 500


def _say(text: str) -> None:
    say(NAME, text)


@dataclass(frozen=True)
class Keys:
    """Parameter values taken from the national warehouse."""

    quarters: list[str]
    year: str
    areas: list[str]  # provinces and districts
    units: list[str]  # one-stop units (communes)


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    params: Callable[[random.Random, Keys], tuple]
    #: The relation whose index the query should read.
    table: str
    #: The pre-aggregated lookup, with the stricter target on its median.
    lookup: bool = False


QUERIES = (
    Query(
        "one indicator, one quarter, one province or district",
        "select indicator_value from reporting.rpt_indicator_admin_unit_period"
        " where period_label = %s and indicator_code = 'onestop_dossiers_received' and boundary = 'as_was'"
        " and admin_unit_code = %s",
        lambda pick, keys: (pick.choice(keys.quarters), pick.choice(keys.areas)),
        "rpt_indicator_admin_unit_period",
    ),
    Query(
        "top 10 communes by online share of level-3/4 dossiers in a quarter",
        "select admin_unit_code, admin_unit_name, indicator_value, numerator_value, denominator_value"
        " from reporting.rpt_indicator_admin_unit_period"
        " where period_label = %s and indicator_code = 'onestop_online_share_level34' and boundary = 'as_was'"
        " and admin_level = 'commune'"
        " order by indicator_value desc nulls last, denominator_value desc, admin_unit_code limit 10",
        lambda pick, keys: (pick.choice(keys.quarters),),
        "rpt_indicator_admin_unit_period",
    ),
    Query(
        "a unit's dossiers received per month over the year",
        "select date_trunc('month', date_day)::date as month, sum(dossier_count) as dossiers"
        " from marts.fct_onestop_dossiers_daily"
        " where agency_code = %s and date_day between make_date(%s, 1, 1) and make_date(%s, 12, 31)"
        " and event_code = 'received' group by 1 order by 1",
        lambda pick, keys: (pick.choice(keys.units), int(keys.year), int(keys.year)),
        "fct_onestop_dossiers_daily",
    ),
    Query(
        "a unit's quarter by channel and event",
        "select channel_code, event_code, sum(dossier_count) as dossiers from reporting.rpt_onestop_quarterly"
        " where period = %s and agency_code = %s group by 1, 2 order by 1, 2",
        lambda pick, keys: (pick.choice(keys.quarters), pick.choice(keys.units)),
        "rpt_onestop_quarterly",
    ),
    Query(
        "the report's figures for a quarter (published-figures lookup)",
        "select figure_id, figure_value, unit from reporting.rpt_report_figures where period = %s"
        " order by display_order",
        lambda pick, keys: (pick.choice(keys.quarters),),
        "rpt_report_figures",
    ),
    Query(
        "pre-aggregated rollup: one indicator of one quarter, province-wide",
        "select indicator_value from reporting.rpt_indicator_period"
        " where period_label = %s and indicator_code = 'onestop_dossiers_received'",
        lambda pick, keys: (pick.choice(keys.quarters),),
        "rpt_indicator_period",
        lookup=True,
    ),
)


def keys_of(conn: psycopg.Connection, warehouse: national.NationalWarehouse, pick: random.Random) -> Keys:
    last_day = warehouse.first_day.toordinal() + warehouse.days - 1
    quarters = [row[0] for row in conn.execute(
        "select period_label from reporting.rpt_indicator_period where period_kind = 'quarter'"
        " and period_start <= %s and period_end >= %s group by 1 order by 1",
        (date.fromordinal(last_day), warehouse.first_day)).fetchall()]
    areas = [row[0] for row in conn.execute(
        "select distinct admin_unit_code from reporting.rpt_indicator_admin_unit_period"
        " where admin_level in ('province', 'district') and boundary = 'as_was' order by 1").fetchall()]
    units = [row[0] for row in conn.execute(
        "select agency_code from marts.dim_agency where is_onestop_unit order by 1").fetchall()]
    if not quarters or not areas or not units:
        raise BenchError(f"the national warehouse {warehouse.target.dbname} has no quarters, areas or units in its "
                           "reporting tables: was it rolled up?")
    return Keys(quarters, str(warehouse.first_day.year), pick.sample(areas, min(SAMPLE, len(areas))),
                pick.sample(units, min(SAMPLE, len(units))))


def plan_of(conn: psycopg.Connection, query: Query, params: tuple) -> dict:
    """The executed plan's scans: each node reading a table, with the index it uses."""
    (plan,) = conn.execute(f"explain (analyze, format json) {query.sql}", params).fetchone()[0]
    scans = []

    def index_below(node: dict) -> str | None:
        """A bitmap heap scan names its table; the bitmap index scans under it name the index."""
        names = [name for child in node.get("Plans", []) if (name := child.get("Index Name") or index_below(child))]
        return ", ".join(names) or None

    def walk(node: dict) -> None:
        if "Relation Name" in node:
            scans.append({"node": node["Node Type"], "table": node["Relation Name"],
                          "index": node.get("Index Name") or index_below(node), "rows": node.get("Actual Rows")})
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {"scans": scans, "execution_ms": plan.get("Execution Time")}


def uses_index(plan: dict, table: str) -> bool:
    scans = [scan for scan in plan["scans"] if scan["table"] == table]
    return bool(scans) and all(scan["index"] for scan in scans)


def latencies(conn: psycopg.Connection, query: Query, keys: Keys, pick: random.Random) -> list[float]:
    """Milliseconds of ``RUNS`` warm executions, each fetching every row."""
    for _ in range(WARM_UP):
        conn.execute(query.sql, query.params(pick, keys)).fetchall()
    timings = []
    for _ in range(RUNS):
        params = query.params(pick, keys)
        started = time.perf_counter()
        conn.execute(query.sql, params).fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def run(bench: Bench) -> list[Row]:
    warehouse = national.warehouse(bench)
    pick = random.Random(2019)
    rows = []
    try:
        with db.connect(warehouse.target, autocommit=True) as conn:
            keys = keys_of(conn, warehouse, pick)
            _say(f"{len(QUERIES)} queries × {RUNS} warm runs on {warehouse.target.dbname} "
                 f"({warehouse.units:,} units × {warehouse.days} days; quarters {', '.join(keys.quarters)})")
            for query in QUERIES:
                plan = plan_of(conn, query, query.params(pick, keys))
                timings = latencies(conn, query, keys, pick)
                (table_rows,) = conn.execute("select reltuples::bigint from pg_class where relname = %s",
                                             (query.table,)).fetchone()
                rows.append(row_of(query, timings, plan, table_rows))
                indexes = ", ".join(f"{scan['table']} by {scan['index'] or 'a full scan'}" for scan in plan["scans"])
                _say(f"{query.name}: p50 {statistics.median(timings):.2f} ms, p95 {p95(timings):.2f} ms ({indexes})")
    finally:
        national.release()
    return rows


def row_of(query: Query, timings: list[float], plan: dict, table_rows: int) -> Row:
    p50_ms, p95_ms = statistics.median(timings), p95(timings)
    indexed = uses_index(plan, query.table)
    details = {"runs": len(timings), "p50_ms": round(p50_ms, 3), "p95_ms": round(p95_ms, 3),
               "max_ms": round(max(timings), 3), "sql": query.sql, "plan": plan, "index_used": indexed,
               "table_rows": table_rows}
    read = f"{query.table} of {table_rows:,} rows {'by index' if indexed else 'read whole'}"
    if query.lookup:
        met, target = p50_ms < TARGET_LOOKUP_P50_MS, f"p50 < {TARGET_LOOKUP_P50_MS:g} ms"
    else:
        met, target = p95_ms < TARGET_P95_MS, f"p95 < {TARGET_P95_MS:g} ms"
    return Row(NAME, f"{query.name}: p50 {p50_ms:.2f} ms, p95 {p95_ms:.2f} ms ({read})", None, target, met, details)
