"""The national benchmark's nation and dossiers, and how the queries benchmark judges its latencies."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from egov_demo.bench import national, queries

from egov.core.sources import ONESTOP
from egov.ingest.records import rejection_reason

ENTITIES = {entity.name: entity for entity in ONESTOP.entities}
UNITS, DAYS = 250, 21  # more than two replicas of the province's 106 communes


@pytest.fixture(scope="module")
def generated():
    return national.generate(UNITS, DAYS)


def test_the_nation_replicates_the_provinces_communes_under_new_codes(generated):
    nation = generated.nation
    assert len(nation.unit_rows) == UNITS == len(set(nation.codes)) == len(nation.weights)
    assert all(row["level"] == "commune" and row["admin_unit_code"] == row["code"] for row in nation.unit_rows)
    levels = Counter(row[4] for row in nation.admin_unit_rows)
    assert levels == {"province": 3, "district": 27, "commune": UNITS}
    admin_codes = {row[0] for row in nation.admin_unit_rows}
    assert all(row[1] is None or row[1] in admin_codes for row in nation.admin_unit_rows)
    assert {row["parent_code"] for row in nation.unit_rows} <= admin_codes
    assert nation.codes[106] == national.replica_code(1, nation.codes[0].split(".")[1])


def test_generated_records_are_what_the_loader_accepts(generated):
    window = (national.FIRST_DAY, national.FIRST_DAY + timedelta(days=DAYS))
    for name in ("dossier_counts", "daily_closes"):
        records = generated.records(name, window)
        assert records
        assert not [r for r in records[:2000] if rejection_reason(ENTITIES[name], r, window) is not None]
    units = generated.nation.unit_rows
    assert all(rejection_reason(ENTITIES["units"], row, None) is None for row in units)


def test_every_unit_closes_every_day_with_the_dossiers_it_counted(generated):
    window = (national.FIRST_DAY, national.FIRST_DAY + timedelta(days=DAYS))
    closes = generated.records("daily_closes", window)
    assert len(closes) == UNITS * DAYS
    received = Counter()
    for row in generated.records("dossier_counts", window):
        if row["event"] == "received":
            received[row["date"], row["unit_code"]] += row["count"]
    assert sum(received.values()) == generated.dossiers > 0
    assert all(close["received"] == received[close["date"], close["unit_code"]] for close in closes)
    assert all(close["pending_end_of_day"] >= 0 for close in closes)


def test_the_same_seed_gives_the_same_nation():
    first, second = national.generate(120, 7), national.generate(120, 7)
    day = (national.FIRST_DAY, national.FIRST_DAY + timedelta(days=7))
    assert first.records("dossier_counts", day) == second.records("dossier_counts", day)


def test_p95_and_the_rows_of_the_queries_benchmark():
    timings = [float(value) for value in range(1, 101)]
    assert queries.p95(timings) == pytest.approx(95.05)
    indexed = {"scans": [{"node": "Index Scan", "table": "rpt_indicator_period", "index": "idx", "rows": 1}]}
    scanned = {"scans": [{"node": "Seq Scan", "table": "rpt_indicator_period", "index": None, "rows": 1}]}
    assert queries.uses_index(indexed, "rpt_indicator_period")
    assert not queries.uses_index(scanned, "rpt_indicator_period")
    lookup = next(query for query in queries.QUERIES if query.lookup)
    assert queries.row_of(lookup, [0.5] * 10, indexed, 100).met
    assert not queries.row_of(lookup, [1.5] * 10, indexed, 100).met
    other = next(query for query in queries.QUERIES if not query.lookup)
    assert queries.row_of(other, [5.0] * 95 + [25.0] * 5, scanned, 100).met
    assert not queries.row_of(other, [5.0] * 90 + [25.0] * 10, scanned, 100).met
