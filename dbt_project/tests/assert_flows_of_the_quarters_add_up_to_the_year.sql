-- For every flow, province-wide and per unit, the four quarters of a year add up to the year.
-- Fails with the indicator, year and both sums.

with

periods as (
    select * from {{ ref('rpt_indicator_period') }}
    where measure_kind = 'flow'
),

quarters as (
    select
        left(period_label, 4) as year_label,
        indicator_code,
        sum(indicator_value) as quarters_total,
        count(*) as quarter_count
    from periods
    where period_kind = 'quarter'
    group by left(period_label, 4), indicator_code
),

years as (
    select
        period_label as year_label,
        indicator_code,
        indicator_value as year_total
    from periods
    where period_kind = 'year'
),

units as (
    select * from {{ ref('rpt_indicator_admin_unit_period') }}
    where indicator_code in (select periods.indicator_code from periods)
),

unit_quarters as (
    select
        left(period_label, 4) as year_label,
        indicator_code,
        boundary,
        admin_unit_code,
        sum(indicator_value) as quarters_total
    from units
    where period_label like '%Q%'
    group by left(period_label, 4), indicator_code, boundary, admin_unit_code
),

unit_years as (
    select
        period_label as year_label,
        indicator_code,
        boundary,
        admin_unit_code,
        indicator_value as year_total
    from units
    where period_label not like '%Q%'
),

final as (
    select
        years.year_label,
        years.indicator_code,
        'province' as scope,
        quarters.quarters_total,
        years.year_total
    from years
    left join quarters on years.year_label = quarters.year_label and years.indicator_code = quarters.indicator_code
    where quarters.quarters_total is distinct from years.year_total
    union all
    select
        unit_years.year_label,
        unit_years.indicator_code,
        unit_years.boundary || ':' || unit_years.admin_unit_code as scope,
        unit_quarters.quarters_total,
        unit_years.year_total
    from unit_years
    left join
        unit_quarters
        on
            unit_years.year_label = unit_quarters.year_label
            and unit_years.indicator_code = unit_quarters.indicator_code
            and unit_years.boundary = unit_quarters.boundary
            and unit_years.admin_unit_code = unit_quarters.admin_unit_code
    where unit_quarters.quarters_total is distinct from unit_years.year_total
)

select * from final
