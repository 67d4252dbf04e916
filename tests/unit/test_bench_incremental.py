"""``egov bench``'s incremental benchmark: it loads what the sources serve and runs the DAGs' windows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
from egov_demo.bench import incremental

from egov.core.sources import DOCMGMT, ONESTOP
from egov.ingest.connectors.http import HttpApiConnector
from egov.orchestration.tasks import extract_window
from egov.transform import dbt


def test_a_timed_day_is_the_extract_dags_data_interval_with_its_lookback():
    day = date(2020, 12, 29)
    for source in (ONESTOP, DOCMGMT):
        window = extract_window(incremental._interval(day), source.lookback_days)
        assert window == (day - timedelta(days=source.lookback_days), day + timedelta(days=1))


def test_history_read_in_process_is_what_the_one_stop_api_serves(dataset, simulator):
    api = HttpApiConnector(simulator.base_url, simulator.token, page_size=700)
    in_process = incremental.OneStopDatasetConnector(dataset)
    window = (date(2019, 3, 28), date(2019, 4, 2))
    for entity in ONESTOP.entities:
        entity_window = window if entity.windowed else None
        served = [record for page in api.pages(entity, entity_window) for record in page.records]
        read = [record for page in in_process.pages(entity, entity_window) for record in page.records]
        assert served and read == served, entity.name


def _run(day: date, **seconds: float) -> incremental.DailyRun:
    return incremental.DailyRun(day, seconds=dict(seconds))


def test_the_ratio_is_of_the_median_daily_totals_and_judged_against_its_target():
    days = [date(2020, 12, 30), date(2020, 12, 31), date(2021, 1, 1)]
    one_year = [_run(day, extract=1, dbt=10, gate=4) for day in days]
    three_years = [_run(days[0], extract=1, dbt=30, gate=4), _run(days[1], extract=1, dbt=12, gate=4),
                   _run(days[2], extract=1, dbt=13, gate=4)]
    rows = incremental.rows_of({1: one_year, 3: three_years}, setup={})
    total = rows[-1]
    assert total.ratio == 18 / 15 and total.met
    assert [row.measured.split(":")[0] for row in rows[:-1]] == list(incremental.PHASES)
    assert rows[1].ratio == 13 / 10
    slower = [_run(day, extract=1, dbt=20, gate=4) for day in days]
    assert not incremental.rows_of({1: one_year, 3: slower}, setup={})[-1].met


def test_a_daily_build_reconciles_lineage_from_the_first_day_loaded_since_the_previous_build(database):
    since = datetime(2100, 1, 1, tzinfo=UTC)
    batches = [  # (window, loaded_at): one before the previous build, two after it, and a snapshot after it
        ((date(2019, 1, 1), date(2019, 1, 9)), since - timedelta(hours=1)),
        ((date(2019, 3, 5), date(2019, 3, 13)), since + timedelta(hours=1)),
        ((date(2019, 2, 20), date(2019, 2, 21)), since + timedelta(hours=2)),
        ((None, None), since + timedelta(hours=3)),
    ]
    with psycopg.connect(database.url()) as conn:
        for (start, end), loaded_at in batches:
            conn.execute(
                "insert into audit.load_batches (batch_id, source_system, entity, raw_table, window_start, window_end,"
                " request, pages, row_count, rejected_count, checksum, replaced_rows, loaded_at)"
                " values (%s, 'bench_test', 'entity', 'raw.bench_test', %s, %s, 'test', 0, 0, 0, '', 0, %s)",
                (uuid.uuid4(), start, end, loaded_at))
        assert dbt.lineage_scope_env(conn, since) == {dbt.LINEAGE_DAYS_FROM: "2019-02-20"}
        assert dbt.lineage_scope_env(conn, since + timedelta(days=1)) == {}, "nothing loaded since: all history"
        assert dbt.lineage_scope_env(conn, None) == {}, "no previous build: all history"
        conn.rollback()
