with

source as (
    select * from {{ source('onestop', 'onestop__dossier_counts') }}
),

renamed as (
    select
        record_date as report_date,
        payload ->> 'unit_code' as agency_code,
        payload ->> 'procedure_code' as procedure_code,
        payload ->> 'channel' as channel_code,
        payload ->> 'event' as event_code,
        (payload ->> 'count')::integer as dossier_count,
        batch_id,
        record_index,
        loaded_at
    from source
)

select * from renamed
