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
from pathlib import Path

import psycopg

from egov import config

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


def target_dir() -> Path:
    return config.state_dir() / "dbt" / "target"


def dbt_env(target: config.PgTarget) -> dict[str, str]:
    return {
        **os.environ,
        **target.libpq_env(),
        "DBT_PROFILES_DIR": str(config.DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(config.DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(target_dir()),
        "DBT_LOG_PATH": str(config.state_dir() / "dbt" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }



def run_dbt(args: list[str], target: config.PgTarget) -> DbtResult:
    """Run ``dbt <args>``, one dbt at a time per warehouse; raise :class:`DbtError` if it fails."""
    cmd = [config.venv_tool("dbt"), *args]
    with psycopg.connect(target.url(), autocommit=True) as lock_conn:
        # The transform and publication DAGs both build; two concurrent delete+insert runs of one
        # incremental model would duplicate its rows, so builds against one warehouse queue here.
        lock_conn.execute("select pg_advisory_lock(hashtext('dbt-build'))")
        # A result file left by an earlier invocation must not be read as this one's.
        (target_dir() / "run_results.json").unlink(missing_ok=True)
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, env=dbt_env(target), cwd=config.DBT_PROJECT_DIR, capture_output=True,
                              text=True, check=False)
        result = _read_run_results()
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


def _read_run_results() -> DbtResult:
    path = target_dir() / "run_results.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return DbtResult("", 0.0, {})
    statuses: dict[str, int] = {}
    for node in data.get("results", []):
        statuses[node["status"]] = statuses.get(node["status"], 0) + 1
    nodes = {node["unique_id"]: node["status"] for node in data.get("results", [])}
    return DbtResult(data["metadata"]["invocation_id"], data.get("elapsed_time", 0.0), statuses, nodes)


def build(target: config.PgTarget, select: str | None = None, full_refresh: bool = False) -> DbtResult:
    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(args, target)
