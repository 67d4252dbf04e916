{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='fail',
        pre_hook="{{ delete_reloaded_days('raw.portal__publications') }}",
        indexes=[{'columns': ['date_day']}, {'columns': ['source_loaded_at']}],
    )
}}

-- Publication events of the main portal per day × event type × language.
-- depends_on: {{ ref('stg_audit__load_batches') }}

with

publications as (
    select * from {{ ref('stg_portal__publications') }}
    {% if is_incremental() %}
        where published_on in ({{ reloaded_days('raw.portal__publications') }})
    {% endif %}
),

final as (
    select
        published_on as date_day,
        event_type,
        language_code,
        count(*)::int as publication_count,
        min(batch_id::text)::uuid as source_batch_id,
        max(loaded_at) as source_loaded_at
    from publications
    group by published_on, event_type, language_code
)

select * from final
