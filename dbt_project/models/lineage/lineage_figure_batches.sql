-- The load batches behind each figure of each period: which source system, which window, what was
-- asked (request or file), its checksum, when it was loaded and by which Airflow run, and how many of
-- its rows the figure uses.

with

raw_rows as (
    select * from {{ ref('lineage_figure_raw_rows') }}
),

batches as (
    select * from {{ ref('stg_audit__load_batches') }}
),

used as (
    select
        period,
        figure_id,
        batch_id,
        count(distinct record_index) as rows_used
    from raw_rows
    group by period, figure_id, batch_id
),

final as (
    select
        used.period,
        used.figure_id,
        used.batch_id,
        batches.source_system,
        batches.entity,
        batches.raw_table,
        batches.window_start,
        batches.window_end,
        batches.request,
        batches.checksum,
        batches.row_count,
        batches.rejected_count,
        batches.loaded_at,
        batches.dag_id,
        batches.run_id,
        used.rows_used
    from used
    inner join batches on used.batch_id = batches.batch_id
)

select * from final
