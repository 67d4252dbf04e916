"""No unknown code and no repeated business key reaches a figure, from any source.

Into each source's raw tables go records as its loader would have stored them (a copy of one of the source's own
records, changed): one whose agency code no reference list knows, one that repeats a business key the source's
numbering rules forbid to repeat, and for some sources another unknown code. Each must fail a dbt test on the
staging model and block the gate with a failure that names the check and the code or key at fault; without them,
the same data passes both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest

from egov.core import db
from egov.core.periods import parse_period
from egov.core.sources import SOURCES
from egov.quality import gate
from egov.transform import dbt

pytestmark = pytest.mark.e2e

Q1 = parse_period("2019Q1")
DAY = date(2019, 2, 14)
UNKNOWN = "XX.UNKNOWN"
#: The record_index of every record put in by these tests (the loader numbers from 0), so they can be taken out.
FIRST_FAULT_INDEX = -9000


@dataclass(frozen=True)
class Fault:
    """A copy of the first record of ``raw_table`` meeting ``copied``, its payload's ``changes`` (field: SQL
    expression over the copied row) applied, dated ``record_date`` (an SQL expression) if given."""

    raw_table: str
    copied: str
    changes: dict[str, str]
    #: The dbt test that must fail: (staging model, column or None for a model-level test, generic test).
    dbt_test: tuple[str, str | None, str]
    #: The gate check that must block: (suite, description).
    gate_check: tuple[str, str]
    #: What the gate's failure must name: the code, or the repeated key.
    named: str
    record_date: str | None = None


def next_id(raw_table: str, field: str) -> str:
    return f"(select max((payload ->> '{field}')::bigint) + 1 from {raw_table})"


IN_Q1 = f"record_date between '{Q1.start}' and '{Q1.last_day}'"
FAULTS: dict[str, list[Fault]] = {
    "onestop": [
        Fault("raw.onestop__daily_closes", f"record_date = '{DAY}'", {"unit_code": f"'{UNKNOWN}'"},
              ("stg_onestop__daily_closes", "agency_code", "relationships"),
              ("stg_onestop__daily_closes", "every daily close's unit is in the one-stop system's unit list"),
              f"code={UNKNOWN}"),
        # The same unit closing the same day twice.
        Fault("raw.onestop__daily_closes", f"record_date = '{DAY}'", {},
              ("stg_onestop__daily_closes", None, "unique_combination"),
              ("stg_onestop__daily_closes", "one daily close per unit and day"), f"report_date={DAY}"),
    ],
    "docmgmt": [
        Fault("raw.docmgmt__documents", f"record_date = '{DAY}'",
              {"don_vi_gui": f"'{UNKNOWN}'", "id_van_ban": next_id("raw.docmgmt__documents", "id_van_ban")},
              ("stg_docmgmt__documents", "sender_agency_code", "relationships"),
              ("stg_docmgmt__documents", "every document's sender agency is in the agency dimension"),
              f"code={UNKNOWN}"),
        # A new document (its own id, a week later) under a number its sender already gave this year.
        Fault("raw.docmgmt__documents", f"record_date = '{DAY}'",
              {"id_van_ban": next_id("raw.docmgmt__documents", "id_van_ban"),
               "thoi_diem_gui": "(payload ->> 'thoi_diem_gui')::timestamptz + interval '7 days'"},
              ("stg_docmgmt__documents", None, "unique_within_year"),
              ("stg_docmgmt__documents", "no sender gives one document number twice in a year"),
              "numbering_year=2019, records=2", record_date="record_date + 7"),
        # A medium the source has no word for: staging leaves it null, and the document out of every count.
        Fault("raw.docmgmt__documents", f"record_date = '{DAY}'",
              {"hinh_thuc": "'fax'", "so_van_ban": "'1/FAX'",
               "id_van_ban": next_id("raw.docmgmt__documents", "id_van_ban")},
              ("stg_docmgmt__documents", "medium", "not_null"),
              ("stg_docmgmt__documents", "every document's medium is electronic (dien_tu) or paper (giay)"),
              f"sent_on={DAY}"),
    ],
    "mail": [
        Fault("raw.mail__accounts_daily", f"record_date = '{DAY}'", {"Mã đơn vị": f"'{UNKNOWN}'"},
              ("stg_mail__accounts_daily", "agency_code", "relationships"),
              ("stg_mail__accounts_daily", "every export line's agency is in the agency dimension"),
              f"code={UNKNOWN}"),
        Fault("raw.mail__accounts_daily", f"record_date = '{DAY}'", {},
              ("stg_mail__accounts_daily", None, "unique_combination"),
              ("stg_mail__accounts_daily", "one export line per agency and day"), f"report_date={DAY}"),
    ],
    "ca": [
        Fault("raw.ca__certificates", IN_Q1, {"agency_code": f"'{UNKNOWN}'", "serial": "'FFFF0000FFFF0000'"},
              ("stg_ca__certificate_versions", "agency_code", "relationships"),
              ("stg_ca__certificate_versions", "every certificate's agency is in the CA's agency list"),
              f"code={UNKNOWN}"),
        Fault("raw.ca__agencies", "true", {},
              ("stg_ca__agencies", "agency_code", "unique"),
              ("stg_ca__agencies", "one agency per code in the CA's agency list"), "records=2"),
    ],
    "portal": [
        Fault("raw.portal__sites", "payload ->> 'agency_code' is not null",
              {"site_code": "'unknown-agency-site'", "agency_code": f"'{UNKNOWN}'"},
              ("stg_portal__sites", "agency_code", "relationships"),
              ("stg_portal__sites", "every site's agency is in the agency dimension"), f"code={UNKNOWN}"),
        Fault("raw.portal__sites", "payload ->> 'agency_code' is not null", {},
              ("stg_portal__sites", "site_code", "unique"),
              ("stg_portal__sites", "one site per site code"), "records=2"),
        Fault("raw.portal__publications", f"record_date = '{DAY}'",
              {"language": "'fr'", "event_id": next_id("raw.portal__publications", "event_id")},
              ("stg_portal__publications", "language_code", "relationships"),
              ("stg_portal__publications", "every publication's language is in the portal's language list; its "
                                           "event type is in the event types the report counts"), "code=fr"),
    ],
    "registers": [
        Fault("raw.registers__data_network_agencies", "record_date = '2019-01-31'", {"Mã cơ quan": "'X99'"},
              ("stg_registers__data_network_agencies", "agency_code", "relationships_where"),
              ("stg_registers__data_network_agencies", "every data-network agency is in the one-stop system's "
                                                       "unit list or is a provincial body coded 84.<abbreviation>"),
              "code=X99"),
        # January's first licence number given again in February: a new date, so raw's key (number, date) lets
        # it through; the department's rule (once a year) does not.
        Fault("raw.registers__publishing_licences", "record_date = '2019-01-31'",
              {"Ngày cấp": "'2019-02-20'", "Tháng báo cáo": "'2019-02-28'"},
              ("stg_registers__publishing_licences", None, "unique_within_year"),
              ("stg_registers__publishing_licences",
               "no licence number is given twice in a year (numbers restart every January)"),
              "numbering_year=2019, records=2", record_date="'2019-02-28'"),
        Fault("raw.registers__game_point_certificates", IN_Q1,
              {"Huyện, thị xã, thành phố": "'Huyện Không Có'", "Số giấy chứng nhận": "'999/GCN-STTTT'"},
              ("stg_registers__game_point_certificates", "district_name", "relationships_where"),
              ("stg_registers__game_point_certificates",
               "every game-point certificate's district is in the districts' official names"), "code=Huyện Không Có"),
    ],
}


def put_in(conn, fault: Fault, record_index: int) -> None:
    changes = ", ".join(f"'{field}', {expression}" for field, expression in fault.changes.items())
    changed = f"payload || jsonb_build_object({changes})" if changes else "payload"
    inserted = conn.execute(
        f"insert into {fault.raw_table} (batch_id, record_date, record_index, payload, loaded_at) "
        f"select batch_id, {fault.record_date or 'record_date'}, %s, {changed}, loaded_at from {fault.raw_table} "
        f"where {fault.copied} and record_index >= 0 order by record_date, record_index limit 1", (record_index,))
    assert inserted.rowcount == 1, fault


def take_out(conn) -> None:
    for table in sorted({fault.raw_table for faults in FAULTS.values() for fault in faults}):
        conn.execute(f"delete from {table} where record_index <= %s", (FIRST_FAULT_INDEX,))


def failed_dbt_tests() -> set[tuple[str, str | None, str]]:
    """The staging tests that failed, as (model, column, generic test), read from the run's artifacts."""
    target = dbt.target_dir()
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    failed = [nodes[result["unique_id"]] for result in results if result["status"] == "fail"]
    return {(node["attached_node"].split(".")[-1], node.get("column_name"), node["test_metadata"]["name"])
            for node in failed if node.get("test_metadata")}


@dataclass(frozen=True)
class Caught:
    clean_build: dbt.DbtResult
    clean_gate: gate.GateResult
    dbt_error: dbt.DbtError
    failed_tests: set[tuple[str, str | None, str]]
    gate: gate.GateResult


@pytest.fixture(scope="module")
def caught(loaded_q1) -> Caught:
    """One dbt build and gate run on the clean data, then one dbt test and one gate run with every fault in."""
    clean_build = dbt.build(db.job_target("dbt"))
    clean_gate, _ = gate.validate(Q1, db.job_target("gate"))
    with db.connect(db.admin_target()) as conn:
        for index, fault in enumerate(fault for faults in FAULTS.values() for fault in faults):
            put_in(conn, fault, FIRST_FAULT_INDEX - index)
    try:
        # Staging models are views over raw: the faults reach them, and the gate, without a build.
        with pytest.raises(dbt.DbtError) as failed:
            dbt.run_dbt(["test", "--select", "staging"], db.job_target("dbt"))
        failed_tests = failed_dbt_tests()
        outcome, _ = gate.validate(Q1, db.job_target("gate"))
    finally:
        with db.connect(db.admin_target()) as conn:
            take_out(conn)
    return Caught(clean_build, clean_gate, failed.value, failed_tests, outcome)


def test_the_clean_sources_pass_every_dbt_test_and_the_gate(caught):
    assert "fail" not in caught.clean_build.statuses and "error" not in caught.clean_build.statuses
    staging_tests = [node for node in caught.clean_build.nodes if node.startswith("test.") and "_stg_" in node]
    assert len(staging_tests) > 50
    assert caught.clean_gate.success, caught.clean_gate.explain()


def test_every_source_has_its_faults():
    assert set(FAULTS) == set(SOURCES)


@pytest.mark.parametrize("source", sorted(FAULTS))
def test_an_unknown_code_or_a_repeated_key_fails_dbt_and_blocks_the_gate_naming_the_check(caught, source):
    # A failed data test, not an error: the task fails at once rather than retrying.
    assert caught.dbt_error.data_failure
    blocking = {(failure.suite, failure.description): failure.observed for failure in caught.gate.blocking}
    assert not caught.gate.success
    for fault in FAULTS[source]:
        assert fault.dbt_test in caught.failed_tests, (fault.dbt_test, sorted(caught.failed_tests))
        assert fault.gate_check in blocking, (fault.gate_check, caught.gate.explain())
        assert fault.named in blocking[fault.gate_check], blocking[fault.gate_check]
