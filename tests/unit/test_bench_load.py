"""The loader's fast paths give what its plain definitions give; the load benchmark's baselines write its rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from egov_demo.bench import load

from egov.core.sources import DOCMGMT, ONESTOP
from egov.ingest import loader
from egov.ingest.records import RecordChecker, rejection_reason

COUNTS = next(e for e in ONESTOP.entities if e.name == "dossier_counts")
DOCUMENTS = next(e for e in DOCMGMT.entities if e.name == "documents")
WINDOW = (date(2019, 1, 1), date(2019, 1, 3))


def counts(day="2019-01-01", **changes):
    return {"date": day, "unit_code": "29236", "procedure_code": "1.000001", "channel": "online",
            "event": "received", "count": 1, **changes}


def test_canonical_json_is_json_dumps_with_sorted_keys():
    records = [counts(), counts(unit_code='Phường 4 \\ "ខ្មែរ"\t\n'), {"b": [1.5, None, True, {"z": 0, "a": 1e300}]},
               "a string", ["a", "list"], 7]
    for record in records:
        assert loader.canonical_json(record) == json.dumps(record, sort_keys=True, ensure_ascii=False,
                                                            separators=(",", ":"))


def test_copy_text_escapes_what_copy_would_read_as_an_escape():
    payload = loader.canonical_json(counts(unit_code='a\\b\t"c"\n'))
    text = loader.copy_text(payload)
    assert "\t" not in text and "\n" not in text
    assert text.replace("\\\\", "\\") == payload


def test_the_record_checker_answers_as_rejection_reason():
    records = [counts(), counts(), counts(count="abc"), counts(count=True), counts(count=None), counts("2019-02-30"),
               counts("2019-01-05"), counts("20190102"), counts(unit_code=None), counts(unit_code=3),
               {**counts(), "_malformed": "1 more cells than the header"}, ["a", "list"], counts(day=["x"])]
    checker = RecordChecker(COUNTS, WINDOW)
    for record in records * 2:  # the second time from what the checker remembers
        assert checker.reason(record) == rejection_reason(COUNTS, record, WINDOW)
    assert checker.day(counts("20190102")) == date(2019, 1, 2)


def test_the_record_checker_reads_timestamps_as_local_days():
    checker = RecordChecker(DOCUMENTS, (date(2019, 3, 1), date(2019, 4, 1)))
    late_evening_utc = {"id_van_ban": 1, "so_van_ban": "1", "don_vi_gui": "842", "hinh_thuc": "e",
                        "loai_van_ban": "x", "thoi_diem_gui": "2019-03-31T17:30:00+00:00"}
    assert checker.reason(late_evening_utc) == rejection_reason(DOCUMENTS, late_evening_utc,
                                                                 checker.window)
    assert "outside the requested window" in checker.reason(late_evening_utc)


def test_prepared_rows_are_the_loaders_rows_as_copy_text():
    records = [counts(), counts("2019-01-02", unit_code="a\\b")]
    prepared = load.PreparedRows.of(records)
    batch_id, loaded_at = uuid.uuid4(), datetime(2019, 1, 3, tzinfo=UTC)
    lines = prepared.copy_text(batch_id, loaded_at).splitlines()
    assert lines[1].split("\t") == [str(batch_id), "2019-01-02", "1",
                                    loader.canonical_json(records[1]).replace("\\", "\\\\"), loaded_at.isoformat()]


def test_rows_of_compares_the_fastest_runs():
    rows = load.rows_of(1000, {"loader": [2.0, 1.0], "copy": [0.8, 0.9], "copy_text": [0.5], "to_sql": [4.0]})
    of_copy, of_to_sql = rows
    assert of_copy.ratio == 0.8 and of_copy.met
    assert of_to_sql.ratio == 4.0 and of_to_sql.met
    assert of_copy.details["median_rows_per_s"]["loader"] == round(1000 / 1.5)
    assert not load.rows_of(1000, {"loader": [2.0], "copy": [1.0], "copy_text": [1.0], "to_sql": [1.0]})[0].met
