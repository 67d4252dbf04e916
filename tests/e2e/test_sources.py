"""All six agency systems through their real interfaces into raw and staging, and every fault item 4 lists.

The quarter is loaded by the real extract DAGs (as `make run` does). Fault drills then call the
loader directly with connectors built from the same Airflow connections, so that each one takes
seconds; what a drill expects is always read from the source itself (see ``source_readers``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from loading import extract
from source_readers import api_cursor, api_pages

from egov.core import db
from egov.core.periods import parse_period
from egov.core.sources import SOURCES
from egov.ingest.errors import SchemaDriftError, SourceDataError, SourceUnavailable
from egov.orchestration.runner import run_dag
from egov.transform import dbt

pytestmark = pytest.mark.e2e

Q1 = parse_period("2019Q1")
DAY = date(2019, 3, 6)


def query(sql: str, params=()) -> list[tuple]:
    with db.connect(db.admin_target()) as conn:
        return conn.execute(sql, params).fetchall()


def one(sql: str, params=()):
    return query(sql, params)[0][0]


@pytest.fixture(scope="module", autouse=True)
def staged(loaded_q1):
    dbt.build(db.job_target("dbt"), select="staging")


# ------------------------------------------------------------------ the quarter, every system


def test_raw_holds_q1_2019_for_all_six_systems_row_for_row(loaded_q1):
    sources = loaded_q1
    start, last = str(Q1.start), str(Q1.last_day)
    expected = {
        "raw.onestop__dossier_counts": len(api_pages(sources["onestop"], "/api/v1/dossier-counts",
                                                     from_date=start, to_date=last)),
        "raw.portal__publications": len(api_pages(sources["portal"], "/api/v1/publications",
                                                  from_date=start, to_date=last)),
        "raw.ca__certificates": len(api_cursor(sources["ca"], "/api/v1/certificates", limit=1000,
                                               updated_before="2019-04-01T00:00:00+07:00")),
        "raw.mail__accounts_daily": 90 * 133,
        "raw.registers__publishing_licences": 49,
    }
    with psycopg.connect(sources["docmgmt"].reader_target().url()) as conn:
        expected["raw.docmgmt__documents"] = conn.execute(
            "select count(*) from qlvb.van_ban_lien_thong where thoi_diem_gui >= '2019-01-01 00:00+07' "
            "and thoi_diem_gui < '2019-04-01 00:00+07'").fetchone()[0]
    for table, count in expected.items():
        # Other tests load days outside the quarter into the same tables.
        in_q1 = one(f"select count(*) from {table} where record_date < %s and (record_date >= %s or %s)",
                    (Q1.end, Q1.start, table == "raw.ca__certificates"))
        assert in_q1 == count, table
    systems = {row[0] for row in query("select distinct source_system from audit.load_batches")}
    assert {source.system for source in SOURCES.values()} <= systems


def test_every_batch_accounts_for_its_raw_rows_and_its_quarantine(loaded_q1):
    for source in SOURCES.values():
        for entity in source.entities:
            table = source.raw_table(entity)
            # A batch keeps all its rows until a later batch of the same table reloads part of its window.
            mismatched = query(
                f"""
                select b.batch_id, b.row_count, count(r.batch_id) from audit.load_batches b
                left join {table} r using (batch_id)
                where b.raw_table = %s and not exists (
                    select 1 from audit.load_batches later
                    where later.raw_table = b.raw_table and later.loaded_at > b.loaded_at
                      and (b.window_start is null or (later.window_start < b.window_end
                                                      and later.window_end > b.window_start)))
                group by 1, 2 having b.row_count <> count(r.batch_id)
                """, (table,))
            assert not mismatched, table
            assert one(f"select count(*) from {table}") > 0, table


def test_vietnamese_and_khmer_text_survive_to_staging(loaded_q1):
    khmer_titles = {row["title"] for row in api_pages(loaded_q1["portal"], "/api/v1/publications",
                                                      from_date=str(Q1.start), to_date=str(Q1.last_day))
                    if row["language"] == "km"}
    staged = {row[0] for row in query("select title from staging.stg_portal__publications "
                                      "where language_code = 'km' and published_on between %s and %s",
                                      (Q1.start, Q1.last_day))}
    assert staged == khmer_titles and any("\u1780" <= ch <= "\u17ff" for ch in next(iter(staged)))
    assert one("select count(*) from staging.stg_registers__inspections where subject like 'Kiểm tra việc "
               "chấp hành%%' and inspected_on between %s and %s", (Q1.start, Q1.last_day)) == 1
    assert one("select count(*) from staging.stg_mail__accounts_daily where agency_name = 'Sở Thông tin và "
               "Truyền thông' and report_date between %s and %s", (Q1.start, Q1.last_day)) == 90


# ------------------------------------------------------------------ reruns


def staging_day_sums(day: date) -> dict[str, object]:
    """Downstream sums of one day (or its month, for the monthly registers) for every source."""
    month_end = (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {
        "onestop": one("select sum(dossier_count) from staging.stg_onestop__dossier_counts where report_date = %s",
                       (day,)),
        "docmgmt": query("select medium, count(*) from staging.stg_docmgmt__documents where sent_on = %s "
                         "group by 1 order by 1", (day,)),
        "mail": query("select sum(accounts_created), sum(accounts_total) from staging.stg_mail__accounts_daily "
                      "where report_date = %s", (day,)),
        "ca": one("select count(distinct certificate_serial) from staging.stg_ca__certificate_versions"),
        "portal": query("select event_type, count(*) from staging.stg_portal__publications where published_on = %s"
                        " group by 1 order by 1", (day,)),
        "registers": one("select count(*) from staging.stg_registers__publishing_licences "
                         "where report_month_end = %s", (month_end,)),
    }


def test_rerunning_any_source_for_a_day_leaves_downstream_sums_unchanged(loaded_q1):
    before = staging_day_sums(DAY)
    assert all(before.values()), before
    month = (DAY.replace(day=1), (DAY.replace(day=1) + timedelta(days=32)).replace(day=1))
    for key in SOURCES:
        window = month if key == "registers" else (DAY, DAY + timedelta(days=1))
        for _ in range(2):
            results = extract(key, window)
            assert all(r.rejected_count == 0 for r in results)
        assert staging_day_sums(DAY) == before, key


# ------------------------------------------------------------------ faults


@contextmanager
def faults_on(simulator) -> Iterator:
    try:
        yield simulator.faults
    finally:
        simulator.reset_faults()


def test_a_burst_of_5xx_is_retried_and_the_load_is_complete(loaded_q1):
    before = staging_day_sums(DAY)
    with faults_on(loaded_q1["ca"]) as faults:
        faults.fail_requests = 3
        extract("ca", (DAY, DAY + timedelta(days=1)), backoff_s=0.05)
        assert faults.fail_requests == 0
    with faults_on(loaded_q1["portal"]) as faults:
        faults.fail_requests = 2
        extract("portal", (DAY, DAY + timedelta(days=1)), backoff_s=0.05)
    assert staging_day_sums(DAY) == before


def test_a_source_that_times_out_fails_clearly_and_leaves_raw_as_it_was(loaded_q1):
    before, batches = staging_day_sums(DAY), one("select count(*) from audit.load_batches")
    with faults_on(loaded_q1["portal"]) as faults, pytest.raises(SourceUnavailable, match="Timeout"):
        faults.delay_s = 1.0
        extract("portal", (DAY, DAY + timedelta(days=1)), timeout_s=0.2, max_attempts=2, backoff_s=0.05)
    assert staging_day_sums(DAY) == before
    assert one("select count(*) from audit.load_batches") == batches


def test_a_page_delivered_twice_is_counted_once(loaded_q1):
    before = staging_day_sums(DAY)
    with faults_on(loaded_q1["ca"]) as faults:
        faults.repeat_page = 1
        results = extract("ca", (date(2018, 1, 1), Q1.end), entities=("certificates",), page_size=50)
        assert faults.repeat_page is None, "the fault must have fired"
    assert results[0].rejected_count == 0
    assert staging_day_sums(DAY) == before
    assert one("select count(*) from (select certificate_serial, updated_at from staging.stg_ca__certificate_versions"
               " group by 1, 2 having count(*) > 1) as repeated") == 0


def test_a_day_delivered_late_is_picked_up_by_a_later_run_through_its_lookback(loaded_q1):
    """Scheduled runs of the real DAG: the run for D misses D, the run for D+3 reloads it."""
    late_day = date(2019, 3, 12)
    expected = len(api_pages(loaded_q1["portal"], "/api/v1/publications", from_date=str(late_day),
                             to_date=str(late_day)))
    assert expected > 0
    with faults_on(loaded_q1["portal"]) as faults:
        faults.withheld_on.add(late_day)
        missed = run_dag("egov_extract_portal", str(late_day + timedelta(days=1)))
        assert missed.succeeded, missed.summary()
        assert one("select count(*) from raw.portal__publications where record_date = %s", (late_day,)) == 0
        faults.withheld_on.clear()
        caught_up = run_dag("egov_extract_portal", str(late_day + timedelta(days=4)))
    assert caught_up.succeeded, caught_up.summary()
    assert one("select count(*) from raw.portal__publications where record_date = %s", (late_day,)) == expected
    windows = query("select distinct window_start, window_end from audit.load_batches where run_id = %s "
                    "and window_start is not null", (caught_up.run_id,))
    assert windows == [(late_day + timedelta(days=3) - timedelta(days=SOURCES["portal"].lookback_days),
                        late_day + timedelta(days=4))]


def test_a_restated_past_day_replaces_the_old_figures(loaded_q1):
    day = date(2019, 2, 14)
    window = (day, day + timedelta(days=1))
    before = one("select count(*) from staging.stg_portal__publications where published_on = %s", (day,))
    with faults_on(loaded_q1["portal"]) as faults:
        faults.restated_on[day] = 3
        extract("portal", window)
        assert one("select count(*) from staging.stg_portal__publications where published_on = %s",
                   (day,)) == before + 3
    extract("portal", window)
    assert one("select count(*) from staging.stg_portal__publications where published_on = %s", (day,)) == before


def test_a_revised_file_replaces_the_original_and_a_second_copy_is_ignored(loaded_q1, tmp_path):
    from egov_demo.simulators.mail import dropbox, generator

    dataset = generator.build_dataset()
    shutil.copy(loaded_q1["landing"]["mail"] / f"hopthu_{DAY:%Y%m%d}.csv", tmp_path)
    dropbox.deliver_twice(tmp_path, DAY)
    window = (DAY, DAY + timedelta(days=1))
    (result,) = extract("mail", window, path=str(tmp_path))
    assert result.rejected_count == 0 and result.row_count == 133
    request = one("select request from audit.load_batches where batch_id = %s", (result.batch_id,))
    assert f"ignored: hopthu_{DAY:%Y%m%d} (1).csv" in request
    unit = dataset.units[0].code
    dropbox.revise_day(dataset, tmp_path, DAY, unit, extra_created=2)
    (revised,) = extract("mail", window, path=str(tmp_path))
    assert one("select request from audit.load_batches where batch_id = %s",
               (revised.batch_id,)).startswith(f"file hopthu_{DAY:%Y%m%d}_v2.csv")
    created = query("select sum(accounts_created) from staging.stg_mail__accounts_daily where report_date = %s",
                    (DAY,))[0][0]
    extract("mail", window)
    assert created == query("select sum(accounts_created) from staging.stg_mail__accounts_daily "
                            "where report_date = %s", (DAY,))[0][0] + 2


def test_malformed_rows_are_quarantined_with_their_reason_and_counted(loaded_q1, tmp_path):
    from egov_demo.simulators.mail import dropbox
    from egov_demo.simulators.registers import workbook

    shutil.copy(loaded_q1["landing"]["mail"] / f"hopthu_{DAY:%Y%m%d}.csv", tmp_path)
    dropbox.corrupt_row(tmp_path, DAY)
    (mail,) = extract("mail", (DAY, DAY + timedelta(days=1)), path=str(tmp_path))
    book = Path(shutil.copy(loaded_q1["landing"]["registers"] / "SoTTTT_BaoCao_2019_02.xlsx", tmp_path))
    workbook.corrupt_cell(book, "Thanh tra kiểm tra")
    (inspections,) = extract("registers", (date(2019, 2, 1), date(2019, 3, 1)), entities=("inspections",),
                             path=str(tmp_path))
    with faults_on(loaded_q1["portal"]) as faults:
        faults.malformed_on.add(DAY)
        portal = [r for r in extract("portal", (DAY, DAY + timedelta(days=1))) if r.raw_table.endswith("publications")]
    try:
        for result, reason in ((mail, "Số tài khoản tạo mới is not an integer: 'hai'"),
                               (inspections, "is not an integer: 'mười sáu'"),
                               (portal[0], "event_type is missing")):
            assert result.rejected_count == 1
            kept = query("select reason, payload from audit.rejected_records where batch_id = %s",
                         (result.batch_id,))
            assert len(kept) == 1 and reason in kept[0][0], kept
    finally:
        extract("mail", (DAY, DAY + timedelta(days=1)))
        extract("registers", (date(2019, 2, 1), date(2019, 3, 1)), entities=("inspections",))
        extract("portal", (DAY, DAY + timedelta(days=1)))


def test_a_missing_file_fails_loudly_and_loads_once_delivered(loaded_q1, tmp_path):
    from egov_demo.simulators.mail import dropbox, generator

    before = staging_day_sums(DAY)
    with pytest.raises(SourceUnavailable, match=rf"hopthu_{DAY:%Y%m%d}\.csv: the file has not been delivered"):
        extract("mail", (DAY, DAY + timedelta(days=1)), path=str(tmp_path))
    with pytest.raises(SourceUnavailable, match=r"SoTTTT_BaoCao_2019_03\.xlsx: the file has not been delivered"):
        extract("registers", (date(2019, 3, 1), date(2019, 4, 1)), path=str(tmp_path))
    assert staging_day_sums(DAY) == before
    dropbox.write_day(generator.build_dataset(), tmp_path, DAY)
    extract("mail", (DAY, DAY + timedelta(days=1)), path=str(tmp_path))
    assert staging_day_sums(DAY) == before


@pytest.mark.parametrize("change", ["renamed column", "dropped sheet"])
def test_a_schema_change_in_a_file_is_a_named_error_and_loads_nothing(loaded_q1, tmp_path, change):
    from egov_demo.simulators.mail import dropbox
    from egov_demo.simulators.registers import workbook

    before, batches = staging_day_sums(DAY), one("select count(*) from audit.load_batches")
    if change == "renamed column":
        shutil.copy(loaded_q1["landing"]["mail"] / f"hopthu_{DAY:%Y%m%d}.csv", tmp_path)
        dropbox.rename_column(tmp_path, DAY, "Số tài khoản tạo mới", "Tài khoản mới")
        with pytest.raises(SchemaDriftError, match=r"missing columns \['Số tài khoản tạo mới'\].*'Tài khoản mới'"):
            extract("mail", (DAY, DAY + timedelta(days=1)), path=str(tmp_path))
    else:
        book = Path(shutil.copy(loaded_q1["landing"]["registers"] / "SoTTTT_BaoCao_2019_03.xlsx", tmp_path))
        workbook.drop_sheet(book, "Mạng truyền số liệu")
        with pytest.raises(SchemaDriftError, match="no sheet 'Mạng truyền số liệu'"):
            extract("registers", (date(2019, 3, 1), date(2019, 4, 1)), entities=("data_network_agencies",),
                    path=str(tmp_path))
    assert isinstance(SchemaDriftError("x"), SourceDataError)
    assert staging_day_sums(DAY) == before
    assert one("select count(*) from audit.load_batches") == batches


def test_a_schema_change_fails_the_airflow_task_at_once_without_retries(loaded_q1):
    from egov_demo.simulators.registers import workbook

    book = loaded_q1["landing"]["registers"] / "SoTTTT_BaoCao_2019_01.xlsx"
    saved = book.read_bytes()
    workbook.drop_sheet(book, "Giấy phép xuất bản")
    try:
        outcome = run_dag("egov_extract_registers", "2019-02-01")
    finally:
        book.write_bytes(saved)
    assert outcome.tasks["extract_publishing_licences"] == "failed"
    assert outcome.tasks["extract_inspections"] == "success"
    with db.connect(db.airflow_target()) as conn:
        (tries,) = conn.execute("select try_number from task_instance where run_id = %s "
                                "and task_id = 'extract_publishing_licences'", (outcome.run_id,)).fetchone()
    assert tries == 1
