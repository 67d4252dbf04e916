-- Every ratio equals the period's value of its numerator indicator over its denominator indicator.

with

periods as (
    select * from {{ ref('rpt_indicator_period') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
    where measure_kind = 'ratio'
),

final as (
    select
        ratio.period_label,
        ratio.indicator_code,
        ratio.indicator_value,
        numerator.indicator_value as numerator_value,
        denominator.indicator_value as denominator_value
    from periods as ratio
    inner join indicators on ratio.indicator_code = indicators.indicator_code
    inner join periods as numerator
        on ratio.period_label = numerator.period_label and indicators.numerator_code = numerator.indicator_code
    inner join periods as denominator
        on ratio.period_label = denominator.period_label and indicators.denominator_code = denominator.indicator_code
    where
        ratio.indicator_value
        is distinct from round(numerator.indicator_value / nullif(denominator.indicator_value, 0), 6)
        or ratio.numerator_value is distinct from numerator.indicator_value
        or ratio.denominator_value is distinct from denominator.indicator_value
)

select * from final
