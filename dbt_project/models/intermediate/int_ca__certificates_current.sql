-- Each certificate's latest known state: the CA sends a new version on every change (issue,
-- revocation), so the version with the latest updated_at is the one that counts; a reloaded version
-- is the same row again and the later load wins.

with

versions as (
    select * from {{ ref('stg_ca__certificate_versions') }}
),

final as (
    select distinct on (certificate_serial)
        certificate_serial,
        holder_type,
        agency_code,
        issued_at,
        expires_at,
        revoked_at,
        updated_at,
        batch_id
    from versions
    order by certificate_serial asc, updated_at desc, loaded_at desc
)

select * from final
