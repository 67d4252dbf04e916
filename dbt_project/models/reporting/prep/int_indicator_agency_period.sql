-- Flows and stocks per period × indicator × agency, with their semantics: a flow is the sum of its
-- daily values over the period, a stock its value on the period's last day (never a sum of days). The
-- rule is applied once, per boundary segment (int_indicator_agency_segment); a period is its segments.

with

segments as (
    select * from {{ ref('int_indicator_agency_segment') }}
),

final as (
    select
        period_label,
        period_kind,
        period_start,
        period_end,
        indicator_code,
        measure_kind,
        agency_code,
        sum(indicator_value) as indicator_value
    from segments
    group by period_label, period_kind, period_start, period_end, indicator_code, measure_kind, agency_code
)

select * from final
