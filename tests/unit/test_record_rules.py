"""The registry's record rules (egov.core.fields) as the loader applies them and as the raw suites write them in SQL:
each rule's verdicts, the two readings agreeing value by value in PostgreSQL, and the loader quarantining what
breaks them (what PostgreSQL cannot store included) while the rest of the batch loads."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal

import pytest
from loading import source_of_its_own

from egov.core import db
from egov.core.fields import KINDS, FieldRule
from egov.core.sources import CA, DOCMGMT, MAIL, ONESTOP
from egov.core.values import json_value
from egov.ingest.connectors.base import Page
from egov.ingest.connectors.files import CsvDropConnector
from egov.ingest.errors import SchemaDriftError
from egov.ingest.loader import load_batch
from egov.ingest.payloads import escaped_json, unstorable
from egov.ingest.records import record_key, rejection_reason

COUNTS = next(e for e in ONESTOP.entities if e.name == "dossier_counts")
DAY = (date(2019, 1, 1), date(2019, 1, 2))

# (kind, value, accepted): the edges of each rule. Python's reading and PostgreSQL's must agree on every one.
VERDICTS = [
    ("int", 0, True), ("int", 2**31 - 1, True), ("int", 2**31, False), ("int", -1, False), ("int", 1.0, False),
    ("int", True, False), ("int", "7", False), ("int", 10**30, False),
    ("smallint", 32767, True), ("smallint", 32768, False),
    ("bigint", 2**63 - 1, True), ("bigint", 2**63, False), ("bigint", -5, False),
    ("text", "", True), ("text", "Phường 4", True), ("text", "x" * 1000, True), ("text", "x" * 1001, False),
    ("text", 5, False), ("text", ["a"], False),
    ("bool", True, True), ("bool", "true", False), ("bool", 1, False),
    ("date", "2019-01-03", True), ("date", "20190103", False), ("date", "2019-W01-4", False),
    ("date", "2019-02-30", False), ("date", "1899-12-31", False), ("date", "2200-01-01", False),
    ("date", "9999-12-31", False), ("date", "2019-01-03T00:00", False), ("date", " 2019-01-03", False),
    ("date", "２０１９-01-03", False),
    ("timestamp", "2019-01-03T09:30:00+07:00", True), ("timestamp", "2019-01-03 09:30", True),
    ("timestamp", "2019-01-03T09:30:00.123456Z", True), ("timestamp", "2019-01-03T09:30:00+0700", True),
    ("timestamp", "2019-01-03", False), ("timestamp", "20190103T093000", False),
    ("timestamp", "2019-01-03T09:30:00.1234567", False), ("timestamp", "2019-01-03T24:00", False),
    ("timestamp", "2019-01-03T09:30:00+16:00", False), ("timestamp", "9999-12-31T23:59:59-14:00", False),
    ("timestamp", "0001-01-01T00:00:00+14:00", False), ("timestamp", "2019-02-29T10:00", False),
]


@pytest.mark.parametrize(("kind", "value", "accepted"), VERDICTS, ids=lambda v: repr(v)[:40])
def test_each_kind_accepts_exactly_its_values(kind, value, accepted):
    problem = KINDS[kind].problem(value)
    assert (problem is None) is accepted, problem


def test_the_raw_suites_sql_reading_of_each_rule_agrees_with_the_loaders_value_by_value(database):
    """The GX raw suites' conditions (FieldKind.sql_condition) against the loader's verdicts, in PostgreSQL."""
    with db.connect(db.job_target("gate")) as conn:  # the role that runs the raw suites
        for kind, value, accepted in VERDICTS:
            for optional in (False, True):
                rule = FieldRule.of("v", kind + ("?" if optional else ""))
                condition = rule.sql_condition("payload -> 'v'", "(payload ->> 'v')")
                (in_sql,) = conn.execute(f"select coalesce(({condition}), false) from (select %s::jsonb as payload) p",
                                         (json.dumps({"v": value}),)).fetchone()
                assert in_sql is accepted, f"{kind}{'?' if optional else ''} {value!r}: SQL says {in_sql}"
        for declared, accepted in (("int", False), ("int?", True), ("timestamp?", True)):
            condition = FieldRule.of("v", declared).sql_condition("payload -> 'v'", "(payload ->> 'v')")
            (absent,) = conn.execute(f"select coalesce(({condition}), false) from (select '{{}}'::jsonb as payload) p"
                                     ).fetchone()
            assert absent is accepted, f"an absent {declared}"


def record(**changes) -> dict:
    return {"date": "2019-01-01", "unit_code": "842", "procedure_code": "1.000001", "channel": "online",
            "event": "received", "count": 1, **changes}


@pytest.mark.parametrize(("changes", "reason"), [
    ({"count": float("nan")}, "count is not an integer: nan"),
    ({"count": -float("inf")}, "count is not an integer: -inf"),
    ({"unit_code": "84\x002"}, "unit_code holds U+0000, which PostgreSQL cannot store"),
    ({"unit_code": "84\ud8002"}, "unit_code holds U+D800, which PostgreSQL cannot store"),
    ({"date": "20190101"}, "date is not a date in the ISO form YYYY-MM-DD: '20190101'"),
    ({"unit_code": "8" * 100_000}, "unit_code is 100,000 characters long, more than the 1,000 allowed"),
    ({"_file": "x.csv"}, "field '_file' is not the source's to send"),
    ({"_malformed": "trust me"}, "field '_malformed' is not the source's to send"),
    ({"_anything": 1}, "field '_anything' is not the source's to send"),
    ({"note": float("nan")}, "field 'note' is nan, a number JSON and jsonb do not have"),
    ({"note": {"deep": ["\x00"]}}, "field 'note.deep[0]' holds U+0000"),
    ({"\x00": 1}, "the field name '\\x00' holds a character PostgreSQL cannot store"),
])
def test_a_record_that_breaks_a_rule_is_refused_with_a_printable_reason_naming_the_field(changes, reason):
    found = rejection_reason(COUNTS, record(**changes), DAY)
    assert found is not None and found.startswith(reason), found
    assert found.isprintable() and len(found) < 400


def test_a_timestamp_field_refuses_a_day_alone_and_a_moment_out_of_range():
    certificates = CA.entities[1]
    version = {"serial": "A1", "holder_type": "person", "holder_name": "Lê Văn A", "agency_code": "842",
               "issued_at": "2019-01-02", "expires_at": "2021-01-02T09:00:00+07:00",
               "updated_at": "2019-01-02T09:00:00+07:00", "revoked_at": "9999-12-31T23:59:59-14:00"}
    reason = rejection_reason(certificates, version, None)
    assert reason == ("issued_at is a day without a time of day where a timestamp is expected: '2019-01-02'; "
                      "revoked_at is '9999-12-31T23:59:59-14:00', outside the days 1900-01-01..2199-12-31 a record "
                      "can be about")


def test_only_a_file_connector_adds_where_a_record_came_from():
    accounts = MAIL.entities[0]
    row = {"Ngày": "2019-03-06", "Mã đơn vị": "842", "Tên đơn vị": "Sở", "Số tài khoản tạo mới": 1,
           "Số tài khoản đóng": 0, "Tổng số tài khoản": 5, "_file": "hopthu_20190306.csv", "_line": 2}
    assert rejection_reason(accounts, row, (date(2019, 3, 6), date(2019, 3, 7))) is None
    assert rejection_reason(accounts, {**row, "_line": -2}, None).startswith("_line is -2, not in 0..")
    assert rejection_reason(accounts, {**row, "_row": 2}, None).startswith("field '_row' is not the source's")
    assert rejection_reason(DOCMGMT.entities[0], {"_line": 1}, None).startswith("id_nguoi_dung is missing")


def test_a_csv_export_with_a_column_the_connector_reserves_is_refused_by_name(tmp_path):
    header = "Ngày,Mã đơn vị,Tên đơn vị,Số tài khoản tạo mới,Số tài khoản đóng,Tổng số tài khoản,_line"
    lines = [header, "06/03/2019,842,Sở,1,0,50,7", "06/03/2019,,Tổng cộng,1,0,50,"]
    (tmp_path / "hopthu_20190306.csv").write_text("\r\n".join(lines), encoding="utf-8")
    with pytest.raises(SchemaDriftError, match=r"columns \['_line'\] start with '_'"):
        list(CsvDropConnector(tmp_path).pages(MAIL.entities[0], (date(2019, 3, 6), date(2019, 3, 7))))


def test_escaped_json_keeps_what_postgresql_cannot_store_as_readable_strings():
    value = {"b": [float("nan"), float("-inf"), "a\x00b", "\udc80", 10**5000, date(2019, 1, 3)], "a": 1.5}
    assert unstorable(value) is not None
    kept = json.loads(escaped_json(value))
    assert kept["a"] == 1.5
    assert kept["b"][:4] == ["nan", "-inf", "a\\x00b", "\\udc80"]
    assert kept["b"][4] == hex(10**5000) and kept["b"][5] == "datetime.date(2019, 1, 3)"
    deep: list = []
    for _ in range(3000):
        deep = [deep]
    assert unstorable({"x": deep}).endswith("nests more than 64 levels deep")
    assert json.loads(escaped_json({"x": deep}))  # flat enough for any JSON reader past level 64


def test_a_key_made_of_lists_is_still_a_key():
    assert record_key(COUNTS, record(unit_code=["8", "4"])) != record_key(COUNTS, record(unit_code="['8', '4']"))
    assert hash(record_key(COUNTS, record(channel={"a": [1]})))


def test_a_database_numeric_that_is_not_a_number_reaches_the_loader_as_one():
    assert math.isnan(json_value(Decimal("NaN")))
    assert json_value(Decimal("-Infinity")) == -math.inf
    assert json_value(Decimal("38751.000000")) == 38751


@pytest.fixture()
def source(database):
    """The one-stop source under raw tables of the test's own."""
    with source_of_its_own("r") as own:
        yield own


def test_records_postgresql_cannot_store_are_quarantined_escaped_and_the_rest_of_the_batch_loads(source):
    unstorable_records = [record(count=float("nan"), unit_code="a"), record(count=float("inf"), unit_code="b"),
                          record(unit_code="c\x00"), record(unit_code="d\ud800"),
                          record(unit_code="e", extra=[-math.inf]), record(unit_code="f", **{"\udfff": 1})]
    good = [record(unit_code=str(n)) for n in range(3)]
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, DAY, [Page("GET poison", [good[0], *unstorable_records]),
                                                        Page("GET rest", good[1:])])
        kept = conn.execute("select record_index, reason, payload from audit.rejected_records where batch_id = %s "
                            "order by record_index", (result.batch_id,)).fetchall()
        loaded = conn.execute(f"select payload ->> 'unit_code' from {source.raw_table(COUNTS)} order by record_index"
                              ).fetchall()
    assert (result.row_count, result.rejected_count) == (3, 6)
    assert [row[0] for row in loaded] == ["0", "1", "2"]
    assert [index for index, _, _ in kept] == [1, 2, 3, 4, 5, 6]
    assert all(reason.endswith("(kept escaped: PostgreSQL cannot store the record as sent)") for _, reason, _ in kept)
    assert [payload.get("count") for _, _, payload in kept[:2]] == ["nan", "inf"]
    assert kept[2][2]["unit_code"] == "c\\x00" and kept[3][2]["unit_code"] == "d\\ud800"
    assert kept[5][2]["\\udfff"] == 1


def test_a_batch_of_only_refused_records_is_a_batch_not_an_error(source):
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, DAY, [Page("GET bad", [record(count=-1), record(date="2019-1-1")])])
    assert (result.row_count, result.rejected_count) == (0, 2)


def test_the_loaders_escaped_payload_is_stored_even_where_copy_would_read_an_escape(source):
    with db.connect(db.admin_target()) as conn:
        result = load_batch(conn, source, COUNTS, DAY, [Page("GET", [record(), record(unit_code="\\\x00\\N")])])
        (payload,) = conn.execute("select payload from audit.rejected_records where batch_id = %s",
                                  (result.batch_id,)).fetchone()
    assert payload["unit_code"] == "\\\\x00\\N"
