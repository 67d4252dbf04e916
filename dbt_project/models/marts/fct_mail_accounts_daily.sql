{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='date_day',
        on_schema_change='fail',
        pre_hook="{{ delete_reloaded_days('raw.mail__accounts_daily') }}",
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['agency_code', 'date_day']},
            {'columns': ['source_loaded_at']},
        ],
    )
}}

-- Official mailboxes per day × agency: the day's flows (created, closed) and its closing stock, as
-- the mail system's daily export states them.
-- depends_on: {{ ref('stg_audit__load_batches') }}

with

exports as (
    select * from {{ ref('stg_mail__accounts_daily') }}
    {% if is_incremental() %}
        where report_date in ({{ reloaded_days('raw.mail__accounts_daily') }})
    {% endif %}
),

final as (
    select
        report_date as date_day,
        agency_code,
        accounts_created,
        accounts_closed,
        accounts_total,
        source_file,
        batch_id as source_batch_id,
        loaded_at as source_loaded_at
    from exports
)

select * from final
