"""Coverage: every unit × source × day of the period has arrived, or a person waived its gap.

Expected deliveries, one row each:
- per source and dated entity, every day of the period lies in the window of a load (an empty
  answer for a day counts: the source said nothing happened);
- per unit, where a source reports unit by unit every day: each onboarded one-stop unit closes
  each day, and each agency in the mail system's export (in the period or the month before it) appears in each
  day's export.

A gap that cannot be filled (a system was down and its data is lost) is waived with ``egov waive``,
which records who accepted it and why in ``audit.coverage_waivers``; the gate records the waivers it
relied on with its result, and the release links to that result.
"""

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from egov.core.periods import Period
from egov.core.sources import SOURCES
from egov_expectations.suite import Suite

TABLE = "audit.load_batches"


def _dated_entities() -> str:
    rows = [f"('{source.key}', '{entity.name}', '{source.raw_table(entity)}')"
            for source in SOURCES.values() for entity in source.entities if entity.windowed]
    return ",\n                ".join(rows)


def slice_query(period: Period) -> str:
    # GX takes a query asset only if it starts with SELECT: the CTEs go in a subquery.
    return f"""select * from (
        with
        days as (
            select day::date as day
            from generate_series('{period.start}'::date, '{period.last_day}'::date, interval '1 day') as day
        ),
        entities (source_key, entity, raw_table) as (
            values
                {_dated_entities()}
        ),
        entity_days as (
            select entities.source_key, entities.entity, days.day, null::text as agency_code,
                   exists (
                       select 1 from audit.load_batches as batches
                       where batches.raw_table = entities.raw_table
                         and days.day >= batches.window_start and days.day < batches.window_end
                   ) as arrived
            from entities cross join days
        ),
        onestop_unit_days as (
            select 'onestop' as source_key, 'daily_closes' as entity, days.day, agencies.agency_code,
                   closes.agency_code is not null as arrived
            from marts.dim_agency as agencies
            inner join days on agencies.is_onestop_unit and agencies.onboarded_on <= days.day
            left join marts.fct_onestop_daily_closes as closes
                on closes.agency_code = agencies.agency_code and closes.date_day = days.day
        ),
        -- The agencies in the export during the period or the month before it: one that stops appearing
        -- for the whole period is missing, not forgotten.
        mail_agencies as (
            select distinct agency_code from marts.fct_mail_accounts_daily
            where date_day >= '{period.start}'::date - 31 and date_day < '{period.end}'
        ),
        mail_unit_days as (
            select 'mail' as source_key, 'accounts_daily' as entity, days.day, mail_agencies.agency_code,
                   exports.agency_code is not null as arrived
            from mail_agencies
            cross join days
            left join marts.fct_mail_accounts_daily as exports
                on exports.agency_code = mail_agencies.agency_code and exports.date_day = days.day
        ),
        expected as (
            select * from entity_days
            union all
            select * from onestop_unit_days
            union all
            select * from mail_unit_days
        )
        select expected.*, waivers.waiver_id, waivers.reason as waiver_reason,
               case when expected.arrived then 'arrived'
                    when waivers.waiver_id is not null then 'waived'
                    else 'missing' end as status
        from expected
        left join lateral (
            select waiver_id, reason
            from audit.coverage_waivers as waivers
            where waivers.source_key = expected.source_key
              and expected.day between waivers.first_day and waivers.last_day
              and (waivers.agency_code is null or waivers.agency_code = expected.agency_code)
            order by waivers.waived_at
            limit 1
        ) as waivers on not expected.arrived
    ) as deliveries"""


def expectations(period: Period) -> list:
    return [
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=(
                "select source_key, entity, day, agency_code from {batch} where status = 'missing' "
                "order by source_key, entity, day, agency_code"),
            description=f"every unit × source × day of {period.label} has arrived or is waived (coverage)"),
        gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=(
                "select source_key, entity, day, agency_code, waiver_id, waiver_reason from {batch} "
                "where status = 'waived' order by source_key, entity, day, agency_code"),
            severity=FailureSeverity.WARNING, description=f"no gap of {period.label} had to be waived"),
    ]


SUITE = Suite(name="coverage", table=TABLE, layer="coverage", slice_query=slice_query, expectations=expectations)
