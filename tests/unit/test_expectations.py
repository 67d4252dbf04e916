"""The gate's suites as declared: one per guarded table, every layer covered, queries GX can run."""

from __future__ import annotations

import great_expectations as gx
import pytest

from egov.core.periods import parse_period
from egov.core.sources import SOURCES
from egov_expectations import SUITES
from egov_expectations.suite import LAYERS

Q1 = parse_period("2019Q1")


def test_every_layer_and_every_raw_table_has_its_suites():
    assert {suite.layer for suite in SUITES} == set(LAYERS)
    raw_tables = {source.raw_table(entity) for source in SOURCES.values() for entity in source.entities}
    assert {suite.table for suite in SUITES if suite.layer == "raw"} == raw_tables
    assert len({suite.name for suite in SUITES}) == len(SUITES), "suite names are GX names: unique"


@pytest.mark.parametrize("suite", SUITES, ids=lambda suite: suite.name)
def test_a_suite_builds_for_a_period_with_queries_gx_can_fill(suite):
    slice_query = suite.slice_query(Q1).strip()
    # GX takes a query asset only if it starts with SELECT and a space.
    assert slice_query.lower().startswith("select ")
    expectations = suite.expectations(Q1)
    assert expectations and all(isinstance(e, gx.expectations.Expectation) for e in expectations)
    for expectation in expectations:
        assert expectation.description, "a failure is reported by its description"
        assert str(getattr(expectation.severity, "value", expectation.severity)) in ("critical", "warning")
        query = getattr(expectation, "unexpected_rows_query", None)
        if query:
            # GX fills {batch} with str.format: any other brace (a regex quantifier, a JSON path) breaks it.
            filled = query.format(batch="(select 1) as b")
            assert "{" not in filled and "}" not in filled


def test_raw_suites_check_every_registry_field_and_the_key():
    from egov_expectations import raw

    source = SOURCES["mail"]
    entity = source.entities[0]
    suite = next(s for s in raw.SUITES if s.table == source.raw_table(entity))
    kinds, keys = (e.unexpected_rows_query for e in suite.expectations(Q1)[:2])
    for field in entity.fields:
        assert f"'{field}'" in kinds
    assert all(f"payload ->> '{field}'" in keys for field in entity.key)


def test_blocking_changes_are_wider_than_warnings():
    from egov_expectations.rpt_report_figures import THRESHOLDS

    for kind, limits in THRESHOLDS.items():
        assert 0 < limits["warning"] < limits["critical"], kind
