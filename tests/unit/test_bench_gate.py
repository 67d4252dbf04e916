"""``egov bench``'s gate benchmark: the SQL side checks what each GX expectation checks."""

from __future__ import annotations

import great_expectations as gx
import psycopg
import pytest
from egov_demo.bench import BenchError
from egov_demo.bench import gate as bench_gate

from egov.core.periods import parse_period
from egov_expectations import SUITES

BATCH = """
    select * from (values
        (1, 'a', 1, 2, 2), (-1, 'c', 1, 2, 1), (null, null, null, null, null),
        (2, 'a', 1, 3, 2), (2, 'b', null, null, null)
    ) as batch (n, code, a, b, later)
"""

#: Each kind of expectation the suites use, on BATCH, and how many rows GX's semantics find unexpected there.
CASES = [
    (gx.expectations.ExpectColumnValuesToBeBetween(column="n", min_value=0), 1),
    (gx.expectations.ExpectColumnValuesToBeBetween(column="n", min_value=-1, max_value=1), 2),
    (gx.expectations.ExpectColumnValuesToNotBeNull(column="code"), 1),
    (gx.expectations.ExpectColumnValuesToBeInSet(column="code", value_set=["a", "b"]), 1),
    (gx.expectations.ExpectColumnValuesToBeUnique(column="n"), 2),
    # Rows whose key is all null are skipped; (1, 2) appears twice.
    (gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"]), 2),
    # 2 > 2 fails; a row with one value missing is skipped.
    (gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="later", column_B="n", or_equal=False, ignore_row_if="either_value_is_missing"), 1),
    # 2 >= 2 holds; only a row with both values missing is skipped, so (2, null) fails.
    (gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(column_A="later", column_B="n", or_equal=True), 1),
    (gx.expectations.ExpectTableRowCountToBeBetween(min_value=6), 1),
    (gx.expectations.ExpectTableRowCountToBeBetween(min_value=1), 0),
    (gx.expectations.ExpectColumnDistinctValuesToContainSet(column="code", value_set=["a", "z", "b"]), 1),
    (gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query="select n from {batch} where n < 0"), 1),
]


@pytest.mark.parametrize(("expectation", "unexpected"), CASES, ids=lambda case: getattr(case, "expectation_type", ""))
def test_each_expectation_kind_is_checked_in_sql_as_gx_checks_it(database, expectation, unexpected):
    query = f"with batch as ({BATCH}) select count(*) from ({bench_gate._unexpected_rows(expectation)}) as found"
    with psycopg.connect(database.url()) as conn:
        assert conn.execute(query).fetchone()[0] == unexpected


def test_every_expectation_of_every_suite_has_its_sql_check():
    period = parse_period("2019Q1")
    checks = bench_gate.suite_checks(period)
    assert [suite.suite for suite in checks] == [suite.name for suite in SUITES]
    for suite, spec in zip(checks, SUITES, strict=True):
        assert len(suite.checks) == len(suite.names) == len(spec.expectations(period))
        assert "{batch}" not in suite.statement


def test_an_expectation_kind_without_a_translation_is_named():
    with pytest.raises(BenchError, match="ExpectColumnValuesToMatchRegex"):
        bench_gate._unexpected_rows(gx.expectations.ExpectColumnValuesToMatchRegex(column="code", regex="^a"))
