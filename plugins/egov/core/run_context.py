"""Who asked for a piece of work: the Airflow task instance, or nobody (a command run by hand).

Every step that writes an audited record (a load batch, a dbt invocation, a gate run, a release) stores
it, and the OpenLineage events name it as their parent run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RunContext:
    """Who asked for the load; empty outside Airflow.

    The last four fields identify the task instance as Airflow's OpenLineage provider does, so that
    lineage events can name it as their parent run (``egov.openlineage.runs.airflow_parent``).
    """

    dag_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    #: The DAG run's logical date, or its ``run_after`` when it has none (a manual run in Airflow 3).
    logical_date: datetime | None = None
    try_number: int | None = None
    map_index: int | None = -1
    clear_number: int = 0


OUTSIDE_AIRFLOW = RunContext()
