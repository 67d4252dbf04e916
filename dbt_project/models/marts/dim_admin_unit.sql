-- Administrative units as SCD2 versions, with where each version's territory is today: the
-- successor chain is followed to the current version of the commune and of the province, so facts
-- can be rolled up "as was" (the boundaries of their day) or "as is" (today's). A chain can pass
-- through a reused code: Phường 2 (29245) went into Phường 3 (29242) on 1 January 2025, and Phường 3
-- into Phường Trà Vinh, which kept the code 29242, on 1 July 2025; each step joins the version in
-- force on the day the previous one ended, so the chain ends at Phường Trà Vinh.

with recursive

versions as (
    select * from {{ ref('admin_units') }}
),

successor_chain as (
    select
        admin_unit_code as start_code,
        valid_from as start_valid_from,
        admin_unit_code as current_unit,
        successor_code,
        valid_to
    from versions
    union all
    select
        previous.start_code,
        previous.start_valid_from,
        next_version.admin_unit_code as current_unit,
        next_version.successor_code,
        next_version.valid_to
    from successor_chain as previous
    inner join versions as next_version
        on
            previous.successor_code = next_version.admin_unit_code
            and previous.valid_to >= next_version.valid_from
            and (previous.valid_to < next_version.valid_to or next_version.valid_to is null)
    where previous.valid_to is not null
),

current_successor as (
    select
        start_code,
        start_valid_from,
        current_unit
    from successor_chain
    where valid_to is null
),

-- A unit whose level was abolished (districts in July 2025) has no successor of its own: its
-- territory is today in the current unit of the level above it. For Trà Vinh's districts that is the
-- province (Vĩnh Long), not a commune: their communes went to several new communes, and some new
-- communes took in communes of two districts (Phường Nguyệt Hóa: Phường 7 and 8 of the city, Xã Nguyệt
-- Hóa of Châu Thành), so no commune holds a whole district. A district's figures therefore count, on
-- today's boundaries, only in the province total; its communes' figures go to their new communes.
resolved as (
    select
        versions.admin_unit_code,
        versions.valid_from,
        coalesce(own.current_unit, parent.current_unit) as current_unit
    from versions
    left join current_successor as own
        on versions.admin_unit_code = own.start_code and versions.valid_from = own.start_valid_from
    left join versions as parent_version
        on
            versions.parent_code = parent_version.admin_unit_code
            and versions.valid_from >= parent_version.valid_from
            and (versions.valid_from < parent_version.valid_to or parent_version.valid_to is null)
    left join current_successor as parent
        on
            parent_version.admin_unit_code = parent.start_code
            and parent_version.valid_from = parent.start_valid_from
),

final as (
    select
        (versions.admin_unit_code || '@' || versions.valid_from)::text as admin_unit_key,
        versions.admin_unit_code::text as admin_unit_code,
        versions.admin_unit_name::text as admin_unit_name,
        versions.unit_type::text as unit_type,
        versions.admin_level::text as admin_level,
        nullif(versions.parent_code, '')::text as parent_code,
        versions.valid_from::date as valid_from,
        versions.valid_to::date as valid_to,
        (versions.valid_to is null) as is_current,
        nullif(versions.successor_code, '')::text as successor_code,
        resolved.current_unit::text as current_unit_code,
        versions.change_basis::text as change_basis
    from versions
    inner join resolved
        on versions.admin_unit_code = resolved.admin_unit_code and versions.valid_from = resolved.valid_from
)

select * from final
