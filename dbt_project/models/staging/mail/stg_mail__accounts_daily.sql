with

source as (
    select * from {{ source('mail', 'mail__accounts_daily') }}
),

renamed as (
    select
        record_date as report_date,
        payload ->> 'Mã đơn vị' as agency_code,
        payload ->> 'Tên đơn vị' as agency_name,
        (payload ->> 'Số tài khoản tạo mới')::integer as accounts_created,
        (payload ->> 'Số tài khoản đóng')::integer as accounts_closed,
        (payload ->> 'Tổng số tài khoản')::integer as accounts_total,
        payload ->> '_file' as source_file,
        (payload ->> '_line')::integer as source_line,
        batch_id,
        loaded_at
    from source
)

select * from renamed
