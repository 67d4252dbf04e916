-- What each reported figure of each period is computed from: the indicator itself for a flow or a stock,
-- its numerator and denominator for a ratio; with the days whose daily values enter it (every day of
-- the period for a flow, the period's last day for a stock).

with

periods as (
    select * from {{ ref('int_report_periods') }}
),

catalogue as (
    select * from {{ ref('report_figure_catalogue') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

components as (
    select
        catalogue.figure_id,
        parts.component_role,
        parts.indicator_code
    from catalogue
    inner join indicators on catalogue.figure_id = indicators.indicator_code
    cross join
        lateral (
            values
            ('value', case when indicators.measure_kind in ('flow', 'stock') then indicators.indicator_code end),
            ('numerator', indicators.numerator_code),
            ('denominator', indicators.denominator_code)
        ) as parts (component_role, indicator_code)
    where parts.indicator_code is not null
),

final as (
    select
        periods.period_label::text as period,
        components.figure_id::text as figure_id,
        components.component_role::text as component_role,
        components.indicator_code::text as indicator_code,
        component_indicators.measure_kind::text as measure_kind,
        case
            when component_indicators.measure_kind = 'flow' then periods.period_start else periods.period_end
        end::date as first_day,
        periods.period_end::date as last_day
    from components
    cross join periods
    inner join indicators as component_indicators on components.indicator_code = component_indicators.indicator_code
)

select * from final
