with

source as (
    select * from {{ source('ca', 'ca__agencies') }}
),

renamed as (
    select
        payload ->> 'code' as agency_code,
        payload ->> 'name' as agency_name,
        batch_id,
        loaded_at
    from source
)

select * from renamed
