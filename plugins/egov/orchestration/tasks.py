"""What the DAGs' tasks do, as plain functions of a run's window or period.

Tasks resolve their Airflow connections here and hand plain values to the
extract, dbt, gate and publish modules, which know nothing of Airflow.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

from egov.core import config
from egov.core.db import connect
from egov.core.periods import Period, parse_period, quarter_of
from egov.core.run_context import RunContext
from egov.core.sources import Source
from egov.ingest.connectors import connector_for
from egov.ingest.connectors.base import Connector, Endpoint
from egov.ingest.loader import LoadResult, extract_source
from egov.orchestration.airflow_env import WAREHOUSE_CONN_IDS
from egov.publication import publish
from egov.quality import gate
from egov.transform import dbt

log = logging.getLogger(__name__)



class GateBlocked(RuntimeError):
    """The quality gate failed; the previous release stays published."""


def connection_target(job: str) -> config.PgTarget:
    """The warehouse as job ``job`` (loader, dbt, gate, publisher) signs in to it, from its Airflow connection: in a
    task, the warehouse is where its Airflow connection points, which need not be where `egov db` points."""
    from airflow.sdk import Connection

    conn = Connection.get(WAREHOUSE_CONN_IDS[job])
    return config.PgTarget(conn.host, conn.port or 5432, conn.login or "", conn.password or "", conn.schema)


def source_connector(source: Source) -> Connector:
    """The source's connector, configured from its Airflow connection."""
    from airflow.sdk import Connection

    conn = Connection.get(source.connection_id)
    endpoint = Endpoint(conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra_dejson or {})
    try:
        return connector_for(source.connector, endpoint)
    except ValueError as exc:
        raise ValueError(f"connection {source.connection_id!r}: {exc}") from None


def run_context(context) -> RunContext:
    ti, dag_run = context["ti"], context["dag_run"]
    return RunContext(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                      logical_date=dag_run.logical_date or dag_run.run_after, try_number=ti.try_number,
                      map_index=ti.map_index, clear_number=dag_run.clear_number or 0)


def _local_date(moment) -> date:
    return moment.in_timezone(config.LOCAL_TIMEZONE.key).date()


def extract_window(context, lookback_days: int = 0) -> tuple[date, date]:
    """The run's data interval as local days [start, end), widened by ``lookback_days`` before it so that
    late and revised days are picked up; or exactly the explicit window in the run's conf."""
    params = context["params"]
    start, end = params.get("window_start"), params.get("window_end")
    if bool(start) != bool(end):
        raise ValueError("give both window_start and window_end (YYYY-MM-DD, end exclusive), or neither")
    if start:
        window = (date.fromisoformat(start), date.fromisoformat(end))
    else:
        window = (_local_date(context["data_interval_start"]) - timedelta(days=lookback_days),
                  _local_date(context["data_interval_end"]))
    if window[0] >= window[1]:
        raise ValueError(f"empty window {window[0]} .. {window[1]} (end is exclusive)")
    return window


def report_period(context) -> Period:
    """The quarter a publication run covers: its data interval, or ``period`` from the run's conf."""
    label = context["params"].get("period")
    if label:
        return parse_period(label)
    start, end = (_local_date(context["data_interval_start"]), _local_date(context["data_interval_end"]))
    period = quarter_of(start)
    if (period.start, period.end) != (start, end):
        raise ValueError(f"data interval {start} .. {end} is not a quarter; pass period=YYYYQn")
    return period


def extract(source: Source, context) -> list[LoadResult]:
    window = extract_window(context, source.lookback_days)
    target = connection_target("loader")
    log.info("extracting %s for %s .. %s (end exclusive)", source.key, *window)
    accept_shrink = bool(context["params"].get("accept_shrink"))
    with connect(target) as conn:
        return extract_source(conn, source, source_connector(source), window, run_context(context), accept_shrink)


def build_models(context, keep_artifacts: bool = False) -> dict:
    """``dbt build``; with ``keep_artifacts`` (a build a release will rest on) its run_results and manifest
    are kept in ``audit.dbt_invocations``. A build no release rests on (the transform DAG's) reconciles raw
    lineage only on the days loaded since its DAG's previous successful run (``dbt.lineage_scope_env``)."""
    target = connection_target("dbt")
    scope = {}
    if not keep_artifacts:
        # A lazy proxy in Airflow's context: read through it.
        previous = context.get("prev_start_date_success")
        with connect(target) as conn:
            scope = dbt.lineage_scope_env(conn, datetime.fromisoformat(previous.isoformat()) if previous else None)
    result = dbt.build(target, run=run_context(context), extra_env=scope)
    log.info("dbt build %s in %.1fs: %s", result.invocation_id, result.elapsed_s, result.statuses)
    if keep_artifacts:
        run = run_context(context)
        with connect(target) as conn:
            dbt.record_invocation(conn, result, run.dag_id, run.run_id)
    return {"invocation_id": result.invocation_id, "statuses": result.statuses}


def run_gate(dbt_invocation_id: str, context) -> str:
    period = report_period(context)
    target = connection_target("gate")
    with connect(target) as conn:
        outcome = gate.run_gate(conn, period, target, run_context(context), dbt_invocation_id)
    if not outcome.success:
        raise GateBlocked(outcome.explain())
    return str(outcome.validation_id)


def publish_period(validation_id: str, context) -> dict:
    period = report_period(context)
    with connect(connection_target("publisher")) as conn:
        release = publish.publish(conn, period, uuid.UUID(validation_id), run_context(context),
                                  reason=context["params"].get("reason"))
    return {"period": release.period, "version": release.version, "release_id": str(release.release_id),
            "created": release.created}
