with

source as (
    select * from {{ source('registers', 'registers__publishing_licences') }}
),

renamed as (
    select
        payload ->> 'Số giấy phép' as licence_number,
        (payload ->> 'Ngày cấp')::date as issued_on,
        payload ->> 'Tổ chức đề nghị cấp phép' as organisation,
        payload ->> 'Tên tài liệu' as document_title,
        (payload ->> 'Số lượng in (bản)')::integer as print_run,
        record_date as report_month_end,
        payload ->> '_file' as source_file,
        (payload ->> '_row')::integer as source_row,
        batch_id,
        loaded_at
    from source
)

select * from renamed
