with

source as (
    select * from {{ source('docmgmt', 'docmgmt__documents') }}
),

renamed as (
    select
        (payload ->> 'id_van_ban')::bigint as document_id,
        payload ->> 'so_van_ban' as document_number,
        payload ->> 'don_vi_gui' as sender_agency_code,
        (payload ->> 'thoi_diem_gui')::timestamptz as sent_at,
        record_date as sent_on,
        case payload ->> 'hinh_thuc'
            when 'dien_tu' then 'electronic'
            when 'giay' then 'paper'
        end as medium,
        payload ->> 'loai_van_ban' as document_type,
        batch_id,
        loaded_at
    from source
)

select * from renamed
