{{ config(indexes=[{'columns': ['date_day']}, {'columns': ['agency_code', 'date_day']}]) }}

-- Periodic snapshot: accounts in use per agency at the end of each day (created, not yet locked).

with

accounts as (
    select
        agency_code,
        created_at as started_at,
        disabled_at as ended_at
    from {{ ref('stg_docmgmt__users') }}
),

snapshot as (
    {{ running_stock('accounts', ['agency_code'], 'active_users', 'docmgmt') }}
),

final as (
    select
        date_day,
        agency_code,
        active_users
    from snapshot
    where active_users <> 0
)

select * from final
