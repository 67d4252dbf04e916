-- Flows and stocks per period × indicator × agency, with their semantics: a flow is the sum of its
-- daily values over the period, a stock its value on the period's last day (never a sum of days).

with

daily as (
    select * from {{ ref('int_indicator_daily') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

periods as (
    select * from {{ ref('int_report_periods') }}
),

final as (
    select
        periods.period_label,
        periods.period_kind,
        periods.period_start,
        periods.period_end,
        daily.indicator_code,
        indicators.measure_kind,
        daily.agency_code,
        sum(daily.indicator_value) as indicator_value
    from daily
    inner join indicators on daily.indicator_code = indicators.indicator_code
    inner join periods
        on
            daily.date_day between periods.period_start and periods.period_end
            and (indicators.measure_kind = 'flow' or daily.date_day = periods.period_end)
    group by
        periods.period_label, periods.period_kind, periods.period_start, periods.period_end,
        daily.indicator_code, indicators.measure_kind, daily.agency_code
)

select * from final
