-- The raw rows behind each figure of each period, as loaded from the source systems, with each row's
-- contribution to a daily value (lineage_indicator_raw_rows): the bottom of a figure's trace.
-- For one figure, filter on period and figure_id; `egov trace` queries the underlying view with the
-- indicator and days as constants, which lets PostgreSQL skip every other indicator's branch.

with

components as (
    select * from {{ ref('lineage_figure_components') }}
),

raw_rows as (
    select * from {{ ref('lineage_indicator_raw_rows') }}
),

final as (
    select
        components.period,
        components.figure_id,
        components.component_role,
        raw_rows.indicator_code,
        raw_rows.date_day,
        raw_rows.agency_code,
        raw_rows.raw_table,
        raw_rows.batch_id,
        raw_rows.record_index,
        raw_rows.contribution
    from components
    inner join raw_rows
        on
            components.indicator_code = raw_rows.indicator_code
            and raw_rows.date_day between components.first_day and components.last_day
)

select * from final
