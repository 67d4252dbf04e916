{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='fail',
        pre_hook="{{ delete_reloaded_days('raw.onestop__dossier_counts') }}",
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['agency_code', 'date_day']},
            {'columns': ['source_loaded_at']},
        ],
    )
}}

-- Incremental by load, not by date (macros/reloaded_days.sql): the days rebuilt are those of the
-- batches loaded since the last build, so a late reload or a backfill of an old window is
-- picked up while a daily run reads only its new batch.
-- depends_on: {{ ref('stg_audit__load_batches') }}

with

counts as (
    select * from {{ ref('stg_onestop__dossier_counts') }}
    {% if is_incremental() %}
        where report_date in ({{ reloaded_days('raw.onestop__dossier_counts') }})
    {% endif %}
),

-- A dossier is attributed to the procedure version that started last on or before its day:
-- dossiers received before a procedure was abolished are still resolved after it.
procedure_versions as (
    select
        procedure_code,
        procedure_version_key,
        service_level,
        valid_from,
        lead(valid_from) over (partition by procedure_code order by valid_from) as next_valid_from
    from {{ ref('dim_procedure') }}
),

final as (
    select
        counts.report_date as date_day,
        counts.agency_code,
        counts.procedure_code,
        procedure_versions.procedure_version_key,
        procedure_versions.service_level,
        counts.channel_code,
        counts.event_code,
        counts.dossier_count,
        counts.batch_id as source_batch_id,
        counts.loaded_at as source_loaded_at
    from counts
    left join procedure_versions
        on
            counts.procedure_code = procedure_versions.procedure_code
            and counts.report_date >= procedure_versions.valid_from
            and (
                counts.report_date < procedure_versions.next_valid_from
                or procedure_versions.next_valid_from is null
            )
)

select * from final
