"""Raw loads: validation, one-transaction replacement of a window, rejected records kept."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta

import pytest
from loading import source_of_its_own

from egov.core import db
from egov.core.sources import ONESTOP
from egov.ingest.connectors.base import Page
from egov.ingest.connectors.http import HttpApiConnector
from egov.ingest.loader import LoadResult, SnapshotShrinkRefused, extract_source, load_batch, split_window
from egov.ingest.records import rejection_reason

COUNTS = next(e for e in ONESTOP.entities if e.name == "dossier_counts")


def record(day: str, count=1, unit="842", procedure="1.000001"):
    return {"date": day, "unit_code": unit, "procedure_code": procedure, "channel": "online",
            "event": "received", "count": count}


@pytest.fixture()
def source(database):
    """The one-stop source under a raw table name of the test's own."""
    with source_of_its_own("t") as own:
        yield own


def raw_rows(source):
    with db.connect(db.admin_target()) as conn:
        return conn.execute(
            f"select record_date, payload->>'count', batch_id from {source.raw_table(COUNTS)} "
            "order by record_date, record_index"
        ).fetchall()


def test_records_that_cannot_be_loaded_say_why():
    window = (date(2019, 1, 1), date(2019, 1, 2))
    assert rejection_reason(COUNTS, record("2019-01-01"), window) is None
    assert "count is not an integer" in rejection_reason(COUNTS, record("2019-01-01", count="abc"), window)
    assert "unit_code is missing" in rejection_reason(COUNTS, {**record("2019-01-01"), "unit_code": None},
                                                      window)
    assert "outside the requested window" in rejection_reason(COUNTS, record("2019-01-05"), window)
    assert "not a valid date" in rejection_reason(COUNTS, record("2019-02-30"), window)
    assert "not an object" in rejection_reason(COUNTS, ["a", "list"], window)


def test_negative_counts_are_quarantined_at_load_by_the_registrys_range():
    window = (date(2019, 1, 1), date(2019, 1, 2))
    assert rejection_reason(COUNTS, record("2019-01-01", count=-5), window) == (
        "count is -5, not in 0..2,147,483,647 (counts and identifiers are never negative; staging reads it as "
        "integer)")
    assert rejection_reason(COUNTS, record("2019-01-01", count=0), window) is None


def test_windows_longer_than_the_source_accepts_are_split():
    chunks = split_window((date(2018, 1, 1), date(2020, 1, 1)), timedelta(days=366))
    assert chunks[0] == (date(2018, 1, 1), date(2019, 1, 2))
    assert chunks[-1][1] == date(2020, 1, 1)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    with pytest.raises(ValueError, match="empty window"):
        split_window((date(2019, 1, 2), date(2019, 1, 2)), timedelta(days=1))


def test_reloading_a_window_replaces_it_and_keeps_other_days(source):
    window = (date(2019, 1, 2), date(2019, 1, 4))
    with db.connect(db.admin_target()) as conn:
        load_batch(conn, source, COUNTS, (date(2019, 1, 1), date(2019, 1, 2)),
                   [Page("GET a", [record("2019-01-01")])])
        first = load_batch(conn, source, COUNTS, window,
                           [Page("GET b", [record("2019-01-02"), record("2019-01-03", count=2)])])
        second = load_batch(conn, source, COUNTS, window,
                            [Page("GET c", [record("2019-01-02", count=5)]),
                             Page("GET c2", [record("2019-01-03")])])
    assert (first.row_count, first.replaced_rows) == (2, 0)
    assert (second.row_count, second.replaced_rows, second.pages) == (2, 2, 2)
    rows = raw_rows(source)
    assert [(str(d), c) for d, c, _ in rows] == [
        ("2019-01-01", "1"), ("2019-01-02", "5"), ("2019-01-03", "1")]
    assert {b for _, _, b in rows[1:]} == {second.batch_id}
    with db.connect(db.admin_target()) as conn:
        audit = conn.execute(
            "select row_count, replaced_rows, pages, checksum, request from audit.load_batches "
            "where batch_id = %s", (second.batch_id,)).fetchone()
    assert audit[:3] == (2, 2, 2)
    assert audit[3] == second.checksum and len(audit[3]) == 64
    assert audit[4] == "GET c (+1 pages)"


def test_rejected_records_are_kept_and_counted_not_lost(source):
    window = (date(2019, 1, 1), date(2019, 1, 2))
    bad = {**record("2019-01-01"), "count": "abc"}
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, window, [Page("GET x", [record("2019-01-01"), bad])])
        kept = conn.execute(
            "select record_index, reason, payload->>'count' from audit.rejected_records where batch_id = %s",
            (result.batch_id,)).fetchall()
        counted = conn.execute("select rejected_count from audit.load_batches where batch_id = %s",
                               (result.batch_id,)).fetchone()
    assert (result.row_count, result.rejected_count) == (1, 1)
    assert kept == [(1, "count is not an integer: 'abc'", "abc")]
    assert counted == (1,)


def test_a_load_that_fails_inside_the_database_leaves_the_previous_rows(source):
    """The delete of the old rows and the COPY of the new ones commit together or not at all."""
    import psycopg

    window = (date(2019, 1, 1), date(2019, 1, 2))
    with db.connect(db.admin_target()) as conn:
        load_batch(conn, source, COUNTS, window, [Page("GET a", [record("2019-01-01", count=3)])])
        # Valid for the loader, refused by the table mid-COPY (the loader stores whatever it accepts, so the
        # refusal is made here: a constraint the loader knows nothing of).
        conn.execute(f"alter table {source.raw_table(COUNTS)} add constraint no_unit_843 "
                     "check (payload ->> 'unit_code' <> '843')")
        conn.commit()
        with pytest.raises(psycopg.errors.CheckViolation):
            load_batch(conn, source, COUNTS, window,
                       [Page("GET b", [record("2019-01-01", count=9), record("2019-01-01", unit="843")])])
        batches = conn.execute("select count(*) from audit.load_batches where raw_table = %s",
                               (source.raw_table(COUNTS),)).fetchone()[0]
    assert [c for _, c, _ in raw_rows(source)] == ["3"]
    assert batches == 1, "the failed batch leaves no audit row either"


def test_a_second_record_with_the_same_key_is_quarantined_not_counted_twice(source):
    window = (date(2019, 1, 1), date(2019, 1, 2))
    records = [record("2019-01-01", 3), record("2019-01-01", 3), record("2019-01-01", 4),
               record("2019-01-01", 1, unit="843")]
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, window, [Page("GET twice", records)])
        reasons = [r[0] for r in conn.execute(
            "select reason from audit.rejected_records where batch_id = %s order by record_index",
            (result.batch_id,)).fetchall()]
    assert (result.row_count, result.rejected_count) == (2, 2)
    assert reasons[0].startswith("repeats record 0") and reasons[1].startswith("conflicts with record 0")
    assert [row[1] for row in raw_rows(source)] == ["3", "1"]


def test_a_field_the_source_renamed_fails_the_load_by_name_and_loads_nothing(source):
    from egov.ingest.errors import SchemaDriftError

    window = (date(2019, 1, 1), date(2019, 1, 2))
    renamed = [{**{k: v for k, v in record("2019-01-01").items() if k != "count"}, "so_luong": 1}]
    with db.connect(db.admin_target()) as conn, \
            pytest.raises(SchemaDriftError, match=r"no record has 'count'.*so_luong"):
        load_batch(conn, source, COUNTS, window, [Page("GET renamed", renamed)])
    with db.connect(db.admin_target()) as conn:
        assert not conn.execute("select 1 from audit.load_batches where request = 'GET renamed'").fetchall()


def test_timestamps_date_a_record_by_its_local_day():
    from egov.core.sources import DOCMGMT
    from egov.ingest.records import record_day

    documents = DOCMGMT.entities[1]
    assert record_day(documents, {"thoi_diem_gui": "2019-03-31T23:30:00+07:00"}) == date(2019, 3, 31)
    assert record_day(documents, {"thoi_diem_gui": "2019-03-31T17:30:00+00:00"}) == date(2019, 4, 1)


def test_an_optional_field_renamed_everywhere_is_schema_drift_not_a_null(database):
    from egov.core.sources import CA
    from egov.ingest.errors import SchemaDriftError
    from egov.ingest.records import check_schema

    certificates = CA.entities[1]
    version = {"serial": "A1", "holder_type": "person", "holder_name": "Lê Văn A", "agency_code": "842",
               "issued_at": "2019-01-02T09:00:00+07:00", "expires_at": "2021-01-02T09:00:00+07:00",
               "updated_at": "2019-01-02T09:00:00+07:00", "revocation_time": None}
    with pytest.raises(SchemaDriftError, match="no record has 'revoked_at'"):
        check_schema(CA, certificates, [version])
    check_schema(CA, certificates, [{**version, "revoked_at": None}])


def test_a_window_with_nothing_to_read_is_an_empty_batch_not_a_crash(source):
    window = (date(2019, 1, 10), date(2019, 1, 11))
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, window, [])
    assert (result.pages, result.row_count, result.rejected_count) == (0, 0, 0)


UNITS = next(e for e in ONESTOP.entities if e.name == "units")


def unit(number: int) -> dict:
    return {"code": f"84.{number:03d}", "name": f"Xã {number}", "level": "commune", "parent_code": "84",
            "admin_unit_code": f"{number:05d}", "onboarded_on": "2018-01-01"}


def units_loaded(source) -> int:
    with db.connect(db.admin_target()) as conn:
        return conn.execute(f"select count(*) from {source.raw_table(UNITS)}").fetchone()[0]


@pytest.fixture()
def snapshot_source(source):
    yield source
    with db.connect(db.admin_target(), autocommit=True) as conn:
        conn.execute(f"drop table if exists {source.raw_table(UNITS)}")


@pytest.mark.parametrize("shrunk_to", [0, 4])
def test_a_snapshot_that_lost_more_than_half_its_rows_is_refused_and_the_previous_one_kept(snapshot_source,
                                                                                            shrunk_to):
    with db.connect(db.admin_target()) as conn:
        load_batch(conn, snapshot_source, UNITS, None, [Page("GET units", [unit(n) for n in range(10)])])
        with pytest.raises(SnapshotShrinkRefused, match=rf"with {shrunk_to} rows against 10 .* accept_shrink"):
            load_batch(conn, snapshot_source, UNITS, None, [Page("GET units", [unit(n) for n in range(shrunk_to)])])
    assert units_loaded(snapshot_source) == 10


def test_a_snapshot_that_shrinks_a_little_or_is_accepted_by_an_operator_loads(snapshot_source):
    with db.connect(db.admin_target()) as conn:
        load_batch(conn, snapshot_source, UNITS, None, [Page("GET units", [unit(n) for n in range(10)])])
        load_batch(conn, snapshot_source, UNITS, None, [Page("GET units", [unit(n) for n in range(5)])])
        assert units_loaded(snapshot_source) == 5
        accepted = load_batch(conn, snapshot_source, UNITS, None, [Page("GET units", [unit(0)])], accept_shrink=True)
    assert (accepted.row_count, accepted.replaced_rows) == (1, 5)
    assert units_loaded(snapshot_source) == 1


DAY = date(2019, 3, 6)


def waiting_for_a_lock(pid: int) -> bool:
    with db.connect(db.admin_target()) as conn:
        return conn.execute("select exists (select from pg_locks where pid = %s and locktype = 'advisory' "
                            "and not granted)", (pid,)).fetchone()[0]


def test_of_two_runs_of_one_window_the_one_that_read_the_source_last_commits_last(source, simulator, dataset):
    """Run 1 reads the day, the source then revises it, and run 2 starts while run 1 is still busy (a delay
    injected after run 1's fetch). Run 1 goes on once run 2 has either finished (a loader that reads before it
    locks) or is waiting for the table's lock (one that locks first). Either way, the rows that stay must be
    the revision that run 2 read."""
    window = (DAY, DAY + timedelta(days=1))
    http = HttpApiConnector(simulator.base_url, simulator.token, backoff_s=0.01, max_attempts=2)
    second_pid: list[int] = []
    second_done = threading.Event()
    first_read_at_least_once = threading.Event()

    class DelayedAfterItsFetch:
        def pages(self, entity, chunk):
            read = list(http.pages(entity, chunk))
            simulator.faults.restated_on[DAY] = 100
            first_read_at_least_once.set()
            deadline = time.monotonic() + 30
            while not (second_done.is_set() or (second_pid and waiting_for_a_lock(second_pid[0]))):
                assert time.monotonic() < deadline, "run 2 neither finished nor waited for the lock"
                time.sleep(0.02)
            yield from read

    def run(connector, pid: list[int] | None = None) -> LoadResult:
        with db.connect(db.admin_target()) as conn:
            if pid is not None:
                pid.append(conn.info.backend_pid)
            return extract_source(conn, replace(source, entities=(COUNTS,)), connector, window)[0]

    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(run, DelayedAfterItsFetch())
            assert first_read_at_least_once.wait(30)
            second = pool.submit(run, http, second_pid)
            second.add_done_callback(lambda _: second_done.set())
            first_result, second_result = first.result(timeout=60), second.result(timeout=60)
    finally:
        simulator.faults.restated_on.pop(DAY, None)
    served = dataset.dossier_counts(DAY, DAY)
    revised = sum(row["count"] for row in served) + 100
    assert sum(int(count) for _, count, _ in raw_rows(source)) == revised
    assert {batch for _, _, batch in raw_rows(source)} == {second_result.batch_id}
    with db.connect(db.admin_target()) as conn:
        order = [row[0] for row in conn.execute("select batch_id from audit.load_batches where raw_table = %s "
                                                "order by loaded_at", (source.raw_table(COUNTS),))]
    assert order == [first_result.batch_id, second_result.batch_id]
    assert second_result.replaced_rows == first_result.row_count == len(served)
