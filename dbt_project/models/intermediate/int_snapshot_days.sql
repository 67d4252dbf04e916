-- The days daily snapshots are taken for: from the start of the warehouse's history to the last day
-- any dated source has been loaded for, so a stock is never reported for a day no data reached.

with

dates as (
    select * from {{ ref('dim_date') }}
),

loaded as (
    select max(window_end) - 1 as last_loaded_day
    from {{ ref('stg_audit__load_batches') }}
    where window_start is not null
),

final as (
    select dates.date_day
    from dates
    cross join loaded
    where dates.date_day <= loaded.last_loaded_day
)

select * from final
