{{ config(indexes=[{'columns': ['period', 'figure_id'], 'unique': true}]) }}

-- The seed report's figures for every quarter and year the warehouse holds, one row per period
-- and figure, in the report's order. Each figure is the province-wide value of the indicator with
-- the same code, so flows are summed, stocks taken at the period's end and ratios recomputed.

with

indicator_periods as (
    select * from {{ ref('rpt_indicator_period') }}
),

catalogue as (
    select * from {{ ref('report_figure_catalogue') }}
),

final as (
    select
        indicator_periods.period_label::text as period,
        indicator_periods.period_kind::text as period_kind,
        indicator_periods.period_start::date as period_start,
        indicator_periods.period_end::date as period_end,
        catalogue.figure_id::text as figure_id,
        catalogue.source_system::text as source_system,
        indicator_periods.measure_kind::text as measure_kind,
        indicator_periods.indicator_value::numeric(20, 6) as figure_value,
        catalogue.unit::text as unit,
        catalogue.display_order::int as display_order
    from indicator_periods
    inner join catalogue on indicator_periods.indicator_code = catalogue.figure_id
)

select * from final
