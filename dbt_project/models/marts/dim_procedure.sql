-- SCD2 over the catalogue's version history: one row per procedure and service-level period.
with

versions as (
    select * from {{ ref('stg_onestop__procedures') }}
),

final as (
    select
        md5(procedure_code || '|' || valid_from::text) as procedure_version_key,
        procedure_code,
        procedure_name,
        procedure_field,
        procedure_tier,
        agency_code,
        service_level,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        batch_id as source_batch_id
    from versions
)

select * from final
