with

source as (
    select * from {{ source('onestop', 'onestop__procedures') }}
),

renamed as (
    select
        payload ->> 'code' as procedure_code,
        payload ->> 'name' as procedure_name,
        payload ->> 'field' as procedure_field,
        payload ->> 'tier' as procedure_tier,
        payload ->> 'agency_code' as agency_code,
        (payload ->> 'service_level')::smallint as service_level,
        (payload ->> 'valid_from')::date as valid_from,
        (payload ->> 'valid_to')::date as valid_to,
        batch_id,
        loaded_at
    from source
)

select * from renamed
