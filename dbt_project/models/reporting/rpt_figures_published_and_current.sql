-- Each figure as published (the latest version of its period) beside the value the warehouse holds
-- now: what auditors compare after a source revised a past day.

with

published as (
    select * from {{ source('published', 'current_figures') }}
),

current_figures as (
    select * from {{ ref('rpt_report_figures') }}
),

final as (
    select
        published.period::text as period,
        published.figure_id::text as figure_id,
        published.version::int as published_version,
        published.value::numeric(20, 6) as published_value,
        current_figures.figure_value::numeric(20, 6) as current_value,
        (published.value is distinct from current_figures.figure_value)::boolean as changed_since_publication
    from published
    left join current_figures
        on published.period = current_figures.period and published.figure_id = current_figures.figure_id
)

select * from final
