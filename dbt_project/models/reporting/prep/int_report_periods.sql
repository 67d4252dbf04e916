-- The quarters and years the warehouse can report: those that begin on or before the last loaded day.
-- Whether a period is complete depends on the source (rpt_indicator_period, from int_source_coverage).

with

days as (
    select * from {{ ref('int_snapshot_days') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

quarters as (
    select distinct
        dates.quarter_label as period_label,
        'quarter' as period_kind,
        dates.quarter_start as period_start,
        dates.quarter_end as period_end
    from dates
    inner join days on dates.date_day = days.date_day
),

years as (
    select distinct
        dates.year_number::text as period_label,
        'year' as period_kind,
        make_date(dates.year_number, 1, 1) as period_start,
        make_date(dates.year_number, 12, 31) as period_end
    from dates
    inner join days on dates.date_day = days.date_day
),

final as (
    select
        periods.period_label::text as period_label,
        periods.period_kind::text as period_kind,
        periods.period_start::date as period_start,
        periods.period_end::date as period_end
    from (
        select * from quarters
        union all
        select * from years
    ) as periods
)

select * from final
