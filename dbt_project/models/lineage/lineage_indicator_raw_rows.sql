-- Each daily value of every flow and stock of int_indicator_daily, traced to the raw rows it came
-- from: one row per indicator × day × agency × raw row with the row's contribution to the value.
-- Deliberate deviation from "only staging calls source()": lineage re-derives every value from the
-- raw payloads, not from staging or the facts, so that its reconciliation with int_indicator_daily
-- (tests/assert_raw_lineage_reconciles_with_daily_indicators.sql) means something. It repeats the
-- facts' rules, so a change to one of them must be made here too.
-- Each indicator is a union-all branch with a constant indicator_code: a query for one indicator
-- plans only its branch, and its day range reaches the raw record_date index or the day list. CTEs
-- shared by branches are `not materialized` so that each branch inlines them with its filters.

{%- set tz = var('timezone') %}

{#- One entry per indicator: the CTE of rows it is read from, each row's contribution, and which
    rows contribute. A stock's rows are per day already. #}
{%- set received = "event_code = 'received'" %}
{%- set flows = [
    ('onestop_dossiers_received', 'dossier_counts', 'dossier_count', received),
    ('onestop_dossiers_resolved', 'dossier_counts', 'dossier_count',
        "event_code in ('resolved_on_time', 'resolved_late')"),
    ('onestop_dossiers_resolved_on_time', 'dossier_counts', 'dossier_count', "event_code = 'resolved_on_time'"),
    ('level3_dossiers_direct', 'dossiers_with_level', 'dossier_count',
        received ~ " and service_level = 3 and channel_code = 'in_person'"),
    ('level3_dossiers_online', 'dossiers_with_level', 'dossier_count',
        received ~ " and service_level = 3 and channel_code = 'online'"),
    ('level4_dossiers_direct', 'dossiers_with_level', 'dossier_count',
        received ~ " and service_level = 4 and channel_code = 'in_person'"),
    ('level4_dossiers_online', 'dossiers_with_level', 'dossier_count',
        received ~ " and service_level = 4 and channel_code = 'online'"),
    ('onestop_dossiers_level34_received', 'dossiers_with_level', 'dossier_count',
        received ~ ' and service_level in (3, 4)'),
    ('onestop_dossiers_level34_online', 'dossiers_with_level', 'dossier_count',
        received ~ " and service_level in (3, 4) and channel_code = 'online'"),
    ('docmgmt_documents_total', 'documents', '1', 'true'),
    ('docmgmt_documents_exchanged', 'documents', '1', "medium_code = 'dien_tu'"),
    ('mail_accounts_created', 'mail_exports', 'accounts_created', 'true'),
    ('mail_accounts_closed', 'mail_exports', 'accounts_closed', 'true'),
    ('portal_news_published', 'publications', '1', "event_type = 'news'"),
    ('portal_translations_en', 'publications', '1', "event_type = 'translation_en'"),
    ('portal_translations_km', 'publications', '1', "event_type = 'translation_km'"),
    ('portal_procedure_decisions_updated', 'publications', '1', "event_type = 'procedure_decision'"),
    ('portal_audio_bulletins', 'publications', '1', "event_type = 'audio_bulletin'"),
    ('portal_questions_received', 'publications', '1', "event_type = 'citizen_question'"),
    ('portal_draft_documents_for_comment', 'publications', '1', "event_type = 'draft_for_comment'"),
    ('portal_legal_documents_posted', 'publications', '1', "event_type = 'legal_dissemination'"),
    ('portal_banners_removed', 'publications', '1', "event_type = 'banner_removed'"),
    ('publishing_licenses_issued', 'register_entries', "(entry_kind = 'publishing_licence')::int", 'true'),
    ('game_point_certificates_issued', 'register_entries', "(entry_kind = 'game_point_certificate')::int", 'true'),
    ('inspections_conducted', 'register_entries', "(entry_kind = 'inspection')::int", 'true'),
    ('inspected_entities', 'register_entries', 'entities_inspected', 'entities_inspected is not null'),
    ('inspected_entities_with_violations', 'register_entries', 'entities_with_violations',
        'entities_with_violations is not null'),
    ('complaints_received', 'register_entries', "(entry_kind = 'complaint')::int", 'true'),
] %}
{%- set stocks = [
    ('onestop_dossiers_pending', 'daily_closes', 'dossiers_pending', 'true'),
    ('onestop_units_province', 'unit_days', '1', "agency_level = 'province'"),
    ('onestop_units_district', 'unit_days', '1', "agency_level = 'district'"),
    ('onestop_units_commune', 'unit_days', '1', "agency_level = 'commune'"),
    ('onestop_procedures', 'catalogue_days', '1', 'true'),
    ('online_services_level34', 'catalogue_days', '1', 'service_level in (3, 4)'),
    ('online_services_level3', 'catalogue_days', '1', 'service_level = 3'),
    ('online_services_level4', 'catalogue_days', '1', 'service_level = 4'),
    ('docmgmt_users', 'live_item_days', 'live_count', "source_key = 'docmgmt'"),
    ('digital_signature_certificates_active', 'live_item_days', 'live_count', "source_key = 'ca'"),
    ('digital_signature_certificates_active_org', 'live_item_days', 'live_count',
        "source_key = 'ca' and holder_type = 'organisation'"),
    ('digital_signature_certificates_active_person', 'live_item_days', 'live_count',
        "source_key = 'ca' and holder_type = 'person'"),
    ('mail_accounts_total', 'mail_exports', 'accounts_total', 'true'),
    ('portal_component_sites', 'portal_inventory_days', '(batch_id is not null)::int', "item_kind = 'site'"),
    ('portal_languages', 'portal_inventory_days', '(batch_id is not null)::int', "item_kind = 'language'"),
    ('data_network_agencies', 'network_agency_days', '1', 'true'),
] %}

with

-- Day bookkeeping, not values: the days each source is loaded to, as the snapshot facts use them.
source_days as not materialized (
    select
        source_key,
        date_day
    from {{ ref('int_source_days') }}
),

dossier_counts as not materialized (
    select
        'raw.onestop__dossier_counts' as raw_table,
        batch_id,
        record_index,
        record_date as date_day,
        payload ->> 'unit_code' as agency_code,
        payload ->> 'procedure_code' as procedure_code,
        payload ->> 'channel' as channel_code,
        payload ->> 'event' as event_code,
        (payload ->> 'count')::int as dossier_count
    from {{ source('onestop', 'onestop__dossier_counts') }}
),

raw_procedures as not materialized (
    select
        'raw.onestop__procedures' as raw_table,
        batch_id,
        record_index,
        payload ->> 'code' as procedure_code,
        (payload ->> 'service_level')::smallint as service_level,
        (payload ->> 'valid_from')::date as valid_from,
        (payload ->> 'valid_to')::date as valid_to
    from {{ source('onestop', 'onestop__procedures') }}
),

raw_units as (
    select
        'raw.onestop__units' as raw_table,
        batch_id,
        record_index,
        payload ->> 'code' as agency_code,
        payload ->> 'level' as agency_level,
        (payload ->> 'onboarded_on')::date as onboarded_on
    from {{ source('onestop', 'onestop__units') }}
),

-- As fct_onestop_dossiers_daily, a count has the level of the procedure version started last by its
-- day, looked up only for the indicators that depend on it. The catalogue is one row (code →
-- versions) each count looks its procedure up in: a join of the counts with the versions was planned
-- as a nested loop (seconds) whenever the planner underestimated the payload filters.
catalogue_by_code as (
    select jsonb_object_agg(procedure_code, versions) as versions_by_code
    from (
        select
            procedure_code,
            jsonb_agg(jsonb_build_array(valid_from, service_level)) as versions
        from raw_procedures
        group by procedure_code
    ) as per_code
),

dossiers_with_level as not materialized (
    select
        counts.raw_table,
        counts.batch_id,
        counts.record_index,
        counts.date_day,
        counts.agency_code,
        counts.channel_code,
        counts.event_code,
        counts.dossier_count,
        attributed.service_level
    from dossier_counts as counts
    cross join catalogue_by_code as catalogue
    left join lateral (
        select (procedure_version ->> 1)::smallint as service_level
        from jsonb_array_elements(catalogue.versions_by_code -> counts.procedure_code) as procedure_version
        where (procedure_version ->> 0)::date <= counts.date_day
        order by (procedure_version ->> 0)::date desc
        limit 1
    ) as attributed on true
),

daily_closes as (
    select
        'raw.onestop__daily_closes' as raw_table,
        batch_id,
        record_index,
        record_date as date_day,
        payload ->> 'unit_code' as agency_code,
        (payload ->> 'pending_end_of_day')::int as dossiers_pending
    from {{ source('onestop', 'onestop__daily_closes') }}
),

-- A unit counts from the day it was onboarded.
unit_days as not materialized (
    select
        raw_units.raw_table,
        raw_units.batch_id,
        raw_units.record_index,
        source_days.date_day,
        raw_units.agency_code,
        raw_units.agency_level
    from source_days
    inner join raw_units on source_days.date_day >= raw_units.onboarded_on
    where source_days.source_key = 'onestop'
),

-- The catalogue counts the procedure versions in force on the day.
catalogue_days as not materialized (
    select
        raw_procedures.raw_table,
        raw_procedures.batch_id,
        raw_procedures.record_index,
        source_days.date_day,
        null::text as agency_code,
        raw_procedures.service_level
    from source_days
    inner join raw_procedures
        on
            source_days.date_day >= raw_procedures.valid_from
            and (source_days.date_day < raw_procedures.valid_to or raw_procedures.valid_to is null)
    where source_days.source_key = 'onestop'
),

documents as not materialized (
    select
        'raw.docmgmt__documents' as raw_table,
        batch_id,
        record_index,
        record_date as date_day,
        payload ->> 'don_vi_gui' as agency_code,
        payload ->> 'hinh_thuc' as medium_code
    from {{ source('docmgmt', 'docmgmt__documents') }}
),

-- Running stocks (macros/running_stock.sql): an account or certificate counts +1 from the local day
-- it starts and -1 from the day it ends (an item ending before it starts counts -1 in between, as
-- the macro's running sum does). A null dimension never matches the macro's groups: it never counts.

docmgmt_users as (
    select
        'docmgmt' as source_key,
        'raw.docmgmt__users' as raw_table,
        batch_id,
        record_index,
        payload ->> 'ma_don_vi' as agency_code,
        null::text as holder_type,
        (payload ->> 'ngay_tao')::timestamptz as started_at,
        (payload ->> 'ngay_khoa')::timestamptz as ended_at
    from {{ source('docmgmt', 'docmgmt__users') }}
    where payload ->> 'ma_don_vi' is not null
),

-- As int_ca__certificates_current: the latest version of a certificate counts, on every day.
current_certificates as (
    select distinct on (payload ->> 'serial')
        'ca' as source_key,
        'raw.ca__certificates' as raw_table,
        batch_id,
        record_index,
        payload ->> 'agency_code' as agency_code,
        payload ->> 'holder_type' as holder_type,
        (payload ->> 'issued_at')::timestamptz as started_at,
        least((payload ->> 'expires_at')::timestamptz, (payload ->> 'revoked_at')::timestamptz) as ended_at
    from {{ source('ca', 'ca__certificates') }}
    order by
        payload ->> 'serial' asc,
        (payload ->> 'updated_at')::timestamptz desc,
        loaded_at desc,
        record_index desc
),

stock_items as not materialized (
    select
        items.source_key,
        items.raw_table,
        items.batch_id,
        items.record_index,
        items.agency_code,
        items.holder_type,
        (items.started_at at time zone '{{ tz }}' - interval '1 microsecond')::date as start_day,
        (items.ended_at at time zone '{{ tz }}' - interval '1 microsecond')::date as end_day
    from (
        select * from docmgmt_users
        union all
        select * from current_certificates
        where agency_code is not null and holder_type is not null
    ) as items
),

-- Each item on the days its count is not 0.
live_item_days as not materialized (
    select
        stock_items.source_key,
        stock_items.raw_table,
        stock_items.batch_id,
        stock_items.record_index,
        source_days.date_day,
        stock_items.agency_code,
        stock_items.holder_type,
        (stock_items.start_day <= source_days.date_day)::int
        - coalesce((stock_items.end_day <= source_days.date_day)::int, 0) as live_count
    from stock_items
    inner join source_days
        on
            stock_items.source_key = source_days.source_key
            and (stock_items.start_day <= source_days.date_day) is distinct from (
                stock_items.end_day is not null and stock_items.end_day <= source_days.date_day
            )
),

mail_exports as not materialized (
    select
        'raw.mail__accounts_daily' as raw_table,
        batch_id,
        record_index,
        record_date as date_day,
        payload ->> 'Mã đơn vị' as agency_code,
        (payload ->> 'Số tài khoản tạo mới')::int as accounts_created,
        (payload ->> 'Số tài khoản đóng')::int as accounts_closed,
        (payload ->> 'Tổng số tài khoản')::int as accounts_total
    from {{ source('mail', 'mail__accounts_daily') }}
),

publications as not materialized (
    select
        'raw.portal__publications' as raw_table,
        batch_id,
        record_index,
        record_date as date_day,
        null::text as agency_code,
        payload ->> 'event_type' as event_type
    from {{ source('portal', 'portal__publications') }}
),

portal_items as not materialized (
    select
        'site' as item_kind,
        'raw.portal__sites' as raw_table,
        batch_id,
        record_index,
        (payload ->> 'launched_on')::date as live_from,
        (payload ->> 'closed_on')::date as live_until
    from {{ source('portal', 'portal__sites') }}
    where not (payload ->> 'is_main_portal')::boolean
    union all
    select
        'language' as item_kind,
        'raw.portal__languages' as raw_table,
        batch_id,
        record_index,
        (payload ->> 'enabled_on')::date as live_from,
        null::date as live_until
    from {{ source('portal', 'portal__languages') }}
),

-- fct_portal_inventory_daily has every portal day: a day with nothing online is one 0 row, no raw row.
portal_inventory_days as not materialized (
    select
        portal_items.raw_table,
        portal_items.batch_id,
        portal_items.record_index,
        source_days.date_day,
        null::text as agency_code,
        kinds.item_kind
    from source_days
    cross join (values ('site'), ('language')) as kinds (item_kind)
    left join portal_items
        on
            kinds.item_kind = portal_items.item_kind
            and source_days.date_day >= portal_items.live_from
            and (source_days.date_day < portal_items.live_until or portal_items.live_until is null)
    where source_days.source_key = 'portal'
),

-- Registers: rows are stamped with their workbook's month ("Tháng báo cáo", landed as record_date);
-- an entry counts on its own date, and gives every count indicator a value then (0 for other kinds).

register_entries as not materialized (
    {%- for entry_kind, sheet, date_field in [
        ('publishing_licence', 'registers__publishing_licences', 'Ngày cấp'),
        ('game_point_certificate', 'registers__game_point_certificates', 'Ngày cấp'),
        ('inspection', 'registers__inspections', 'Ngày kiểm tra'),
        ('complaint', 'registers__complaints', 'Ngày tiếp nhận'),
    ] %}
        select
            '{{ entry_kind }}' as entry_kind,
            'raw.{{ sheet }}' as raw_table,
            batch_id,
            record_index,
            (payload ->> '{{ date_field }}')::date as date_day,
            null::text as agency_code,
            -- Only the inspections sheet has these columns.
            (payload ->> 'Số tổ chức, cá nhân được kiểm tra')::int as entities_inspected,
            (payload ->> 'Số tổ chức, cá nhân có thiếu sót, vi phạm')::int as entities_with_violations
        from {{ source('registers', sheet) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

network_register as not materialized (
    select
        'raw.registers__data_network_agencies' as raw_table,
        batch_id,
        record_index,
        record_date as report_month_end,
        payload ->> 'Mã cơ quan' as agency_code,
        (payload ->> 'Ngày kết nối')::date as connected_on,
        (payload ->> 'Ngày ngừng kết nối')::date as disconnected_on
    from {{ source('registers', 'registers__data_network_agencies') }}
),

-- As fct_data_network_daily: a day is read from the first monthly register ending on or after it.
network_covering_months as (
    select
        source_days.date_day,
        min(network_register.report_month_end) as report_month_end
    from source_days
    inner join network_register on source_days.date_day <= network_register.report_month_end
    where source_days.source_key = 'registers'
    group by source_days.date_day
),

network_agency_days as (
    select
        network_register.raw_table,
        network_register.batch_id,
        network_register.record_index,
        network_covering_months.date_day,
        network_register.agency_code
    from network_covering_months
    inner join network_register
        on
            network_covering_months.report_month_end = network_register.report_month_end
            and network_covering_months.date_day >= network_register.connected_on
            and (
                network_covering_months.date_day < network_register.disconnected_on
                or network_register.disconnected_on is null
            )
),

final as (
    {%- for measure_kind, indicators in [('flow', flows), ('stock', stocks)] %}
        {%- for indicator_code, rows, contribution, condition in indicators %}
            select
                '{{ indicator_code }}'::text as indicator_code,
                date_day::date as date_day,
                agency_code::text as agency_code,
                raw_table::text as raw_table,
                batch_id::uuid as batch_id,
                record_index::int as record_index,
                ({{ contribution }})::numeric as contribution,
                '{{ measure_kind }}'::text as measure_kind
            from {{ rows }}
            where {{ condition }}
            {%- if not (loop.last and measure_kind == 'stock') %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
)

select * from final
