-- Each figure of each period summed at every level of its trace, and whether the levels agree: the
-- rollup (province-wide), the same rollup summed over agencies, the daily facts, and the raw rows.
-- One row per figure component (the value of a flow or a stock; a ratio's numerator and denominator).

with

components as (
    select * from {{ ref('lineage_figure_components') }}
),

rollups as (
    select * from {{ ref('rpt_indicator_period') }}
),

agency_rollups as (
    select * from {{ ref('int_indicator_agency_period') }}
),

daily as (
    select * from {{ ref('lineage_figure_daily_facts') }}
),

raw_rows as (
    select * from {{ ref('lineage_figure_raw_rows') }}
),

agency_sums as (
    select
        period_label as period,
        indicator_code,
        sum(indicator_value) as agency_sum
    from agency_rollups
    group by period_label, indicator_code
),

daily_sums as (
    select
        period,
        figure_id,
        component_role,
        count(*) as daily_rows,
        sum(indicator_value) as daily_sum
    from daily
    group by period, figure_id, component_role
),

raw_sums as (
    select
        period,
        figure_id,
        component_role,
        count(*) as raw_rows,
        count(distinct batch_id) as batches,
        sum(contribution) as raw_sum
    from raw_rows
    group by period, figure_id, component_role
),

levels as (
    select
        components.period,
        components.figure_id,
        components.component_role,
        components.indicator_code,
        case components.component_role
            when 'numerator' then rollups.numerator_value
            when 'denominator' then rollups.denominator_value
            else rollups.indicator_value
        end as rollup_value,
        agency_sums.agency_sum,
        coalesce(daily_sums.daily_rows, 0) as daily_rows,
        coalesce(daily_sums.daily_sum, 0) as daily_sum,
        coalesce(raw_sums.raw_rows, 0) as raw_rows,
        coalesce(raw_sums.batches, 0) as batches,
        coalesce(raw_sums.raw_sum, 0) as raw_sum
    from components
    inner join rollups on components.period = rollups.period_label and components.figure_id = rollups.indicator_code
    left join agency_sums
        on components.period = agency_sums.period and components.indicator_code = agency_sums.indicator_code
    left join daily_sums
        on
            components.period = daily_sums.period
            and components.figure_id = daily_sums.figure_id
            and components.component_role = daily_sums.component_role
    left join raw_sums
        on
            components.period = raw_sums.period
            and components.figure_id = raw_sums.figure_id
            and components.component_role = raw_sums.component_role
),

final as (
    select
        *,
        coalesce(agency_sum, 0) = coalesce(rollup_value, 0) as rollup_equals_agency_sum,
        round(daily_sum, 6) = rollup_value as rollup_equals_daily_facts,
        raw_sum = daily_sum as daily_facts_equal_raw_rows
    from levels
)

select * from final
