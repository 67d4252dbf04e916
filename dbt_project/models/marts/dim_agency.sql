-- The units of the one-stop system (province-level agencies, district and commune people's
-- committees), plus the Party and state bodies that appear only in the data-network register.

with

units as (
    select * from {{ ref('stg_onestop__units') }}
),

network_agencies as (
    select distinct on (agency_code)
        agency_code,
        agency_name,
        batch_id
    from {{ ref('stg_registers__data_network_agencies') }}
    order by agency_code asc, report_month_end desc
),

onestop_units as (
    select
        agency_code,
        agency_name,
        agency_level,
        parent_code,
        admin_unit_code,
        onboarded_on,
        true as is_onestop_unit,
        batch_id as source_batch_id
    from units
),

other_bodies as (
    select
        network_agencies.agency_code,
        network_agencies.agency_name,
        'province' as agency_level,
        '84' as parent_code,
        '84' as admin_unit_code,
        null::date as onboarded_on,
        false as is_onestop_unit,
        network_agencies.batch_id as source_batch_id
    from network_agencies
    where network_agencies.agency_code not in (select onestop_units.agency_code from onestop_units)
),

final as (
    select * from onestop_units
    union all
    select * from other_bodies
)

select * from final
