-- Every version of an administrative unit has a unit of today that holds its territory: a commune's is
-- a commune of today (the one it was merged into, through every merger since), a district's or a
-- province's is a province of today (the districts were abolished in July 2025 and their communes went
-- to several new ones, so no single commune holds a district).

with

units as (
    select * from {{ ref('dim_admin_unit') }}
),

final as (
    select
        units.admin_unit_key,
        units.admin_level,
        units.current_unit_code,
        today.admin_level as current_unit_level
    from units
    left join units as today on units.current_unit_code = today.admin_unit_code and today.is_current
    where
        today.admin_unit_key is null
        or (units.admin_level = 'commune' and today.admin_level <> 'commune')
        or (units.admin_level <> 'commune' and today.admin_level <> 'province')
)

select * from final
