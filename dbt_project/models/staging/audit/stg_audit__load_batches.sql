with

source as (
    select * from {{ source('audit', 'load_batches') }}
),

renamed as (
    select
        batch_id,
        source_system,
        entity,
        raw_table,
        window_start,
        window_end,
        row_count,
        rejected_count,
        loaded_at
    from source
)

select * from renamed
