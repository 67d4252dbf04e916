-- Flows and stocks per period × boundary segment × indicator × agency. A segment is the part of a period
-- in which no administrative unit began or ended: the year 2025 has two (to 30 June under Trà Vinh's
-- districts and communes, from 1 July under Vĩnh Long's new communes), a 2019 quarter one. A flow is the
-- sum of its daily values over the segment, a stock its value on the period's last day (never a sum of
-- days), so it lies in the period's last segment. Rolling up "as was" places each segment on the
-- boundaries of its own last day.

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

units as (
    select * from {{ ref('dim_admin_unit') }}
),

boundary_changes as (
    select valid_from as change_day from units
    union
    select valid_to from units
    where valid_to is not null
),

segment_starts as (
    select
        period_label,
        period_start as segment_start
    from periods
    union
    select
        periods.period_label,
        boundary_changes.change_day
    from periods
    inner join boundary_changes
        on periods.period_start < boundary_changes.change_day and periods.period_end >= boundary_changes.change_day
),

segments as (
    select
        periods.period_label,
        periods.period_kind,
        periods.period_start,
        periods.period_end,
        segment_starts.segment_start,
        coalesce(
            (lead(segment_starts.segment_start) over (
                partition by periods.period_label order by segment_starts.segment_start
            ) - 1),
            periods.period_end
        ) as segment_end
    from periods
    inner join segment_starts on periods.period_label = segment_starts.period_label
),

final as (
    select
        segments.period_label,
        segments.period_kind,
        segments.period_start,
        segments.period_end,
        segments.segment_start,
        segments.segment_end,
        daily.indicator_code,
        indicators.measure_kind,
        daily.agency_code,
        sum(daily.indicator_value) as indicator_value
    from daily
    inner join indicators on daily.indicator_code = indicators.indicator_code
    inner join segments
        on
            daily.date_day between segments.segment_start and segments.segment_end
            and (indicators.measure_kind = 'flow' or daily.date_day = segments.period_end)
    group by
        segments.period_label, segments.period_kind, segments.period_start, segments.period_end,
        segments.segment_start, segments.segment_end, daily.indicator_code, indicators.measure_kind,
        daily.agency_code
)

select * from final
