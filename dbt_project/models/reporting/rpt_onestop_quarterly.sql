{{ config(indexes=[{'columns': ['period', 'agency_code']}]) }}

-- Quarterly rollup of the one-stop flows: dossier counts are additive, so they sum.
-- Indexed for BI tools' lookups of a unit's quarter (egov bench: queries).

with

daily as (
    select * from {{ ref('fct_onestop_dossiers_daily') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

final as (
    select
        dates.quarter_label as period,
        dates.quarter_start as period_start,
        dates.quarter_end as period_end,
        daily.agency_code,
        daily.service_level,
        daily.channel_code,
        daily.event_code,
        sum(daily.dossier_count)::bigint as dossier_count,
        count(distinct daily.date_day)::int as days_with_events
    from daily
    inner join dates on daily.date_day = dates.date_day
    group by 1, 2, 3, 4, 5, 6, 7
)

select * from final
