"""The report figures of the period: every figure of the report present, once, known and not negative,
and no figure moving implausibly far from the period before.

Period-over-period change is judged against the previous period of the same kind (the quarter
before, the year before) where the figure's source delivered every day of that period, as the
coverage suite judges delivery: a period loaded only in part says nothing about how a figure moves.
Flows and stocks are compared by the ratio of the larger to the smaller value, ratios (shares) by
their difference in points. Small
counts (a complaint or two) move by large ratios without meaning anything, so they are not judged.
"""

import csv

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from egov.core import config
from egov.core.periods import Period
from egov_expectations import coverage
from egov_expectations.suite import Suite

TABLE = "reporting.rpt_report_figures"
CATALOGUE = config.DBT_PROJECT_DIR / "seeds" / "report_figure_catalogue.csv"

#: Change beyond which a figure is reported (warning) or publication stops (blocking): for flows and
#: stocks the larger value over the smaller minus one, for ratios the absolute difference.
THRESHOLDS = {
    "flow": {"warning": 0.5, "critical": 9.0},
    "stock": {"warning": 0.25, "critical": 1.0},
    "ratio": {"warning": 0.10, "critical": 0.30},
}
#: Flows and stocks below this on both sides are not judged by their change.
SMALLEST_JUDGED = 30


def required_figures() -> list[str]:
    """Every figure of the department's report (the dbt seed that lays the report out)."""
    with CATALOGUE.open(encoding="utf-8") as handle:
        return [row["figure_id"] for row in csv.DictReader(handle)]


def slice_query(period: Period) -> str:
    # previous_value is null where there is nothing to compare with: no previous period, or one its
    # source did not deliver in full (a gap the coverage suite would find there and no one waived).
    previous = period.previous()
    return f"""
        select figures.*, previous.figure_value as previous_value, previous.period as previous_period
        from {TABLE} as figures
        inner join marts.dim_source_system as systems on figures.source_system = systems.source_system
        left join (
            select distinct source_key from ({coverage.slice_query(previous)}) as deliveries
            where status = 'missing'
        ) as undelivered on systems.source_key = undelivered.source_key
        left join {TABLE} as previous
            on previous.figure_id = figures.figure_id
            and previous.period = '{previous.label}'
            and undelivered.source_key is null
        where figures.period = '{period.label}'
    """


def _changed_beyond(severity: str) -> str:
    def limit(kind: str) -> float:
        return THRESHOLDS[kind][severity]

    # A figure starting from nothing (a new service, a new language) is worth a look, not a stop.
    from_nothing = "" if severity == "warning" else "and least(figure_value, previous_value) > 0"
    return f"""
        select figure_id, measure_kind, previous_period, previous_value, figure_value
        from {{batch}}
        where previous_value is not null and figure_value is not null {from_nothing} and (
            (measure_kind = 'ratio' and abs(figure_value - previous_value) > {limit("ratio")})
            or (measure_kind in ('flow', 'stock')
                and greatest(figure_value, previous_value) >= {SMALLEST_JUDGED}
                and greatest(figure_value, previous_value)
                    > (1 + case measure_kind when 'flow' then {limit("flow")} else {limit("stock")} end)
                      * least(figure_value, previous_value))
        )
    """


def expectations(period: Period) -> list:
    return [
        gx.expectations.ExpectColumnDistinctValuesToContainSet(
            column="figure_id", value_set=required_figures(),
            description=f"every required figure of {period.label} is present"),
        gx.expectations.ExpectColumnValuesToBeUnique(
            column="figure_id", description="each figure once"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="figure_value", description="no empty figure"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="figure_value", min_value=0, description="no negative figure"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=_changed_beyond("warning"), severity=FailureSeverity.WARNING,
            description="figures move within their usual range against the previous period"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=_changed_beyond("critical"),
            description="no figure moves implausibly far against the previous period"),
    ]


SUITE = Suite(name="rpt_report_figures", table=TABLE, layer="reporting", slice_query=slice_query,
              expectations=expectations)
