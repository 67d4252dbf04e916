{{ config(indexes=[{'columns': ['date_day']}]) }}

-- Periodic snapshot: agencies connected to the dedicated data network at the end of each day, read
-- from the register of the day's month (each month's sheet is the whole register as of its end).

with

register as (
    select * from {{ ref('stg_registers__data_network_agencies') }}
),

days as (
    select date_day from {{ ref('int_source_days') }}
    where source_key = 'registers'
),

covering_month as (
    select
        days.date_day,
        min(register.report_month_end) as report_month_end
    from days
    inner join register on days.date_day <= register.report_month_end
    group by days.date_day
),

final as (
    select
        covering_month.date_day,
        register.agency_code,
        register.batch_id as source_batch_id
    from covering_month
    inner join register
        on
            covering_month.report_month_end = register.report_month_end
            and covering_month.date_day >= register.connected_on
            and (covering_month.date_day < register.disconnected_on or register.disconnected_on is null)
)

select * from final
