"""Run dbt against the warehouse with credentials from the environment.

dbt runs as a subprocess of the calling task: its logging, threads and
memory stay out of the Airflow worker, and its artifacts (``run_results``,
``manifest``) land in the state folder where the publication step reads the
invocation id.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from egov.core import config, roles
from egov.core.rows import one_row
from egov.core.run_context import OUTSIDE_AIRFLOW, RunContext
from egov.openlineage import runs

log = logging.getLogger(__name__)


class DbtError(RuntimeError):
    """dbt exited non-zero; the message carries its failing nodes.

    ``data_failure`` is true when every failing node is a data or unit test that ran and
    failed: the data is wrong, and a retry would fail the same way.
    """

    def __init__(self, message: str, data_failure: bool = False):
        super().__init__(message)
        self.data_failure = data_failure


@dataclass(frozen=True)
class DbtResult:
    invocation_id: str
    elapsed_s: float
    statuses: dict[str, int]
    #: Each node's status by its unique id (model.egov.dim_date, test.egov.assert_..., ...).
    nodes: dict[str, str] = field(default_factory=dict)
    #: run_results.json and manifest.json as this invocation wrote them, read while it still held the build
    #: lock (the next build overwrites the files).
    run_results_json: str = field(default="", repr=False)
    manifest_json: str = field(default="", repr=False)


def target_dir() -> Path:
    return config.state_dir() / "dbt" / "target"


def dbt_env(target: config.PgTarget) -> dict[str, str]:
    """dbt's environment for ``target``. Signed in as the dbt job's login, dbt acts as ``egov_transform`` (the
    NOLOGIN owner of its tables, see egov.core.roles), so the tables it makes outlive any login's password."""
    acting_as = roles.TRANSFORM_OWNER if target.user == roles.LOGINS["dbt"].name else ""
    return {
        **os.environ,
        **target.libpq_env(),
        "EGOV_DBT_ROLE": acting_as,
        "DBT_PROFILES_DIR": str(config.DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(config.DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(target_dir()),
        "DBT_LOG_PATH": str(config.state_dir() / "dbt" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }



def run_dbt(args: list[str], target: config.PgTarget, run: RunContext = OUTSIDE_AIRFLOW,
            extra_env: dict[str, str] | None = None) -> DbtResult:
    """Run ``dbt <args>``, one dbt at a time per warehouse; raise :class:`DbtError` if it fails.
    ``extra_env`` is added to its environment (``lineage_scope_env``).

    The invocation is one OpenLineage job run ``dbt.<command>``: from the sources and seeds the executed
    nodes read to the models it built, with the invocation id and node statuses in its ``egov_dbt`` facet.
    """
    cmd = [config.venv_tool("dbt"), *args]
    with runs.job_run(f"dbt.{args[0]}", facets=[runs.DbtRunFacet(command=" ".join(args))],
                                parent=run) as openlineage_run:
        with psycopg.connect(target.url(), autocommit=True) as lock_conn:
            # The transform and publication DAGs both build; two concurrent delete+insert runs of one
            # incremental model would duplicate its rows, so builds against one warehouse queue here.
            lock_conn.execute("select pg_advisory_lock(hashtext('dbt-build'))")
            # A result file left by an earlier invocation must not be read as this one's.
            (target_dir() / "run_results.json").unlink(missing_ok=True)
            log.info("running %s", " ".join(cmd))
            proc = subprocess.run(cmd, env={**dbt_env(target), **(extra_env or {})}, cwd=config.DBT_PROJECT_DIR,
                                  capture_output=True, text=True, check=False)
            result = _read_run_results()
            openlineage_run.inputs, openlineage_run.outputs = _openlineage_datasets(lock_conn, result)
        openlineage_run.update(runs.DbtRunFacet, invocation_id=result.invocation_id or None,
                       statuses=result.statuses)
        for line in proc.stdout.splitlines():
            log.info("dbt: %s", line)
        if proc.returncode != 0:
            failures = [line for line in proc.stdout.splitlines() if "ERROR" in line or "FAIL" in line]
            only_tests_failed = bool(result.statuses.get("fail")) and not result.statuses.get("error")
            raise DbtError(
                f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n"
                + "\n".join(failures[-20:] or proc.stdout.splitlines()[-20:])
                + (f"\n{proc.stderr.strip()}" if proc.stderr.strip() else ""),
                data_failure=only_tests_failed,
            )
    return result


def _openlineage_datasets(conn: psycopg.Connection, result: DbtResult) -> tuple[list, list]:
    """The OpenLineage datasets of an invocation (table level), from its manifest: the sources and seeds that
    the executed nodes depend on (inputs), and the models it built successfully (outputs). OpenLineage never
    fails a build: a manifest it cannot read gives none."""
    try:
        manifest = json.loads(result.manifest_json)

        def relation(unique_id: str) -> str:
            node = manifest["sources"].get(unique_id) or manifest["nodes"][unique_id]
            return f"{node['schema']}.{node.get('identifier') or node.get('alias') or node['name']}"

        read = sorted({
            upstream for unique_id in result.nodes if unique_id in manifest["nodes"]
            for upstream in manifest["nodes"][unique_id].get("depends_on", {}).get("nodes", [])
            if upstream.split(".")[0] in ("source", "seed")
        })
        built = sorted(unique_id for unique_id, status in result.nodes.items()
                       if unique_id.startswith("model.") and status == "success")
        return ([runs.warehouse_dataset(conn, relation(u)) for u in read],
                [runs.warehouse_dataset(conn, relation(u)) for u in built])
    except (ValueError, KeyError, TypeError) as unreadable:
        if result.manifest_json:  # no manifest at all: dbt failed before it parsed the project
            log.warning("no OpenLineage datasets for dbt invocation %s: %r", result.invocation_id, unreadable)
        return [], []


def _read_run_results() -> DbtResult:
    path = target_dir() / "run_results.json"
    try:
        text = path.read_text()
        data = json.loads(text)
    except (OSError, ValueError):
        return DbtResult("", 0.0, {})
    statuses: dict[str, int] = {}
    for node in data.get("results", []):
        statuses[node["status"]] = statuses.get(node["status"], 0) + 1
    nodes = {node["unique_id"]: node["status"] for node in data.get("results", [])}
    try:
        manifest = (target_dir() / "manifest.json").read_text()
    except OSError:
        manifest = ""
    return DbtResult(data["metadata"]["invocation_id"], data.get("elapsed_time", 0.0), statuses, nodes, text,
                     manifest)


def build(target: config.PgTarget, select: str | None = None, full_refresh: bool = False,
          run: RunContext = OUTSIDE_AIRFLOW, extra_env: dict[str, str] | None = None) -> DbtResult:
    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(args, target, run, extra_env)


#: Read by tests/assert_raw_lineage_reconciles_with_daily_indicators.sql (an environment variable, not a dbt var:
#: a changed var makes dbt parse the whole project again, a changed variable only the files that read it).
LINEAGE_DAYS_FROM = "EGOV_LINEAGE_DAYS_FROM"


def lineage_scope_env(conn: psycopg.Connection, previous_build_started: datetime | None) -> dict[str, str]:
    """For a daily build: reconcile raw lineage from the first day of any window loaded since the previous
    successful build started, the days whose raw rows may have changed; all history without a previous build, or
    when nothing dated was loaded since."""
    if previous_build_started is None:
        return {}
    (first_day,) = one_row(conn, "select min(window_start) from audit.load_batches where loaded_at > %s",
                           (previous_build_started,))
    return {LINEAGE_DAYS_FROM: first_day.isoformat()} if first_day else {}


def record_invocation(conn: psycopg.Connection, result: DbtResult, dag_id: str | None = None,
                      run_id: str | None = None) -> None:
    """Keep the artifacts of the build ``result`` in ``audit.dbt_invocations``, for the gate and release that
    rely on it."""
    if not result.run_results_json or not result.manifest_json:
        raise DbtError(f"dbt invocation {result.invocation_id or '(none)'} left no run_results.json and "
                       f"manifest.json in {target_dir()}")
    run_results = json.loads(result.run_results_json)
    with conn.transaction():
        conn.execute(
            "insert into audit.dbt_invocations (invocation_id, command, run_results, manifest, dag_id, run_id) "
            "values (%s, %s, %s, %s, %s, %s) on conflict (invocation_id) do nothing",
            (result.invocation_id, run_results.get("args", {}).get("invocation_command") or "dbt build",
             result.run_results_json, result.manifest_json, dag_id, run_id))
