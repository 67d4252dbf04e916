with

channels as (
    select * from {{ ref('channels') }}
)

select
    channel_code::text as channel_code,
    channel_name_vi::text as channel_name_vi,
    channel_name_en::text as channel_name_en,
    is_online::boolean as is_online
from channels
