{{ config(indexes=[{'columns': ['indicator_code', 'date_day']}]) }}

-- Every indicator of dim_indicator that is a flow or a stock, as one stream of daily values per
-- agency (agency_code is null for system-wide indicators: portal, registers, the catalogue).
-- Ratios are not here: they are recomputed from their numerator and denominator per period.

with

dossiers as (
    select * from {{ ref('fct_onestop_dossiers_daily') }}
),

closes as (
    select * from {{ ref('fct_onestop_daily_closes') }}
),

agencies as (
    select * from {{ ref('dim_agency') }}
),

procedures as (
    select * from {{ ref('dim_procedure') }}
),

-- The one-stop system's reference stocks (units, catalogue) for the days it has been loaded to.
days as (
    select date_day from {{ ref('int_source_days') }}
    where source_key = 'onestop'
),

onestop_flows as (
    select
        dossiers.date_day,
        dossiers.agency_code,
        flow.indicator_code,
        sum(dossiers.dossier_count) as indicator_value
    from dossiers
    cross join
        lateral (
            values
            ('onestop_dossiers_received', dossiers.event_code = 'received'),
            ('onestop_dossiers_resolved', dossiers.event_code in ('resolved_on_time', 'resolved_late')),
            ('onestop_dossiers_resolved_on_time', dossiers.event_code = 'resolved_on_time'),
            (
                'level3_dossiers_direct',
                dossiers.event_code = 'received' and dossiers.service_level = 3 and dossiers.channel_code = 'in_person'
            ),
            (
                'level3_dossiers_online',
                dossiers.event_code = 'received' and dossiers.service_level = 3 and dossiers.channel_code = 'online'
            ),
            (
                'level4_dossiers_direct',
                dossiers.event_code = 'received' and dossiers.service_level = 4 and dossiers.channel_code = 'in_person'
            ),
            (
                'level4_dossiers_online',
                dossiers.event_code = 'received' and dossiers.service_level = 4 and dossiers.channel_code = 'online'
            ),
            (
                'onestop_dossiers_level34_received',
                dossiers.event_code = 'received' and dossiers.service_level in (3, 4)
            ),
            (
                'onestop_dossiers_level34_online',
                dossiers.event_code = 'received'
                and dossiers.service_level in (3, 4)
                and dossiers.channel_code = 'online'
            )
        ) as flow (indicator_code, applies)
    where flow.applies
    group by dossiers.date_day, dossiers.agency_code, flow.indicator_code
),

onestop_pending as (
    select
        date_day,
        agency_code,
        'onestop_dossiers_pending' as indicator_code,
        dossiers_pending as indicator_value
    from closes
),

onestop_units as (
    select
        days.date_day,
        agencies.agency_code,
        'onestop_units_' || agencies.agency_level as indicator_code,
        1 as indicator_value
    from days
    inner join agencies on agencies.is_onestop_unit and days.date_day >= agencies.onboarded_on
),

catalogue_stocks as (
    select
        days.date_day,
        null as agency_code,
        stock.indicator_code,
        count(*) as indicator_value
    from days
    inner join procedures
        on
            days.date_day >= procedures.valid_from
            and (days.date_day < procedures.valid_to or procedures.valid_to is null)
    cross join
        lateral (
            values
            ('onestop_procedures', true),
            ('online_services_level34', procedures.service_level in (3, 4)),
            ('online_services_level3', procedures.service_level = 3),
            ('online_services_level4', procedures.service_level = 4)
        ) as stock (indicator_code, applies)
    where stock.applies
    group by days.date_day, stock.indicator_code
),

documents as (
    select
        date_day,
        agency_code,
        'docmgmt_documents_total' as indicator_code,
        sum(document_count) as indicator_value
    from {{ ref('fct_documents_daily') }}
    group by date_day, agency_code
    union all
    select
        date_day,
        agency_code,
        'docmgmt_documents_exchanged' as indicator_code,
        document_count as indicator_value
    from {{ ref('fct_documents_daily') }}
    where medium = 'electronic'
),

users as (
    select
        date_day,
        agency_code,
        'docmgmt_users' as indicator_code,
        active_users as indicator_value
    from {{ ref('fct_docmgmt_users_daily') }}
),

certificates as (
    select
        date_day,
        agency_code,
        case holder_type
            when 'organisation' then 'digital_signature_certificates_active_org'
            when 'person' then 'digital_signature_certificates_active_person'
        end as indicator_code,
        active_certificates as indicator_value
    from {{ ref('fct_certificates_active_daily') }}
    union all
    select
        date_day,
        agency_code,
        'digital_signature_certificates_active' as indicator_code,
        sum(active_certificates) as indicator_value
    from {{ ref('fct_certificates_active_daily') }}
    group by date_day, agency_code
),

mail as (
    select
        mail_day.date_day,
        mail_day.agency_code,
        measure.indicator_code,
        measure.indicator_value
    from {{ ref('fct_mail_accounts_daily') }} as mail_day
    cross join lateral (
        values
        ('mail_accounts_created', mail_day.accounts_created),
        ('mail_accounts_closed', mail_day.accounts_closed),
        ('mail_accounts_total', mail_day.accounts_total)
    ) as measure (indicator_code, indicator_value)
),

portal as (
    select
        date_day,
        null as agency_code,
        case event_type
            when 'news' then 'portal_news_published'
            when 'translation_en' then 'portal_translations_en'
            when 'translation_km' then 'portal_translations_km'
            when 'procedure_decision' then 'portal_procedure_decisions_updated'
            when 'audio_bulletin' then 'portal_audio_bulletins'
            when 'citizen_question' then 'portal_questions_received'
            when 'draft_for_comment' then 'portal_draft_documents_for_comment'
            when 'legal_dissemination' then 'portal_legal_documents_posted'
            when 'banner_removed' then 'portal_banners_removed'
        end as indicator_code,
        sum(publication_count) as indicator_value
    from {{ ref('fct_portal_publications_daily') }}
    group by date_day, event_type
    union all
    select
        inventory.date_day,
        null as agency_code,
        measure.indicator_code,
        measure.indicator_value
    from {{ ref('fct_portal_inventory_daily') }} as inventory
    cross join lateral (
        values
        ('portal_component_sites', inventory.component_sites_live),
        ('portal_languages', inventory.languages_enabled)
    ) as measure (indicator_code, indicator_value)
),

registers as (
    select
        entries.entry_date as date_day,
        null as agency_code,
        measure.indicator_code,
        sum(measure.indicator_value) as indicator_value
    from {{ ref('fct_register_entries') }} as entries
    cross join
        lateral (
            values
            ('publishing_licenses_issued', (entries.entry_kind = 'publishing_licence')::int),
            ('game_point_certificates_issued', (entries.entry_kind = 'game_point_certificate')::int),
            ('inspections_conducted', (entries.entry_kind = 'inspection')::int),
            ('inspected_entities', entries.entities_inspected),
            ('inspected_entities_with_violations', entries.entities_with_violations),
            ('complaints_received', (entries.entry_kind = 'complaint')::int)
        ) as measure (indicator_code, indicator_value)
    where measure.indicator_value is not null
    group by entries.entry_date, measure.indicator_code
    union all
    select
        date_day,
        agency_code,
        'data_network_agencies' as indicator_code,
        1 as indicator_value
    from {{ ref('fct_data_network_daily') }}
),

unioned as (
    select * from onestop_flows
    union all
    select * from onestop_pending
    union all
    select * from onestop_units
    union all
    select * from catalogue_stocks
    union all
    select * from documents
    union all
    select * from users
    union all
    select * from certificates
    union all
    select * from mail
    union all
    select * from portal
    union all
    select * from registers
),

final as (
    select
        date_day::date as date_day,
        indicator_code::text as indicator_code,
        agency_code::text as agency_code,
        indicator_value::numeric as indicator_value
    from unioned
)

select * from final
