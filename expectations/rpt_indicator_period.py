"""Rollups of the period: each indicator's value follows from its daily facts by its measure's rule.

Flows are the sum of the period's daily values, stocks the value of its last day, ratios their
numerator over their denominator; recomputed here from ``intermediate.int_indicator_daily``.
"""

import great_expectations as gx

from egov.core.periods import Period
from egov_expectations.suite import Suite

TABLE = "reporting.rpt_indicator_period"


def slice_query(period: Period) -> str:
    return f"select * from {TABLE} where period_label = '{period.label}'"


def expectations(period: Period) -> list:
    additive_disagree = """
        select rollup.indicator_code, rollup.measure_kind, rollup.indicator_value, daily.recomputed
        from {batch} as rollup
        left join lateral (
            select sum(days.indicator_value) as recomputed
            from intermediate.int_indicator_daily as days
            where days.indicator_code = rollup.indicator_code
              and days.date_day between rollup.period_start and rollup.period_end
              and (rollup.measure_kind = 'flow' or days.date_day = rollup.period_end)
        ) as daily on true
        where rollup.measure_kind in ('flow', 'stock') and rollup.indicator_value is not null
          and rollup.indicator_value <> round(coalesce(daily.recomputed, 0), 6)
    """
    ratios_disagree = """
        select indicator_code, indicator_value, numerator_value, denominator_value
        from {batch}
        where measure_kind = 'ratio'
          and indicator_value is distinct from round(numerator_value / nullif(denominator_value, 0), 6)
    """
    return [
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=additive_disagree,
            description="flows are the sum of their daily facts and stocks the last day's value"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=ratios_disagree,
            description="ratios are recomputed from their summed numerator and denominator"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="indicator_code", description="each indicator once"),
    ]


SUITE = Suite(name="rpt_indicator_period", table=TABLE, layer="reporting", slice_query=slice_query,
              expectations=expectations)
