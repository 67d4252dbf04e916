with

source as (
    select * from {{ source('ca', 'ca__certificates') }}
),

renamed as (
    select
        payload ->> 'serial' as certificate_serial,
        payload ->> 'holder_type' as holder_type,
        payload ->> 'holder_name' as holder_name,
        payload ->> 'agency_code' as agency_code,
        (payload ->> 'issued_at')::timestamptz as issued_at,
        (payload ->> 'expires_at')::timestamptz as expires_at,
        (payload ->> 'revoked_at')::timestamptz as revoked_at,
        (payload ->> 'updated_at')::timestamptz as updated_at,
        batch_id,
        loaded_at
    from source
)

select * from renamed
