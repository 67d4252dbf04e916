{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='fail',
        pre_hook="{{ delete_reloaded_days('raw.onestop__daily_closes') }}",
        indexes=[{'columns': ['date_day', 'agency_code']}, {'columns': ['source_loaded_at']}],
    )
}}

-- Incremental like fct_onestop_dossiers_daily (macros/reloaded_days.sql).
-- depends_on: {{ ref('stg_audit__load_batches') }}
-- One row per unit and day that the unit closed, with its control totals; the gate checks
-- coverage (every unit, every day) and reconciles the detail facts against these totals.

with

closes as (
    select * from {{ ref('stg_onestop__daily_closes') }}
    {% if is_incremental() %}
        where report_date in ({{ reloaded_days('raw.onestop__daily_closes') }})
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
