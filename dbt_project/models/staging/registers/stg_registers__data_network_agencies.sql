with

source as (
    select * from {{ source('registers', 'registers__data_network_agencies') }}
),

renamed as (
    select
        payload ->> 'Mã cơ quan' as agency_code,
        payload ->> 'Tên cơ quan' as agency_name,
        (payload ->> 'Ngày kết nối')::date as connected_on,
        (payload ->> 'Ngày ngừng kết nối')::date as disconnected_on,
        record_date as report_month_end,
        payload ->> '_file' as source_file,
        (payload ->> '_row')::integer as source_row,
        batch_id,
        loaded_at
    from source
)

select * from renamed
