with

source as (
    select * from {{ source('onestop', 'onestop__units') }}
),

renamed as (
    select
        payload ->> 'code' as agency_code,
        payload ->> 'name' as agency_name,
        payload ->> 'level' as agency_level,
        payload ->> 'parent_code' as parent_code,
        payload ->> 'admin_unit_code' as admin_unit_code,
        (payload ->> 'onboarded_on')::date as onboarded_on,
        batch_id,
        loaded_at
    from source
)

select * from renamed
