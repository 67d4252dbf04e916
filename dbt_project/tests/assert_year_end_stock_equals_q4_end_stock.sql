-- A stock's value for a year is its value at the end of the year's fourth quarter.

with

periods as (
    select * from {{ ref('rpt_indicator_period') }}
    where measure_kind = 'stock'
),

final as (
    select
        years.period_label,
        years.indicator_code,
        years.indicator_value as year_value,
        q4.indicator_value as q4_value
    from periods as years
    inner join periods as q4
        on
            q4.period_label = years.period_label || 'Q4'
            and years.indicator_code = q4.indicator_code
    where
        years.period_kind = 'year'
        and years.indicator_value is distinct from q4.indicator_value
)

select * from final
