-- The days each source's snapshots are taken for: the history's days up to the last day that source
-- has been loaded to, so a stock never runs on past its data.

with

days as (
    select * from {{ ref('int_snapshot_days') }}
),

coverage as (
    select * from {{ ref('int_source_coverage') }}
),

final as (
    select
        coverage.source_key,
        days.date_day
    from coverage
    inner join days on coverage.last_loaded_day >= days.date_day
)

select * from final
