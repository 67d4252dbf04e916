"""Control totals: each unit's daily close equals the dossier details of its day.

Whether every unit closed every day is the coverage suite's question (``coverage``).
"""

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from egov.core.config import LOCAL_TIMEZONE
from egov.core.periods import Period
from egov_expectations.suite import Suite, days_of, table_slice

TABLE = "marts.fct_onestop_daily_closes"


def expectations(period: Period) -> list:
    totals_disagree = f"""
        select closes.date_day, closes.agency_code,
               closes.dossiers_received, details.received,
               closes.dossiers_resolved, details.resolved
        from {{batch}} as closes
        left join (
            select date_day, agency_code,
                   sum(dossier_count) filter (where event_code = 'received') as received,
                   sum(dossier_count) filter (where event_code <> 'received') as resolved
            from marts.fct_onestop_dossiers_daily
            where {days_of("date_day", period)}
            group by date_day, agency_code
        ) as details using (date_day, agency_code)
        where closes.dossiers_received <> coalesce(details.received, 0)
           or closes.dossiers_resolved <> coalesce(details.resolved, 0)
    """
    return [
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=totals_disagree,
            description="detail dossier counts add up to each unit's daily control totals"),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["date_day", "agency_code"], description="one close per unit and day"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="dossiers_pending", min_value=0, description="no negative backlog"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=(
                f"select date_day, agency_code, closed_at from {{batch}} "
                f"where (closed_at at time zone '{LOCAL_TIMEZONE.key}')::date < date_day"),
            severity=FailureSeverity.WARNING,
            description="each day is closed after it begins (a clock problem otherwise)"),
    ]


SUITE = Suite(name="fct_onestop_daily_closes", table=TABLE, layer="marts",
              slice_query=table_slice(TABLE, "date_day"), expectations=expectations)
