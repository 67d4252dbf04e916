with

source as (
    select * from {{ source('onestop', 'onestop__daily_closes') }}
),

renamed as (
    select
        record_date as report_date,
        payload ->> 'unit_code' as agency_code,
        (payload ->> 'received')::integer as dossiers_received,
        (payload ->> 'resolved')::integer as dossiers_resolved,
        (payload ->> 'pending_end_of_day')::integer as dossiers_pending,
        (payload ->> 'closed_at')::timestamptz as closed_at,
        batch_id,
        loaded_at
    from source
)

select * from renamed
