with

source as (
    select * from {{ source('registers', 'registers__complaints') }}
),

renamed as (
    select
        payload ->> 'Số đơn' as complaint_number,
        (payload ->> 'Ngày tiếp nhận')::date as received_on,
        payload ->> 'Người gửi' as sender,
        payload ->> 'Nội dung phản ánh, kiến nghị' as complaint_content,
        payload ->> 'Kết quả xử lý' as outcome,
        record_date as report_month_end,
        payload ->> '_file' as source_file,
        (payload ->> '_row')::integer as source_row,
        batch_id,
        loaded_at
    from source
)

select * from renamed
