{{ config(indexes=[{'columns': ['period_label', 'indicator_code'], 'unique': true}]) }}

-- Every indicator for every quarter and year, province-wide, with the semantics of its measure kind:
-- flows summed over the period, stocks at the period's last day, ratios recomputed from their
-- summed numerator and denominator (never averaged).

with

agency_periods as (
    select * from {{ ref('int_indicator_agency_period') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

periods as (
    select * from {{ ref('int_report_periods') }}
),

sources as (
    select * from {{ ref('dim_source_system') }}
),

coverage as (
    select * from {{ ref('int_source_coverage') }}
),

-- Whether each indicator's source has been loaded through the period's last day.
completeness as (
    select
        periods.period_label,
        indicators.indicator_code,
        coalesce(periods.period_end <= coverage.last_loaded_day, false) as is_complete
    from periods
    cross join indicators
    left join sources on indicators.source_system = sources.source_system
    left join coverage on sources.source_key = coverage.source_key
),

province as (
    select
        period_label,
        indicator_code,
        sum(indicator_value) as indicator_value
    from agency_periods
    group by period_label, indicator_code
),

additive as (
    select
        periods.period_label,
        indicators.indicator_code,
        case
            when indicators.measure_kind = 'flow' then coalesce(province.indicator_value, 0)
            -- A stock is known only once its source has been loaded through the period's last day.
            when completeness.is_complete then coalesce(province.indicator_value, 0)
        end as indicator_value
    from periods
    cross join indicators
    inner join completeness
        on periods.period_label = completeness.period_label and indicators.indicator_code = completeness.indicator_code
    left join province
        on
            periods.period_label = province.period_label
            and indicators.indicator_code = province.indicator_code
    where indicators.measure_kind in ('flow', 'stock')
),

ratios as (
    select
        periods.period_label,
        indicators.indicator_code,
        numerator.indicator_value / nullif(denominator.indicator_value, 0) as indicator_value,
        numerator.indicator_value as numerator_value,
        denominator.indicator_value as denominator_value
    from periods
    cross join indicators
    inner join additive as numerator
        on periods.period_label = numerator.period_label and indicators.numerator_code = numerator.indicator_code
    inner join additive as denominator
        on
            periods.period_label = denominator.period_label
            and indicators.denominator_code = denominator.indicator_code
    where indicators.measure_kind = 'ratio'
),

values_by_period as (
    select
        period_label,
        indicator_code,
        indicator_value,
        null::numeric as numerator_value,
        null::numeric as denominator_value
    from additive
    union all
    select * from ratios
),

final as (
    select
        periods.period_label::text as period_label,
        periods.period_kind::text as period_kind,
        periods.period_start::date as period_start,
        periods.period_end::date as period_end,
        completeness.is_complete::boolean as is_complete,
        indicators.indicator_code::text as indicator_code,
        indicators.measure_kind::text as measure_kind,
        indicators.unit::text as unit,
        values_by_period.indicator_value::numeric(20, 6) as indicator_value,
        values_by_period.numerator_value::numeric(20, 6) as numerator_value,
        values_by_period.denominator_value::numeric(20, 6) as denominator_value
    from values_by_period
    inner join periods on values_by_period.period_label = periods.period_label
    inner join indicators on values_by_period.indicator_code = indicators.indicator_code
    inner join completeness
        on
            values_by_period.period_label = completeness.period_label
            and values_by_period.indicator_code = completeness.indicator_code
)

select * from final
