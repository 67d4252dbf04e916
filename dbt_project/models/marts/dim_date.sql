with

days as (
    select calendar_day::date as date_day
    from generate_series('2018-01-01'::date, '2030-12-31'::date, interval '1 day') as calendar_day
),

holidays as (
    select * from {{ ref('vn_public_holidays') }}
),

final as (
    select
        days.date_day,
        extract(year from days.date_day)::int as year_number,
        extract(quarter from days.date_day)::int as quarter_number,
        {{ quarter_label('days.date_day') }} as quarter_label,
        date_trunc('quarter', days.date_day)::date as quarter_start,
        (date_trunc('quarter', days.date_day) + interval '3 months - 1 day')::date as quarter_end,
        extract(month from days.date_day)::int as month_number,
        extract(isoyear from days.date_day)::int as iso_year,
        extract(week from days.date_day)::int as iso_week,
        extract(isodow from days.date_day)::int as iso_day_of_week,
        extract(isodow from days.date_day) in (6, 7) as is_weekend,
        holidays.holiday_date is not null as is_public_holiday,
        holidays.holiday_name_vi,
        holidays.holiday_name_en
    from days
    left join holidays on days.date_day = holidays.holiday_date
)

select * from final
