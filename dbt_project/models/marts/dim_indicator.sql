with

catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

final as (
    select
        indicator_code::text as indicator_code,
        indicator_name_vi::text as indicator_name_vi,
        indicator_name_en::text as indicator_name_en,
        unit::text as unit,
        measure_kind::text as measure_kind,
        nullif(numerator_code, '')::text as numerator_code,
        nullif(denominator_code, '')::text as denominator_code,
        source_system::text as source_system,
        definition::text as definition,
        legal_basis::text as legal_basis,
        valid_from::date as valid_from,
        valid_to::date as valid_to
    from catalogue
)

select * from final
