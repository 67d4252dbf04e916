"""Run Airflow CLI commands and whole DAG runs with the project's configuration.

``make run`` and the end-to-end tests use ``airflow dags test``: the real DAG,
its real tasks and the real metadata database, without a long-lived scheduler.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from egov.core import config, db
from egov.core.rows import one_row
from egov.orchestration.airflow_env import airflow_env


class AirflowCommandError(RuntimeError):
    """An airflow command exited non-zero; the message has its log's tail."""


@dataclass(frozen=True)
class DagRunOutcome:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]
    log_path: Path
    elapsed_s: float

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    def summary(self) -> str:
        tasks = ", ".join(f"{task}={state}" for task, state in self.tasks.items())
        return f"{self.dag_id}: {self.state} ({tasks}) in {self.elapsed_s:.1f}s"



def log_dir() -> Path:
    path = config.state_dir() / "logs" / "airflow-cli"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def run_airflow(argv: list[str], log_name: str, check: bool = True) -> tuple[Path, float]:
    """Run ``airflow argv``, output to a log file; with ``check``, raise with the log's tail if it fails."""
    log_path = log_dir() / f"{log_name}.log"
    started = time.monotonic()
    with log_path.open("w") as log_file:
        proc = subprocess.run([config.venv_tool("airflow"), *argv], env=airflow_env(), stdout=log_file,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
    if check and proc.returncode != 0:
        raise AirflowCommandError(
            f"`airflow {' '.join(argv[:3])}` failed (exit {proc.returncode}); log {log_path}:\n{_tail(log_path)}"
        )
    return log_path, time.monotonic() - started


def migrate() -> float:
    return run_airflow(["db", "migrate"], "db-migrate")[1]


def _last_run_id(dag_id: str) -> int:
    """Highest dag_run id so far: `dags test` clears and reuses a run of the same logical date."""
    with db.connect(db.airflow_target()) as conn:
        (last,) = one_row(conn, "select coalesce(max(id), 0) from dag_run where dag_id = %s", (dag_id,))
    return last


def run_dag(dag_id: str, logical_date: str, conf: dict | None = None) -> DagRunOutcome:
    """One real run of ``dag_id`` for ``logical_date``; its final state, whatever it is."""
    argv = ["dags", "test", dag_id, logical_date]
    if conf:
        argv += ["-c", json.dumps(conf)]
    last_before = _last_run_id(dag_id)
    # A run whose tasks fail exits non-zero too; the run's state in the metadata DB tells which.
    log_path, elapsed = run_airflow(argv, f"{dag_id}__{logical_date}", check=False)
    with db.connect(db.airflow_target()) as conn:
        row = conn.execute(
            "select run_id, state from dag_run where dag_id = %s and id > %s order by id desc limit 1",
            (dag_id, last_before),
        ).fetchone()
        if row is None:
            raise AirflowCommandError(f"`airflow dags test {dag_id}` recorded no run; log {log_path}:\n"
                                      f"{_tail(log_path)}")
        tasks: dict[str, str] = dict(conn.execute(
            "select task_id, coalesce(state, 'none') from task_instance "
            "where dag_id = %s and run_id = %s order by task_id",
            (dag_id, row[0]),
        ).fetchall())
    return DagRunOutcome(dag_id, row[0], row[1], tasks, log_path, elapsed)
