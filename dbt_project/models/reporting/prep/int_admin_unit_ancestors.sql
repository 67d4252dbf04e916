-- For every version of an administrative unit, itself and the units above it, each in the version
-- that was in force when the unit's version began (the province of a 2019 commune is Trà Vinh; of the
-- same commune today, Vĩnh Long). Ancestors are versions, not codes: a code can name two territories
-- (29242 is Phường 3 until 30 June 2025 and the larger Phường Trà Vinh from 1 July), and each version
-- finds the parent of its own time.

with recursive

units as (
    select * from {{ ref('dim_admin_unit') }}
),

ancestors as (
    select
        units.admin_unit_key,
        units.valid_from as as_of,
        units.admin_unit_key as ancestor_key,
        units.admin_unit_code as ancestor_code,
        units.admin_unit_name as ancestor_name,
        units.admin_level as ancestor_level,
        units.parent_code as next_code
    from units
    union all
    select
        ancestors.admin_unit_key,
        ancestors.as_of,
        parents.admin_unit_key as ancestor_key,
        parents.admin_unit_code,
        parents.admin_unit_name,
        parents.admin_level,
        parents.parent_code
    from ancestors
    inner join units as parents
        on
            ancestors.next_code = parents.admin_unit_code
            and ancestors.as_of >= parents.valid_from
            and (ancestors.as_of < parents.valid_to or parents.valid_to is null)
),

final as (
    select
        admin_unit_key,
        ancestor_key,
        ancestor_code,
        ancestor_name,
        ancestor_level
    from ancestors
)

select * from final
