"""What a figure is made of (``lineage.lineage_figure_components``) and the SQL that finds the raw rows
and load batches behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from egov.core.periods import Period

RAW_ROWS_VIEW = "lineage.lineage_indicator_raw_rows"


class TraceError(RuntimeError):
    """The figure cannot be traced (unknown figure, period not in the warehouse)."""


@dataclass(frozen=True)
class Component:
    """A part of a figure: the indicator itself (flows, stocks) or a ratio's numerator or denominator."""

    role: str
    indicator_code: str
    measure_kind: str
    first_day: date
    last_day: date


def components(conn: psycopg.Connection, period: Period, figure_id: str | None = None) -> dict[str, list[Component]]:
    try:
        rows = conn.execute(
            "select figure_id, component_role, indicator_code, measure_kind, first_day, last_day "
            "from lineage.lineage_figure_components where period = %s and (%s::text is null or figure_id = %s) "
            "order by figure_id, component_role desc",
            (period.label, figure_id, figure_id)).fetchall()
    except psycopg.errors.UndefinedTable:
        raise TraceError(
            "the lineage views are missing: a dbt run that replaced a table they read drops them with it "
            "(PostgreSQL's cascade); re-create them with `egov dbt run --select lineage` (or build with "
            "`--select model+`)") from None
    found: dict[str, list[Component]] = {}
    for figure, *component in rows:
        found.setdefault(figure, []).append(Component(*component))
    return found


def period_components(conn: psycopg.Connection, period: Period) -> dict[str, list[Component]]:
    """Every figure of ``period`` with its components; an error if the warehouse has none."""
    figures = components(conn, period)
    if not figures:
        raise TraceError(f"the warehouse has no figures for {period.label}")
    return figures


def raw_rows_select(figure_id: str, component: Component) -> sql.Composed:
    """SQL selecting the raw rows behind one component of ``figure_id``, with their contributions."""
    # Constants, not a join: the view is a union of one branch per indicator, and only a constant
    # indicator_code lets the planner drop the other branches.
    return sql.SQL(
        "select {figure}::text as figure_id, {role}::text as component_role, indicator_code, date_day, agency_code, "
        "raw_table, batch_id, record_index, contribution from {view} "
        "where indicator_code = {indicator} and date_day between {first} and {last}"
    ).format(figure=sql.Literal(figure_id), role=sql.Literal(component.role),
             view=sql.SQL(RAW_ROWS_VIEW), indicator=sql.Literal(component.indicator_code),
             first=sql.Literal(component.first_day), last=sql.Literal(component.last_day))


def figure_raw_rows_query(conn: psycopg.Connection, figures: dict[str, list[Component]]) -> str:
    """SQL selecting the raw rows behind ``figures`` (each figure's components) with their contributions."""
    parts = [raw_rows_select(figure, component) for figure, found in figures.items() for component in found]
    return sql.SQL("\nunion all\n").join(parts).as_string(conn)


def batches_used_query(conn: psycopg.Connection, figures: dict[str, list[Component]]) -> str:
    """SQL: the load batches behind ``figures`` and how many of their rows they use.

    A stock stated on a day its source had nothing (no site online) has a row without a batch: no batch
    is behind it."""
    return f"""
        select batch_id, raw_table, count(distinct record_index) as rows_used
        from ({figure_raw_rows_query(conn, figures)}) as used
        where batch_id is not null
        group by batch_id, raw_table
    """
