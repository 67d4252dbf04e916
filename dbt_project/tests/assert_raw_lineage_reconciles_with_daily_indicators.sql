-- Every daily value of int_indicator_daily equals the sum of its raw rows' contributions in
-- lineage_indicator_raw_rows, which re-derives it from the raw payloads alone. A full outer join, so
-- a day or agency present on one side only fails too. Fails with the indicator, day, agency and
-- both values.
-- Compared: every flow on every day, every stock on every month's last day (so every quarter and
-- year end that a report takes). A stock's lineage is one row per live item and day (about 8,000
-- accounts, 2,000 procedure versions...): on every day it would be millions of rows and a minute of
-- every `dbt build`, for days that no report reads.
-- A daily build compares only the days it loaded: the transform DAG sets EGOV_LINEAGE_DAYS_FROM to the
-- first day of any window loaded since its previous successful run (egov.dbt.lineage_scope_env), before
-- which no raw row changed; re-deriving all history every day made its cost grow with the years kept.
-- Every other build, and each one a release rests on, compares all history.
{%- set days_from = env_var('EGOV_LINEAGE_DAYS_FROM', '') %}

with

lineage as (
    select
        indicator_code,
        measure_kind,
        date_day,
        agency_code,
        sum(contribution) as lineage_value
    from {{ ref('lineage_indicator_raw_rows') }}
    -- On the view's own columns, so that the day filters reach each stock's day list and the raw tables.
    where
        (
            measure_kind = 'flow'
            or date_day = (date_trunc('month', date_day) + interval '1 month - 1 day')::date
        ){% if days_from %} and date_day >= '{{ days_from }}'::date{% endif %}
    group by indicator_code, measure_kind, date_day, agency_code
),

indicators as (
    select * from {{ ref('dim_indicator') }}
    where measure_kind in ('flow', 'stock')
),

daily as (
    select
        daily.indicator_code,
        indicators.measure_kind,
        daily.date_day,
        daily.agency_code,
        sum(daily.indicator_value) as daily_value
    from {{ ref('int_indicator_daily') }} as daily
    inner join indicators on daily.indicator_code = indicators.indicator_code
    where
        (
            indicators.measure_kind = 'flow'
            or daily.date_day = (date_trunc('month', daily.date_day) + interval '1 month - 1 day')::date
        ){% if days_from %} and daily.date_day >= '{{ days_from }}'::date{% endif %}
    group by daily.indicator_code, indicators.measure_kind, daily.date_day, daily.agency_code
),

final as (
    select
        coalesce(daily.indicator_code, lineage.indicator_code) as indicator_code,
        coalesce(daily.date_day, lineage.date_day) as date_day,
        coalesce(daily.agency_code, lineage.agency_code) as agency_code,
        daily.measure_kind as daily_measure_kind,
        lineage.measure_kind as lineage_measure_kind,
        daily.daily_value,
        lineage.lineage_value
    from daily
    full outer join lineage
        on
            daily.indicator_code = lineage.indicator_code
            and daily.date_day = lineage.date_day
            -- System-wide indicators have no agency: null matches null.
            and coalesce(daily.agency_code, '') = coalesce(lineage.agency_code, '')
    where
        daily.daily_value is distinct from lineage.lineage_value
        or daily.measure_kind is distinct from lineage.measure_kind
)

select * from final
