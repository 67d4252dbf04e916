"""Failure drills: the pipeline under the failures operations teams meet, each provoked for real.

- the extract process is killed (SIGKILL) in the middle of its COPY;
- PostgreSQL crashes and restarts in the middle of a dbt build;
- a source system is down for a day;
- the same page and the same file are delivered twice;
- the disk under a raw table fills up during a load.

Each drill checks what must hold afterwards: nothing partial is visible, nothing is counted twice,
nothing is lost, the error says what happened, and the next run puts everything right. What the
figures must be is read from the source systems themselves (``source_readers``), never from the
code under test. ``make drills`` runs only these.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
from loading import extract
from source_readers import all_figures, api_pages

from egov.core import config, db
from egov.core.periods import parse_period
from egov.ingest.loader import WarehouseFull
from egov.orchestration.airflow_env import airflow_env
from egov.orchestration.runner import log_dir, run_dag
from egov.transform import dbt

pytestmark = [pytest.mark.e2e, pytest.mark.drill]

Q1 = parse_period("2019Q1")
ONESTOP_COUNTS = "raw.onestop__dossier_counts"


def query(sql: str, params=()) -> list[tuple]:
    with db.connect(db.admin_target()) as conn:
        return conn.execute(sql, params).fetchall()


def one(sql: str, params=()):
    return query(sql, params)[0][0]


def day_totals(table: str, first: date, last: date) -> list[tuple]:
    """Rows per day of a raw table, with the sum of their payloads' ``count`` where they have one."""
    return query(f"select record_date, count(*), sum((payload->>'count')::bigint) from {table} "
                 "where record_date between %s and %s group by 1 order by 1", (first, last))


def rows_without_a_batch(table: str) -> int:
    return one(f"select count(*) from {table} r where not exists "
               "(select 1 from audit.load_batches b where b.batch_id = r.batch_id)")


def batches_since(moment) -> list[tuple]:
    return query("select batch_id, raw_table, row_count from audit.load_batches where loaded_at > %s", (moment,))


def server_now():
    return one("select clock_timestamp()")


def embedded_server() -> db.EmbeddedServer:
    if db.external_url():
        pytest.skip("the drill restarts or reconfigures the server: it needs the embedded one")
    return db.EmbeddedServer()


def start_airflow(argv: list[str], log_name: str, **env) -> tuple[subprocess.Popen, object]:
    """``airflow argv`` in its own process group, so that the drill can kill all of it."""
    log_path = log_dir() / f"{log_name}.log"
    handle = log_path.open("w")
    proc = subprocess.Popen([config.venv_tool("airflow"), *argv], env={**airflow_env(), **env}, stdout=handle,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, handle


def wait_for(condition, proc: subprocess.Popen, what: str, timeout_s: float = 300):
    """Poll ``condition`` until it returns something truthy; fail if ``proc`` ends first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if proc.poll() is not None:
            pytest.fail(f"the process ended (exit {proc.returncode}) before {what}")
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def copy_in_progress(table: str, at_least_rows: int):
    """The backend copying into ``table`` once it has received ``at_least_rows`` rows, else None."""
    name = table.split(".")[1]
    with db.connect(db.admin_target(), autocommit=True) as conn:
        row = conn.execute(
            "select a.pid, p.tuples_processed from pg_stat_activity a join pg_stat_progress_copy p using (pid) "
            "where a.query ilike %s and a.state = 'active'", (f"copy %{name}%",)).fetchone()
    return row if row and row[1] >= at_least_rows else None


def backend_gone(pid: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while one("select count(*) from pg_stat_activity where pid = %s", (pid,)):
        assert time.monotonic() < deadline, f"backend {pid} is still there {timeout_s}s after its client died"
        time.sleep(0.05)


@pytest.fixture(scope="module", autouse=True)
def staged(loaded_q1):
    dbt.build(db.job_target("dbt"), select="staging")


# ------------------------------------------------------------------ the extract is killed mid-load


def test_an_extract_killed_in_the_middle_of_its_copy_leaves_no_partial_batch(loaded_q1):
    before = day_totals(ONESTOP_COUNTS, Q1.start, Q1.last_day)
    started_at = server_now()
    conf = json.dumps({"window_start": str(Q1.start), "window_end": str(Q1.end)})
    proc, log = start_airflow(["dags", "test", "egov_extract_onestop", str(Q1.end), "-c", conf],
                              "drill_killed_extract")
    try:
        pid, copied = wait_for(lambda: copy_in_progress(ONESTOP_COUNTS, 1000), proc,
                               "the quarter's COPY into raw was under way")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    assert copied >= 1000, "the process was killed with rows of the batch already sent"
    backend_gone(pid)

    # Nothing of the killed batch is visible: raw holds what it held, every recorded batch is whole.
    assert day_totals(ONESTOP_COUNTS, Q1.start, Q1.last_day) == before
    assert rows_without_a_batch(ONESTOP_COUNTS) == 0
    for batch_id, table, row_count in batches_since(started_at):
        assert table != ONESTOP_COUNTS, "the killed load recorded its batch"
        assert one(f"select count(*) from {table} where batch_id = %s", (batch_id,)) == row_count, table
    # The lock the killed load held died with its session: the next run loads the quarter.
    rerun = run_dag("egov_extract_onestop", str(Q1.end),
                    {"window_start": str(Q1.start), "window_end": str(Q1.end)})
    assert rerun.succeeded, rerun.summary()
    assert day_totals(ONESTOP_COUNTS, Q1.start, Q1.last_day) == before
    (batch_id, row_count), = query("select batch_id, row_count from audit.load_batches where run_id = %s and "
                                   "raw_table = %s", (rerun.run_id, ONESTOP_COUNTS))
    assert one(f"select count(*) from {ONESTOP_COUNTS} where batch_id = %s", (batch_id,)) == row_count > 0


# ------------------------------------------------------------------ PostgreSQL restarts during dbt

BUILD_SCRIPT = """
import sys
from egov.core import db
from egov.transform import dbt
try:
    dbt.build(db.job_target("dbt"))
except dbt.DbtError as failed:
    print("DbtError data_failure=%s" % failed.data_failure, failed)
    sys.exit(3)
"""


def test_a_dbt_build_cut_by_a_postgresql_crash_is_rerun_to_the_right_figures(loaded_q1):
    server = embedded_server()
    warehouse = db.admin_target().dbname
    build = subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_for(lambda: one("select count(*) from pg_stat_activity where application_name = 'dbt' and "
                             "datname = %s and state = 'active'", (warehouse,)), build, "dbt was building")
        time.sleep(2)  # well into the build: models are being created
        server.restart(mode="immediate")  # a crash: the restart replays the WAL
        output, _ = build.communicate(timeout=600)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
    assert build.returncode != 0, f"the build finished before the crash:\n{output[-2000:]}"
    # Not a data failure: the DAG task retries it rather than failing at once.
    assert "data_failure=True" not in output, output[-2000:]
    # dbt reconnects after the restart; the models that were in flight when the server went down failed.
    results = json.loads((dbt.target_dir() / "run_results.json").read_text())["results"]
    cut = [r["message"] for r in results if r["status"] == "error"]
    assert cut and all(re.search(r"terminat|connection|shut ?down|recovery", m or "", re.I) for m in cut), cut

    dbt.build(db.job_target("dbt"))
    built = dict(query("select figure_id, figure_value from reporting.rpt_report_figures where period = %s",
                       (Q1.label,)))
    expected = all_figures(loaded_q1, Q1.start, Q1.last_day)
    assert set(built) == set(expected)
    for figure_id, value in expected.items():
        assert round(Decimal(built[figure_id]), 6) == round(Decimal(value), 6), figure_id


# ------------------------------------------------------------------ a source is down for a day


def test_a_source_down_for_a_day_fails_clearly_after_retries_and_the_next_run_catches_up(
        loaded_q1, monkeypatch):
    simulator = loaded_q1["onestop"]
    down_day = date(2019, 4, 10)
    expected = len(api_pages(simulator, "/api/v1/dossier-counts", from_date=str(down_day), to_date=str(down_day)))
    assert expected > 0
    rows_before = one(f"select count(*) from {ONESTOP_COUNTS} where record_date = %s", (down_day,))
    # Quick retries, so that the drill takes seconds: two HTTP attempts per request, 1 s before Airflow's first retry.
    connection = json.loads(os.environ["AIRFLOW_CONN_ONESTOP_API"])
    connection["extra"] = {**connection.get("extra", {}), "max_attempts": 2, "backoff_s": 0.2}
    monkeypatch.setenv("AIRFLOW_CONN_ONESTOP_API", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY", "1")

    simulator.stop()
    try:
        failed = run_dag("egov_extract_onestop", str(down_day + timedelta(days=1)))
    finally:
        simulator.restart()
    assert failed.state == "failed", failed.summary()
    assert failed.tasks["extract_dossier_counts"] == "failed"
    with db.connect(db.airflow_target()) as conn:
        (tries,) = conn.execute("select try_number from task_instance where run_id = %s "
                                "and task_id = 'extract_dossier_counts'", (failed.run_id,)).fetchone()
    assert tries == 4, "one try and the three retries every extract task has"
    log_text = failed.log_path.read_text(errors="replace")
    assert "SourceUnavailable" in log_text and "failed after 2 attempts" in log_text
    assert "ConnectionError" in log_text, "the error names the cause"
    assert one("select count(*) from audit.load_batches where run_id = %s", (failed.run_id,)) == 0
    assert one(f"select count(*) from {ONESTOP_COUNTS} where record_date = %s", (down_day,)) == rows_before

    caught_up = run_dag("egov_extract_onestop", str(down_day + timedelta(days=2)))
    assert caught_up.succeeded, caught_up.summary()
    assert one(f"select count(*) from {ONESTOP_COUNTS} where record_date = %s", (down_day,)) == expected
    assert one(f"select count(distinct r.batch_id) from {ONESTOP_COUNTS} r join audit.load_batches b "
               "using (batch_id) where r.record_date = %s and b.run_id = %s", (down_day, caught_up.run_id)) == 1


# ------------------------------------------------------------------ delivered twice


def test_a_page_and_a_file_delivered_twice_are_counted_once(loaded_q1):
    quarter = {"window_start": str(Q1.start), "window_end": str(Q1.end)}
    onestop_before = day_totals(ONESTOP_COUNTS, Q1.start, Q1.last_day)
    staged_before = query("select report_date, sum(dossier_count), count(*) from staging.stg_onestop__dossier_counts "
                          "where report_date between %s and %s group by 1 order by 1", (Q1.start, Q1.last_day))
    faults = loaded_q1["onestop"].faults
    faults.repeat_page = 1  # the quarter comes in pages of 5,000 records; page 2 is page 1 again
    try:
        repeated_page = run_dag("egov_extract_onestop", str(Q1.end), quarter)
        assert faults.repeat_page is None, "the simulator served a page twice"
    finally:
        loaded_q1["onestop"].reset_faults()
    assert repeated_page.succeeded, repeated_page.summary()
    # The same quarter delivered again in full, by a rerun, replaces it.
    rerun = run_dag("egov_extract_onestop", str(Q1.end), quarter)
    assert rerun.succeeded, rerun.summary()

    day = date(2019, 3, 6)
    mail_before = query("select sum(accounts_created), sum(accounts_total), count(*) "
                        "from staging.stg_mail__accounts_daily where report_date = %s", (day,))
    mail_folder = loaded_q1["landing"]["mail"]
    duplicate = mail_folder / f"hopthu_{day:%Y%m%d} (1).csv"
    shutil.copy(mail_folder / f"hopthu_{day:%Y%m%d}.csv", duplicate)
    try:
        copied_file = run_dag("egov_extract_mail", str(day + timedelta(days=1)),
                              {"window_start": str(day), "window_end": str(day + timedelta(days=1))})
    finally:
        duplicate.unlink()
    assert copied_file.succeeded, copied_file.summary()
    assert f"ignored: {duplicate.name}" in one("select request from audit.load_batches where run_id = %s",
                                               (copied_file.run_id,))

    assert day_totals(ONESTOP_COUNTS, Q1.start, Q1.last_day) == onestop_before
    assert query("select report_date, sum(dossier_count), count(*) from staging.stg_onestop__dossier_counts "
                 "where report_date between %s and %s group by 1 order by 1", (Q1.start, Q1.last_day)) == staged_before
    assert query("select sum(accounts_created), sum(accounts_total), count(*) from staging.stg_mail__accounts_daily "
                 "where report_date = %s", (day,)) == mail_before
    assert one("select count(*) from (select 1 from raw.onestop__dossier_counts where record_date between %s and %s "
               "group by record_date, payload->>'unit_code', payload->>'procedure_code', payload->>'channel', "
               "payload->>'event' having count(*) > 1) as twice", (Q1.start, Q1.last_day)) == 0


# ------------------------------------------------------------------ the disk fills during a load

SMALL_TABLESPACE = "drill_small_disk"


@pytest.fixture
def small_disk():
    """A raw table moved onto a tablespace on a tmpfs with ``slack`` bytes free: a disk about to fill."""
    server = embedded_server()
    if os.geteuid() != 0:
        pytest.skip("mounting the small file system the drill fills needs root (CI runs as root)")
    import pwd

    # Beside the cluster's data folder, whose parents the server's system user can already traverse.
    mount_point = server.root / SMALL_TABLESPACE
    mount_point.mkdir(exist_ok=True)
    owner = pwd.getpwnam(server._os_user or pwd.getpwuid(os.getuid()).pw_name)
    mounted: list[str] = []

    def fill(table: str, slack_bytes: int) -> None:
        with db.connect(db.admin_target(), autocommit=True) as conn:
            conn.execute(f"vacuum full {table}")
            (size,) = conn.execute("select pg_total_relation_size(%s) - coalesce(pg_indexes_size(%s), 0)",
                                   (table, table)).fetchone()
        size_kb = (size + slack_bytes) // 1024 + 4
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,uid={owner.pw_uid},gid={owner.pw_gid},"
                        "mode=0700", "tmpfs", str(mount_point)], check=True)
        mounted.append(table)
        with db.connect(db.admin_target(), autocommit=True) as conn:
            conn.execute(f"create tablespace {SMALL_TABLESPACE} location '{mount_point}'")
            conn.execute(f"alter table {table} set tablespace {SMALL_TABLESPACE}")

    yield fill
    with db.connect(db.admin_target(), autocommit=True) as conn:
        for table in mounted:
            conn.execute(f"alter table {table} set tablespace pg_default")
        conn.execute(f"drop tablespace if exists {SMALL_TABLESPACE}")
    if mounted:
        subprocess.run(["umount", str(mount_point)], check=True)
    mount_point.rmdir()


def test_a_disk_that_fills_during_a_load_gives_a_clear_error_and_loses_nothing(loaded_q1, small_disk):
    table = "raw.portal__publications"
    window = (Q1.start, Q1.end)
    before = query(f"select batch_id, count(*) from {table} group by 1 order by 1")
    batches = one("select count(*) from audit.load_batches")
    rejected = one("select count(*) from audit.rejected_records")
    small_disk(table, slack_bytes=16 * 1024)

    with pytest.raises(WarehouseFull) as full:
        extract("portal", window, entities=("publications",))
    message = str(full.value)
    assert "ran out of disk space" in message and table in message and "rolled back" in message
    assert isinstance(full.value.__cause__, psycopg.errors.DiskFull)
    assert query(f"select batch_id, count(*) from {table} group by 1 order by 1") == before
    assert one("select count(*) from audit.load_batches") == batches
    assert one("select count(*) from audit.rejected_records") == rejected

    # Space is back (the table leaves the small disk): the same load goes through, nothing was lost.
    with db.connect(db.admin_target(), autocommit=True) as conn:
        conn.execute(f"alter table {table} set tablespace pg_default")
    (loaded,) = extract("portal", window, entities=("publications",))
    expected = len(api_pages(loaded_q1["portal"], "/api/v1/publications", from_date=str(Q1.start),
                             to_date=str(Q1.last_day)))
    assert loaded.row_count == expected == one(f"select count(*) from {table} where batch_id = %s",
                                               (loaded.batch_id,))
