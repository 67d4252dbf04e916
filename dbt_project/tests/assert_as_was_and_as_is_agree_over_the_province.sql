-- Boundaries move figures between units, never in or out of the whole: for every flow and stock,
-- the province total on the facts' boundaries equals that on today's (Vĩnh Long), and both equal the
-- province-wide figure. "As was", a period straddling 1 July 2025 has two province rows, Trà Vinh with
-- the days before and Vĩnh Long with the days after: together they are the whole.

with

units as (
    select
        period_label,
        indicator_code,
        boundary,
        sum(indicator_value) as indicator_value
    from {{ ref('rpt_indicator_admin_unit_period') }}
    where admin_level = 'province'
    group by period_label, indicator_code, boundary
),

periods as (
    select * from {{ ref('rpt_indicator_period') }}
    where measure_kind in ('flow', 'stock')
),

final as (
    select
        periods.period_label,
        periods.indicator_code,
        periods.indicator_value as province_value,
        as_was.indicator_value as as_was_value,
        as_is.indicator_value as as_is_value
    from periods
    left join units as as_was
        on
            periods.period_label = as_was.period_label
            and periods.indicator_code = as_was.indicator_code
            and as_was.boundary = 'as_was'
    left join units as as_is
        on
            periods.period_label = as_is.period_label
            and periods.indicator_code = as_is.indicator_code
            and as_is.boundary = 'as_is'
    where
        coalesce(as_was.indicator_value, 0) is distinct from coalesce(as_is.indicator_value, 0)
        or (periods.indicator_value is not null and coalesce(as_was.indicator_value, 0) <> periods.indicator_value)
)

select * from final
