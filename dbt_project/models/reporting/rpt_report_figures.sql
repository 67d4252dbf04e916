-- The seed report's figures for every quarter the warehouse holds, one row per period and
-- figure. Flows are summed over the quarter; stocks are taken as of the quarter's last day.

with

quarterly as (
    select * from {{ ref('rpt_onestop_quarterly') }}
),

agencies as (
    select * from {{ ref('dim_agency') }}
),

procedures as (
    select * from {{ ref('dim_procedure') }}
),

catalogue as (
    select * from {{ ref('report_figure_catalogue') }}
),

periods as (
    select distinct
        period,
        period_start,
        period_end
    from quarterly
),

flows as (
    select
        period,
        sum(dossier_count) filter (where event_code = 'received') as onestop_dossiers_received,
        sum(dossier_count) filter (
            where event_code in ('resolved_on_time', 'resolved_late')
        ) as onestop_dossiers_resolved,
        sum(dossier_count) filter (
            where event_code = 'received' and service_level = 3 and channel_code = 'in_person'
        ) as level3_dossiers_direct,
        sum(dossier_count) filter (
            where event_code = 'received' and service_level = 3 and channel_code = 'online'
        ) as level3_dossiers_online,
        sum(dossier_count) filter (
            where event_code = 'received' and service_level = 4 and channel_code = 'in_person'
        ) as level4_dossiers_direct,
        sum(dossier_count) filter (
            where event_code = 'received' and service_level = 4 and channel_code = 'online'
        ) as level4_dossiers_online
    from quarterly
    group by period
),

unit_stocks as (
    select
        periods.period,
        count(*) filter (where agencies.agency_level = 'province') as onestop_units_province,
        count(*) filter (where agencies.agency_level = 'district') as onestop_units_district,
        count(*) filter (where agencies.agency_level = 'commune') as onestop_units_commune
    from periods
    inner join agencies on periods.period_end >= agencies.onboarded_on
    group by periods.period
),

procedure_stocks as (
    select
        periods.period,
        count(*) as onestop_procedures,
        count(*) filter (where procedures.service_level in (3, 4)) as online_services_level34,
        count(*) filter (where procedures.service_level = 3) as online_services_level3,
        count(*) filter (where procedures.service_level = 4) as online_services_level4
    from periods
    inner join procedures
        on
            periods.period_end >= procedures.valid_from
            and (periods.period_end < procedures.valid_to or procedures.valid_to is null)
    group by periods.period
),

wide as (
    select
        periods.period,
        periods.period_start,
        periods.period_end,
        flows.onestop_dossiers_received,
        flows.onestop_dossiers_resolved,
        flows.level3_dossiers_direct,
        flows.level3_dossiers_online,
        flows.level4_dossiers_direct,
        flows.level4_dossiers_online,
        unit_stocks.onestop_units_province,
        unit_stocks.onestop_units_district,
        unit_stocks.onestop_units_commune,
        procedure_stocks.onestop_procedures,
        procedure_stocks.online_services_level34,
        procedure_stocks.online_services_level3,
        procedure_stocks.online_services_level4
    from periods
    left join flows on periods.period = flows.period
    left join unit_stocks on periods.period = unit_stocks.period
    left join procedure_stocks on periods.period = procedure_stocks.period
),

long_form as (
    select
        wide.period,
        wide.period_start,
        wide.period_end,
        figure.figure_id,
        figure.value
    from wide
    cross join lateral (
        values
        ('onestop_dossiers_received', wide.onestop_dossiers_received),
        ('onestop_dossiers_resolved', wide.onestop_dossiers_resolved),
        ('level3_dossiers_direct', wide.level3_dossiers_direct),
        ('level3_dossiers_online', wide.level3_dossiers_online),
        ('level4_dossiers_direct', wide.level4_dossiers_direct),
        ('level4_dossiers_online', wide.level4_dossiers_online),
        ('onestop_units_province', wide.onestop_units_province),
        ('onestop_units_district', wide.onestop_units_district),
        ('onestop_units_commune', wide.onestop_units_commune),
        ('onestop_procedures', wide.onestop_procedures),
        ('online_services_level34', wide.online_services_level34),
        ('online_services_level3', wide.online_services_level3),
        ('online_services_level4', wide.online_services_level4)
    ) as figure (figure_id, value)
),

final as (
    select
        long_form.period::text as period,
        long_form.period_start::date as period_start,
        long_form.period_end::date as period_end,
        long_form.figure_id::text as figure_id,
        catalogue.source_system::text as source_system,
        catalogue.measure_kind::text as measure_kind,
        -- A flow with no events in the quarter is zero; a missing stock stays null for the gate.
        (case
            when catalogue.measure_kind = 'flow' then coalesce(long_form.value, 0)
            else long_form.value
        end)::numeric(20, 6) as figure_value,
        catalogue.unit::text as unit,
        catalogue.display_order::int as display_order
    from long_form
    inner join catalogue on long_form.figure_id = catalogue.figure_id
)

select * from final
