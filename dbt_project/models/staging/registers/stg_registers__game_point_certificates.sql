with

source as (
    select * from {{ source('registers', 'registers__game_point_certificates') }}
),

renamed as (
    select
        payload ->> 'Số giấy chứng nhận' as certificate_number,
        (payload ->> 'Ngày cấp')::date as issued_on,
        payload ->> 'Tên điểm cung cấp dịch vụ' as point_name,
        payload ->> 'Chủ điểm cung cấp dịch vụ' as owner_name,
        payload ->> 'Huyện, thị xã, thành phố' as district_name,
        record_date as report_month_end,
        payload ->> '_file' as source_file,
        (payload ->> '_row')::integer as source_row,
        batch_id,
        loaded_at
    from source
)

select * from renamed
