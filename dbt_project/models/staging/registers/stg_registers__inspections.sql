with

source as (
    select * from {{ source('registers', 'registers__inspections') }}
),

renamed as (
    select
        payload ->> 'Số quyết định' as decision_number,
        (payload ->> 'Ngày kiểm tra')::date as inspected_on,
        payload ->> 'Nội dung thanh tra, kiểm tra' as subject,
        (payload ->> 'Số tổ chức, cá nhân được kiểm tra')::integer as entities_inspected,
        (payload ->> 'Số tổ chức, cá nhân có thiếu sót, vi phạm')::integer as entities_with_violations,
        payload ->> 'Hình thức xử lý' as outcome,
        record_date as report_month_end,
        payload ->> '_file' as source_file,
        (payload ->> '_row')::integer as source_row,
        batch_id,
        loaded_at
    from source
)

select * from renamed
