with

source as (
    select * from {{ source('portal', 'portal__sites') }}
),

renamed as (
    select
        payload ->> 'site_code' as site_code,
        payload ->> 'name' as site_name,
        payload ->> 'url' as site_url,
        payload ->> 'agency_code' as agency_code,
        (payload ->> 'is_main_portal')::boolean as is_main_portal,
        (payload ->> 'launched_on')::date as launched_on,
        (payload ->> 'closed_on')::date as closed_on,
        batch_id,
        loaded_at
    from source
)

select * from renamed
