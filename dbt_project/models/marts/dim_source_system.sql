with

systems as (
    select * from {{ ref('source_systems') }}
),

final as (
    select
        source_system::text as source_system,
        source_key::text as source_key,
        system_name_vi::text as system_name_vi,
        system_name_en::text as system_name_en,
        interface::text as interface,
        owner_agency_code::text as owner_agency_code
    from systems
)

select * from final
