{{ config(indexes=[{'columns': ['date_day'], 'unique': true}]) }}

-- Periodic snapshot of the portal: component sites live and languages published in, per day.

with

days as (
    select date_day from {{ ref('int_source_days') }}
    where source_key = 'portal'
),

sites as (
    select * from {{ ref('stg_portal__sites') }}
),

languages as (
    select * from {{ ref('stg_portal__languages') }}
),

final as (
    select
        days.date_day,
        (
            select count(*) from sites
            where
                not sites.is_main_portal
                and sites.launched_on <= days.date_day
                and (sites.closed_on > days.date_day or sites.closed_on is null)
        )::int as component_sites_live,
        (
            select count(*) from languages
            where languages.enabled_on <= days.date_day
        )::int as languages_enabled
    from days
)

select * from final
