"""DAGs generated from the source registry; the files in ``dags/`` only call these.

Nothing here touches a database or the network at import time, and what the
tasks run (``egov.orchestration.tasks`` with psycopg, requests, dbt and GX behind it) is
imported only when a task runs: DAG files are parsed every few seconds by the
dag-processor.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypedDict

import pendulum
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import Asset, AssetAny, CronDataIntervalTimetable, Param, dag, task

from egov.core.config import LOCAL_TIMEZONE
from egov.core.sources import SOURCES, Entity, Source

START = pendulum.datetime(2018, 1, 1, tz=LOCAL_TIMEZONE.key)
LATE_DATA_GRACE = timedelta(days=7)

# The first retry's delay is Airflow's own setting, [core] default_task_retry_delay (egov.orchestration.airflow_env sets
# 20 s unless AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY says otherwise), so a deployment can tune it without
# a code change; the failure drills shorten it to seconds.
DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 3,
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=1),
}


class SharedDagArgs(TypedDict):
    """The arguments every @dag shares, typed one by one so that ``**SHARED_DAG_ARGS`` matches @dag's signature."""

    start_date: datetime
    catchup: bool
    default_args: dict[str, Any]


# Every DAG starts with the simulated history, never catches up by itself (backfills are
# explicit), and retries its tasks with exponential backoff.
SHARED_DAG_ARGS: SharedDagArgs = {"start_date": START, "catchup": False, "default_args": DEFAULT_ARGS}


def _fail_fast_on_bad_data(step, context):
    """Run ``step``; data problems (a source's schema change, failed dbt tests, a blocked gate) fail at once,
    since a retry would meet the same data. Errors (a dropped connection, a restarting server, a file not yet
    delivered) are retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from egov.ingest.errors import SourceDataError
    from egov.orchestration import tasks
    from egov.publication.publish import PublicationError
    from egov.transform.dbt import DbtError

    try:
        return step(context)
    except (SourceDataError, PublicationError) as refused:
        raise AirflowFailException(str(refused)) from None
    except DbtError as failed:
        if failed.data_failure:
            raise AirflowFailException(str(failed)) from None
        raise
    except tasks.GateBlocked as blocked:
        raise AirflowFailException(str(blocked)) from None


def raw_asset(source: Source, entity: Entity) -> Asset:
    schema, table = source.raw_table(entity).split(".")
    return Asset(name=source.raw_table(entity), uri=f"egov://warehouse/{schema}/{table}", group="raw")


def extract_dag(source: Source):
    @dag(
        dag_id=f"egov_extract_{source.key}",
        description=f"Extract {source.system} into raw, one day per run",
        doc_md=(
            f"### Extract `{source.system}`\n\n{source.description}\n\n"
            f"Interface: **{source.interface}** (connector `{source.connector}`, Airflow connection "
            f"`{source.connection_id}`), schedule `{source.schedule}`.\n\n"
            "Each run loads its data interval (local days, Asia/Ho_Chi_Minh), plus the "
            f"{source.lookback_days} days before it to pick up late and revised data, into `raw`, replacing "
            "those days in one transaction, and records the batch in `audit.load_batches`. For a "
            "backfill, either `airflow backfill create` (one run per day) or trigger one run with "
            "`window_start` / `window_end` in its conf (end exclusive). A reference snapshot that comes back with "
            "less than half the rows of the previous one is refused unless the conf says `accept_shrink`."
        ),
        schedule=CronDataIntervalTimetable(source.schedule, timezone=LOCAL_TIMEZONE.key),
        **SHARED_DAG_ARGS,
        max_active_runs=4,
        tags=["egov", "extract", source.interface, *source.tags],
        params={
            "window_start": Param(None, type=["null", "string"], format="date",
                                  description="Explicit window start (YYYY-MM-DD) instead of the interval"),
            "window_end": Param(None, type=["null", "string"], format="date",
                                description="Explicit window end, exclusive"),
            "accept_shrink": Param(False, type="boolean",
                                   description="Load a reference snapshot even if it lost more than half its rows"),
        },
    )
    def extract_source_dag():
        for entity in source.entities:
            @task(task_id=f"extract_{entity.name}", outlets=[raw_asset(source, entity)])
            def extract_entity(entity: Entity = entity, **context) -> list[dict]:
                from egov.orchestration import tasks

                results = _fail_fast_on_bad_data(
                    lambda ctx: tasks.extract(replace(source, entities=(entity,)), ctx), context)
                return [
                    {"batch_id": str(r.batch_id), "rows": r.row_count, "rejected": r.rejected_count,
                     "replaced": r.replaced_rows, "window": [str(d) for d in r.window or ()]}
                    for r in results
                ]

            extract_entity()

    return extract_source_dag()


def transform_dag():
    raw_assets = [raw_asset(s, e) for s in SOURCES.values() for e in s.entities if e.windowed]

    @dag(
        dag_id="egov_transform",
        description="dbt build of staging, marts and reporting when raw data lands",
        doc_md=(
            "### Transform\n\nRuns `dbt build` (models, seeds and tests in DAG order) whenever an "
            "extract DAG updates a raw table, so the marts BI tools read stay current. Incremental "
            "facts rebuild only the days that were (re)loaded."
        ),
        schedule=AssetAny(*raw_assets),
        **SHARED_DAG_ARGS,
        max_active_runs=1,
        tags=["egov", "dbt", "transform"],
    )
    def transform():
        @task(outlets=[Asset(name="reporting.rpt_report_figures",
                             uri="egov://warehouse/reporting/rpt_report_figures", group="reporting")])
        def dbt_build(**context) -> dict:
            from egov.orchestration import tasks

            return _fail_fast_on_bad_data(tasks.build_models, context)

        dbt_build()

    return transform()


def publish_dag():
    @dag(
        dag_id="egov_publish_quarterly",
        description="Build, validate with Great Expectations and publish a quarter's report figures",
        doc_md=(
            "### Publish a quarter\n\nOne run per quarter (its data interval), seven days after the quarter "
            "ends so that late and revised data has arrived. `dbt build`, then the "
            "Great Expectations gate on the quarter's slice; publication runs only if no blocking "
            "expectation failed, so a failed gate leaves the previous release in place. If the quarter was "
            "published before and its figures changed, the run publishes nothing without a `reason` in the "
            "conf: it fails with the diff, held for review in `audit.pending_reviews` (`egov pending`). Pass "
            "`period` (e.g. `2019Q1`) in the conf to publish another quarter by hand."
        ),
        schedule=CronDataIntervalTimetable("0 0 1 1,4,7,10 *", timezone=LOCAL_TIMEZONE.key),
        **SHARED_DAG_ARGS,
        max_active_runs=1,
        tags=["egov", "publish", "great_expectations"],
        params={
            "period": Param(None, type=["null", "string"], pattern=r"^\d{4}(Q[1-4])?$",
                            description="Quarter (2019Q1) or year (2019) to publish instead of the data interval"),
            "reason": Param(None, type=["null", "string"],
                            description="Why the figures changed since the last release: without it, changed "
                                        "figures are held for review and nothing is published"),
        },
    )
    def publish_quarterly():
        # Sources deliver late and revise recent days: publish a quarter only after a grace period.
        wait = TimeDeltaSensor(task_id="wait_for_late_data", delta=LATE_DATA_GRACE, mode="reschedule",
                               poke_interval=timedelta(hours=1).total_seconds())

        @task
        def dbt_build(**context) -> dict:
            from egov.orchestration import tasks

            return _fail_fast_on_bad_data(lambda ctx: tasks.build_models(ctx, keep_artifacts=True), context)

        @task
        def quality_gate(built: dict, **context) -> str:
            from egov.orchestration import tasks

            return _fail_fast_on_bad_data(lambda ctx: tasks.run_gate(built["invocation_id"], ctx), context)

        @task
        def publish(validation_id: str, **context) -> dict:
            from egov.orchestration import tasks

            return _fail_fast_on_bad_data(lambda ctx: tasks.publish_period(validation_id, ctx), context)

        built = dbt_build()
        wait >> built
        # A task called with an upstream's XComArg receives that task's return value when it runs; Airflow's @task
        # stubs type the call with the function's own parameters (dict, str), so they refuse the XComArg.
        publish(quality_gate(built))  # type: ignore[arg-type]

    return publish_quarterly()
