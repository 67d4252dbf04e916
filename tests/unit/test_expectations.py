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
    assert all(f"(payload ->> '{field}') as \"{field}\"" in keys for field in entity.key)


def test_blocking_changes_are_wider_than_warnings():
    from egov_expectations.rpt_report_figures import THRESHOLDS

    for kind, limits in THRESHOLDS.items():
        assert 0 < limits["warning"] < limits["critical"], kind


def test_every_staging_model_of_every_source_has_a_blocking_suite():
    from egov.core import config

    staging = config.DBT_PROJECT_DIR / "models" / "staging"
    models = {f"staging.{path.stem}" for key in SOURCES for path in (staging / key).glob("stg_*.sql")}
    suites = {suite.table: suite for suite in SUITES if suite.layer == "staging"}
    assert len(models) == 17 and models <= set(suites), sorted(models - set(suites))
    for table in models:
        for expectation in suites[table].expectations(Q1):
            assert str(getattr(expectation.severity, "value", expectation.severity)) == "critical", (
                table, expectation.description)


def _rows(database, query: str, tables: dict[str, str]) -> list[tuple]:
    """``query`` run against temporary ``tables`` (name: select), ``{batch}`` being the one named batch."""
    import psycopg

    with psycopg.connect(database.url()) as conn:
        for name, select in tables.items():
            conn.execute(f"create temporary table {name} as {select}")
        return conn.execute(query.replace("{batch}", "batch")).fetchall()


def test_unknown_codes_are_reported_per_column_with_their_list_and_nulls_are_left_alone(database):
    from egov_expectations.references import Code, Reference, unknown_codes_query

    units = Reference("the units", "select code from (values ('a'), ('b')) as units (code)")
    languages = Reference("the languages", "select code from (values ('vi')) as languages (code)")
    query = unknown_codes_query([Code("unit", "unit", units), Code("language", "language", languages),
                                 Code("parent", "parent", units, applies="checked.parent <> 'z'")])
    batch = ("select * from (values ('a', 'vi', 'b'), ('x', 'vi', null), ('x', 'en', 'z'), (null, 'fr', 'y')) "
             "as batch (unit, language, parent)")
    found = _rows(database, query, {"batch": batch})
    assert sorted(found) == [("language", "en", "the languages", 1), ("language", "fr", "the languages", 1),
                             ("parent", "y", "the units", 1), ("unit", "x", "the units", 2)]


def test_a_number_may_repeat_across_years_but_not_within_one_in_or_out_of_the_slice(database):
    from egov_expectations.references import unique_within_year

    entries = ("select * from (values ('1/GP', date '2018-03-01'), ('1/GP', date '2019-01-10'), "
               "('2/GP', date '2019-02-01'), ('2/GP', date '2019-06-01'), ('3/GP', date '2019-03-01'), "
               "('3/GP', date '2020-03-01'), ('4/GP', date '2019-07-01'), ('4/GP', date '2019-08-01')) "
               "as entries (number, issued_on)")
    batch = f"select * from entries where issued_on between '{Q1.start}' and '{Q1.last_day}'"
    query = unique_within_year("entries", ["number"], "issued_on", Q1, "once a year").unexpected_rows_query
    # 2/GP twice in 2019, once in Q1 and once in June; 4/GP repeats outside the slice only.
    assert _rows(database, query, {"entries": entries, "batch": batch}) == [("2/GP", 2019, 2)]
