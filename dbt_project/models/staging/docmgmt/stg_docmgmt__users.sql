with

source as (
    select * from {{ source('docmgmt', 'docmgmt__users') }}
),

renamed as (
    select
        (payload ->> 'id_nguoi_dung')::bigint as user_id,
        payload ->> 'ma_don_vi' as agency_code,
        payload ->> 'ten_dang_nhap' as username,
        payload ->> 'ho_ten' as full_name,
        (payload ->> 'ngay_tao')::timestamptz as created_at,
        (payload ->> 'ngay_khoa')::timestamptz as disabled_at,
        batch_id,
        loaded_at
    from source
)

select * from renamed
