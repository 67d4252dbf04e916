-- The daily facts behind each figure of each period: the indicator's daily values (per agency, or
-- system-wide) on the days that enter the figure. Their sum is the figure's rollup (or, for a ratio,
-- its numerator's or denominator's).

with

components as (
    select * from {{ ref('lineage_figure_components') }}
),

daily as (
    select * from {{ ref('int_indicator_daily') }}
),

final as (
    select
        components.period,
        components.figure_id,
        components.component_role,
        components.indicator_code,
        daily.date_day,
        daily.agency_code,
        daily.indicator_value
    from components
    inner join daily
        on
            components.indicator_code = daily.indicator_code
            and daily.date_day between components.first_day and components.last_day
)

select * from final
