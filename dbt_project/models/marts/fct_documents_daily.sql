{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='fail',
        pre_hook="{{ delete_reloaded_days('raw.docmgmt__documents') }}",
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['agency_code', 'date_day']},
            {'columns': ['source_loaded_at']},
        ],
    )
}}

-- Documents sent between agencies per day × sending agency × medium. Incremental by load like the
-- one-stop facts (macros/reloaded_days.sql).
-- depends_on: {{ ref('stg_audit__load_batches') }}

with

documents as (
    select * from {{ ref('stg_docmgmt__documents') }}
    {% if is_incremental() %}
        where sent_on in ({{ reloaded_days('raw.docmgmt__documents') }})
    {% endif %}
),

final as (
    select
        sent_on as date_day,
        sender_agency_code as agency_code,
        medium,
        count(*)::int as document_count,
        -- A day's rows come from one batch: a reload replaces the whole day.
        min(batch_id::text)::uuid as source_batch_id,
        max(loaded_at) as source_loaded_at
    from documents
    group by sent_on, sender_agency_code, medium
)

select * from final
