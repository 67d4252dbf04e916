"""Coverage and control totals: every unit closed every day, and the details add up to it."""

import great_expectations as gx

from egov.periods import Period

MODEL = "marts.fct_onestop_daily_closes"


def slice_query(period: Period) -> str:
    return (
        f"select * from {MODEL} "
        f"where date_day >= '{period.start}' and date_day < '{period.end}'"
    )


def expectations(period: Period) -> list:
    missing_unit_days = f"""
        select agencies.agency_code, days.date_day
        from marts.dim_agency as agencies
        cross join marts.dim_date as days
        where days.date_day >= '{period.start}' and days.date_day < '{period.end}'
          and agencies.onboarded_on <= days.date_day
          and not exists (
              select 1 from {{batch}} as closes
              where closes.agency_code = agencies.agency_code and closes.date_day = days.date_day
          )
    """
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
            where date_day >= '{period.start}' and date_day < '{period.end}'
            group by date_day, agency_code
        ) as details using (date_day, agency_code)
        where closes.dossiers_received <> coalesce(details.received, 0)
           or closes.dossiers_resolved <> coalesce(details.resolved, 0)
    """
    return [
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=missing_unit_days,
            description=f"every unit × day of {period.label} has arrived (coverage)"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=totals_disagree,
            description="detail dossier counts add up to each unit's daily control totals"),
        gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=["date_day", "agency_code"], description="one close per unit and day"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="dossiers_pending", min_value=0, description="no negative backlog"),
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="closed_at", min_value=str(period.start), severity="warning",
            description="days are closed after they begin (a clock problem otherwise)"),
    ]
