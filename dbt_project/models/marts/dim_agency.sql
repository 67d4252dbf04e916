with

units as (
    select * from {{ ref('stg_onestop__units') }}
),

final as (
    select
        agency_code,
        agency_name,
        agency_level,
        parent_code,
        admin_unit_code,
        onboarded_on,
        batch_id as source_batch_id
    from units
)

select * from final
