"""Great Expectations validation time against hand-written SQL doing the same checks.

Issue: "GX validation time against a hand-written SQL query doing the same checks (target at most 3×)".

(a) GX: ``egov.quality.gate.validate`` for the period, the publication gate's validation as the publish DAG runs it
(every suite's checkpoint, result format COMPLETE, results stored). The gate builds Data Docs after its
verdict is recorded (``egov.quality.gate.build_data_docs``): rendering pages is no check, so neither side counts
it, and its time is shown beside, as is importing GX (once per process, before the first validation).
(b) SQL: the same 96 checks as plain SQL, generated from the same suite definitions
(``egov_expectations``): per suite, one statement over its period slice (read once, as a CTE), with one
column per expectation counting what it finds unexpected; for each check that finds something, its first
rows, as the gate stores them. Each GX expectation type the suites use is translated to its SQL
meaning (nulls ignored where GX ignores them; ``mostly`` is 1 throughout). Both sides judge every
expectation; a row says whether their verdicts agree, so the SQL is known to check the same things.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass

from egov.core import config, db
from egov.core.periods import Period, parse_period
from egov.quality import gate
from egov_demo.bench import Bench, BenchError, Row, incremental, say

NAME = "gate"
#: The quarter the province's report is calibrated on, and that ``make run`` publishes; the quarter before it is
#: loaded too, for the report figures' change against the previous period.
PERIOD = "2019Q1"
WAREHOUSE = f"bench_{NAME}"
TARGET_RATIO = 3.0
MAX_REPEATS = 3
#: Rows of a failing check the SQL side fetches, as the gate keeps them (``egov.quality.gate.KEPT_LIST_ITEMS``).
SHOWN_ROWS = gate.KEPT_LIST_ITEMS


def _say(text: str) -> None:
    say(NAME, text)


# ---------------------------------------------------------------- the checks as SQL


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unexpected_rows(expectation) -> str:
    """SQL: the rows of ``batch`` (the slice, a CTE) that ``expectation`` finds unexpected."""
    kind = type(expectation).__name__
    if kind == "UnexpectedRowsExpectation":
        return expectation.unexpected_rows_query.replace("{batch}", "batch")
    if kind == "ExpectColumnValuesToNotBeNull":
        return f"select * from batch where {_ident(expectation.column)} is null"
    if kind == "ExpectColumnValuesToBeBetween":
        column = _ident(expectation.column)
        outside = []
        if expectation.min_value is not None:
            outside.append(f"{column} {'<=' if expectation.strict_min else '<'} {_literal(expectation.min_value)}")
        if expectation.max_value is not None:
            outside.append(f"{column} {'>=' if expectation.strict_max else '>'} {_literal(expectation.max_value)}")
        return f"select * from batch where {column} is not null and ({' or '.join(outside)})"
    if kind == "ExpectColumnValuesToBeInSet":
        column = _ident(expectation.column)
        allowed = ", ".join(_literal(value) for value in expectation.value_set)
        return f"select * from batch where {column} is not null and {column} not in ({allowed})"
    if kind == "ExpectColumnValuesToBeUnique":
        column = _ident(expectation.column)
        return (f"select * from (select *, count(*) over (partition by {column}) as occurrences from batch "
                f"where {column} is not null) as counted where occurrences > 1")
    if kind == "ExpectCompoundColumnsToBeUnique":
        columns = [_ident(column) for column in expectation.column_list]
        skipped = {"all_values_are_missing": " and ".join(f"{c} is null" for c in columns),
                   "any_value_is_missing": " or ".join(f"{c} is null" for c in columns),
                   "never": "false"}[expectation.ignore_row_if]
        return (f"select * from (select *, count(*) over (partition by {', '.join(columns)}) as occurrences "
                f"from batch where not ({skipped})) as counted where occurrences > 1")
    if kind == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = _ident(expectation.column_A), _ident(expectation.column_B)
        skipped = {"both_values_are_missing": f"{a} is null and {b} is null",
                   "either_value_is_missing": f"{a} is null or {b} is null",
                   "neither": "false"}[expectation.ignore_row_if]
        return (f"select * from batch where not ({skipped}) "
                f"and not coalesce({a} {'>=' if expectation.or_equal else '>'} {b}, false)")
    if kind == "ExpectTableRowCountToBeBetween":
        bounds = []
        if expectation.min_value is not None:
            bounds.append(f"count(*) >= {_literal(expectation.min_value)}")
        if expectation.max_value is not None:
            bounds.append(f"count(*) <= {_literal(expectation.max_value)}")
        return f"select count(*) as row_count from batch having not ({' and '.join(bounds)})"
    if kind == "ExpectColumnDistinctValuesToContainSet":
        column = _ident(expectation.column)
        required = ", ".join(_literal(value) for value in expectation.value_set)
        return (f"select required.value as missing from unnest(array[{required}]) as required (value) "
                f"where required.value not in (select distinct {column}::text from batch where {column} is not null)")
    raise BenchError(
        f"the SQL side has no translation of {kind}; add one to egov_demo.bench.gate._unexpected_rows")


@dataclass(frozen=True)
class SuiteChecks:
    suite: str
    statement: str
    #: Each expectation's unexpected rows (over ``batch``), in the suite's order.
    checks: tuple[str, ...]
    #: Each expectation as the gate names a failure: type and description.
    names: tuple[tuple[str, str], ...]
    slice_query: str


def suite_checks(period: Period) -> list[SuiteChecks]:
    from egov_expectations import SUITES

    found = []
    for suite in SUITES:
        slice_query = suite.slice_query(period).strip()
        expectations = suite.expectations(period)
        checks = tuple(_unexpected_rows(expectation) for expectation in expectations)
        counts = ",\n    ".join(f"(select count(*) from ({check}) as unexpected) as check_{index}"
                                for index, check in enumerate(checks))
        statement = f"with batch as materialized (\n{slice_query}\n)\nselect\n    {counts}"
        names = tuple((e.expectation_type, e.description or e.expectation_type) for e in expectations)
        found.append(SuiteChecks(suite.name, statement, checks, names, slice_query))
    return found


#: A verdict set: the failed expectations, each as (suite, expectation type, description), and how many were judged.
Verdicts = tuple[Counter, int]


def validate_with_sql(target: config.PgTarget, period: Period) -> Verdicts:
    """Every expectation judged in plain SQL; the first rows of each failing one are fetched as the gate keeps
    them."""
    failed: Counter = Counter()
    evaluated = 0
    with db.connect(target) as conn:
        for suite in suite_checks(period):
            counts = conn.execute(suite.statement).fetchone()
            evaluated += len(counts)
            for index, count in enumerate(counts):
                if count:
                    failed[(suite.suite, *suite.names[index])] += 1
                    conn.execute(f"with batch as materialized (\n{suite.slice_query}\n)\n"
                                 f"select * from ({suite.checks[index]}) as unexpected limit {SHOWN_ROWS}").fetchall()
        conn.rollback()
    return failed, evaluated


def gx_verdicts(result: gate.GateResult) -> Verdicts:
    return Counter((f.suite, f.expectation, f.description) for f in result.failures), result.statistics["evaluated"]


def compare(target: config.PgTarget, period: Period, repeats: int) -> list[Row]:
    started = time.perf_counter()
    import great_expectations  # noqa: F401  (once per process, before the first validation: measured apart)

    import_seconds = time.perf_counter() - started
    gx_seconds, docs_seconds, sql_seconds = [], [], []
    for number in range(1, repeats + 1):
        started = time.perf_counter()
        result, _ = gate.validate(period, target)
        gx_seconds.append(time.perf_counter() - started)
        gx_said = gx_verdicts(result)
        started = time.perf_counter()
        gate.build_data_docs(result)
        docs_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        sql_said = validate_with_sql(target, period)
        sql_seconds.append(time.perf_counter() - started)
        _say(f"repeat {number}: GX {gx_seconds[-1]:.2f}s (then Data Docs {docs_seconds[-1]:.2f}s), "
             f"SQL {sql_seconds[-1]:.2f}s ({gx_said[1]} expectations, {sum(gx_said[0].values())} failed in GX, "
             f"{sum(sql_said[0].values())} in SQL)")
    gx_median, sql_median = statistics.median(gx_seconds), statistics.median(sql_seconds)
    ratio = gx_median / sql_median
    agree = gx_said == sql_said
    return [
        Row(NAME, f"GX gate validation of {period.label} {gx_median:.2f}s vs the same checks in SQL "
                  f"{sql_median:.2f}s (median of {repeats})", ratio, f"GX/SQL ≤ {TARGET_RATIO:g}",
            ratio <= TARGET_RATIO,
            {"gx_s": [round(s, 3) for s in gx_seconds], "sql_s": [round(s, 3) for s in sql_seconds],
             "data_docs_after_the_verdict_s": [round(s, 3) for s in docs_seconds],
             "importing_great_expectations_s": round(import_seconds, 3)}),
        Row(NAME, f"SQL and GX judge {sql_said[1]} and {gx_said[1]} expectations, "
                  f"{sum(sql_said[0].values())} and {sum(gx_said[0].values())} failed, "
                  f"{'the same ones' if agree else 'NOT the same ones'}",
            None, "same verdicts", agree,
            {"failed_in_gx_only": [" / ".join(k) for k in gx_said[0] - sql_said[0]],
             "failed_in_sql_only": [" / ".join(k) for k in sql_said[0] - gx_said[0]]}),
    ]


# ---------------------------------------------------------------- the warehouse


def run(bench: Bench) -> list[Row]:
    from egov.core.sources import SOURCES

    period, previous = parse_period(PERIOD), parse_period(PERIOD).previous()
    repeats = max(1, min(bench.repeats, MAX_REPEATS))
    started = time.perf_counter()
    systems = incremental.start_systems(tuple(SOURCES.values()))
    try:
        target = incremental.create_warehouse(WAREHOUSE)
        rows = incremental.load_history(target, systems, tuple(SOURCES.values()), (previous.start, period.end))
        incremental.build_without_tests(target)
    finally:
        systems.close()
    _say(f"{WAREHOUSE}: the six systems' {previous.label} and {period.label} ({rows:,} rows) loaded and built in "
         f"{time.perf_counter() - started:.0f}s; {repeats} validations of {period.label} each way")
    try:
        with incremental.own_gx_folder(bench, NAME):
            return compare(target, period, repeats)
    finally:
        if not bench.keep:
            incremental.drop_database(WAREHOUSE)
