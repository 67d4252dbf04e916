-- How far each source has been loaded: the last day any of its dated batches covered. A stock is
-- known for a day only up to there, so snapshots stop at it rather than run on with stale data.

with

batches as (
    select * from {{ ref('stg_audit__load_batches') }}
    where window_start is not null
),

final as (
    select
        split_part(split_part(raw_table, '.', 2), '__', 1) as source_key,
        min(window_start) as first_loaded_day,
        max(window_end) - 1 as last_loaded_day
    from batches
    group by split_part(split_part(raw_table, '.', 2), '__', 1)
)

select * from final
