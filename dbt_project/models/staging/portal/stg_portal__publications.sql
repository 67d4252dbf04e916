with

source as (
    select * from {{ source('portal', 'portal__publications') }}
),

renamed as (
    select
        (payload ->> 'event_id')::bigint as event_id,
        (payload ->> 'published_at')::timestamptz as published_at,
        record_date as published_on,
        payload ->> 'event_type' as event_type,
        payload ->> 'language' as language_code,
        payload ->> 'title' as title,
        batch_id,
        loaded_at
    from source
)

select * from renamed
