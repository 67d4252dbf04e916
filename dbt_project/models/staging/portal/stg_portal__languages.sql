with

source as (
    select * from {{ source('portal', 'portal__languages') }}
),

renamed as (
    select
        payload ->> 'code' as language_code,
        payload ->> 'name_vi' as language_name_vi,
        payload ->> 'name_en' as language_name_en,
        payload ->> 'native_name' as native_name,
        (payload ->> 'enabled_on')::date as enabled_on,
        batch_id,
        loaded_at
    from source
)

select * from renamed
