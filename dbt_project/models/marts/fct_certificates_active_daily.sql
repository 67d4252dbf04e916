{{ config(indexes=[{'columns': ['date_day']}, {'columns': ['agency_code', 'date_day']}]) }}

-- Periodic snapshot: active digital-signature certificates per agency and holder type at the end of
-- each day, from each certificate's latest known version (a later revocation is reflected here once
-- it is loaded, on the days it applies to).

with

certificates as (
    select
        agency_code,
        holder_type,
        issued_at as started_at,
        least(expires_at, revoked_at) as ended_at
    from {{ ref('int_ca__certificates_current') }}
),

snapshot as (
    {{ running_stock('certificates', ['agency_code', 'holder_type'], 'active_certificates', 'ca') }}
),

final as (
    select
        date_day,
        agency_code,
        holder_type,
        active_certificates
    from snapshot
    where active_certificates <> 0
)

select * from final
