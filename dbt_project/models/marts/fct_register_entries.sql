{{ config(indexes=[{'columns': ['entry_date']}]) }}

-- One row per entry of the department's registers: licences, e-game point certificates,
-- inspections and complaints, dated by the entry's own date (issue, inspection, receipt).

with

licences as (
    select * from {{ ref('stg_registers__publishing_licences') }}
),

certificates as (
    select * from {{ ref('stg_registers__game_point_certificates') }}
),

inspections as (
    select * from {{ ref('stg_registers__inspections') }}
),

complaints as (
    select * from {{ ref('stg_registers__complaints') }}
),

entries as (
    select
        'publishing_licence' as entry_kind,
        licence_number as entry_number,
        issued_on as entry_date,
        null::int as entities_inspected,
        null::int as entities_with_violations,
        report_month_end,
        source_file,
        source_row,
        batch_id
    from licences
    union all
    select
        'game_point_certificate' as entry_kind,
        certificate_number as entry_number,
        issued_on as entry_date,
        null::int as entities_inspected,
        null::int as entities_with_violations,
        report_month_end,
        source_file,
        source_row,
        batch_id
    from certificates
    union all
    select
        'inspection' as entry_kind,
        decision_number as entry_number,
        inspected_on as entry_date,
        entities_inspected,
        entities_with_violations,
        report_month_end,
        source_file,
        source_row,
        batch_id
    from inspections
    union all
    select
        'complaint' as entry_kind,
        complaint_number as entry_number,
        received_on as entry_date,
        null::int as entities_inspected,
        null::int as entities_with_violations,
        report_month_end,
        source_file,
        source_row,
        batch_id
    from complaints
),

final as (
    select
        entry_kind::text as entry_kind,
        entry_number::text as entry_number,
        entry_date::date as entry_date,
        entities_inspected::int as entities_inspected,
        entities_with_violations::int as entities_with_violations,
        report_month_end::date as report_month_end,
        source_file::text as source_file,
        source_row::int as source_row,
        batch_id::uuid as source_batch_id
    from entries
)

select * from final
