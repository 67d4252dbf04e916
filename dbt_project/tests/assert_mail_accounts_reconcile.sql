-- Stock reconciliation of the official mailboxes, per agency and period: the accounts at the end
-- equal those at the start plus those created minus those closed. The opening stock is the first
-- day's closing total less that day's own flows, so a period reconciles on its own data alone.

with

days as (
    select * from {{ ref('fct_mail_accounts_daily') }}
),

periods as (
    select * from {{ ref('int_report_periods') }}
),

by_period as (
    select
        periods.period_label,
        days.agency_code,
        min(days.date_day) as first_day,
        max(days.date_day) as last_day,
        sum(days.accounts_created) as created,
        sum(days.accounts_closed) as closed
    from days
    inner join periods on days.date_day between periods.period_start and periods.period_end
    group by periods.period_label, days.agency_code
),

final as (
    select
        by_period.period_label,
        by_period.agency_code,
        opening.accounts_total - opening.accounts_created + opening.accounts_closed as opening_stock,
        by_period.created,
        by_period.closed,
        closing.accounts_total as closing_stock
    from by_period
    inner join days as opening
        on by_period.agency_code = opening.agency_code and by_period.first_day = opening.date_day
    inner join days as closing
        on by_period.agency_code = closing.agency_code and by_period.last_day = closing.date_day
    where
        closing.accounts_total
        <> opening.accounts_total - opening.accounts_created + opening.accounts_closed
        + by_period.created - by_period.closed
)

select * from final
