{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='fail',
        indexes=[{'columns': ['date_day', 'agency_code']}],
    )
}}

-- One row per unit and day that the unit closed, with its control totals; the gate checks
-- coverage (every unit, every day) and reconciles the detail facts against these totals.

with

{% if is_incremental() %}
    reloaded_days as (
        select distinct staged.report_date
        from {{ ref('stg_onestop__daily_closes') }} as staged
        where staged.loaded_at > (
            select coalesce(max(built.source_loaded_at), '-infinity') from {{ this }} as built
        )
    ),
{% endif %}

closes as (
    select * from {{ ref('stg_onestop__daily_closes') }}
    {% if is_incremental() %}
        where report_date in (select reloaded_days.report_date from reloaded_days)
    {% endif %}
),

final as (
    select
        report_date as date_day,
        agency_code,
        dossiers_received,
        dossiers_resolved,
        dossiers_pending,
        closed_at,
        batch_id as source_batch_id,
        loaded_at as source_loaded_at
    from closes
)

select * from final
