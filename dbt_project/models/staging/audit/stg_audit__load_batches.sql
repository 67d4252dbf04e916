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
        request,
        pages,
        row_count,
        rejected_count,
        checksum,
        replaced_rows,
        loaded_at,
        dag_id,
        run_id,
        task_id
    from source
)

select * from renamed
